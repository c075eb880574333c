"""Write llminfo/data/factual_qa.jsonl: short-answer factual questions written for llminfo.

Each source line below is `difficulty | question | alias; alias; ...`, grouped by
category. Numbers are stored as digits: `llminfo.text.normalize_answer` maps number
words to digits, so "four" matches "4". Answers were chosen to be correct and
unambiguous (no questions whose answer changed recently or is disputed).

Run: python scripts/make_factual_data.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for tests, which load this file by path
from _data_common import write_rows  # noqa: E402  (scripts/ is not a package)

OUT = Path(__file__).resolve().parents[1] / "llminfo" / "data" / "factual_qa.jsonl"

SOURCE: dict[str, str] = {
    "capitals": """
easy | What is the capital of France? | Paris
easy | What is the capital of Japan? | Tokyo
easy | What is the capital of Italy? | Rome
easy | What is the capital of the United Kingdom? | London
easy | What is the capital of Germany? | Berlin
easy | What is the capital of Spain? | Madrid
easy | What is the capital of Russia? | Moscow
easy | What is the capital of China? | Beijing; Peking
easy | What is the capital of the United States? | Washington; Washington, D.C.; Washington DC
easy | What is the capital of Egypt? | Cairo
easy | What is the capital of England? | London
easy | What is the capital of Greece? | Athens
medium | What is the capital of Canada? | Ottawa
medium | What is the capital of Australia? | Canberra
medium | What is the capital of Brazil? | Brasília; Brasilia
medium | What is the capital of Turkey? | Ankara
medium | What is the capital of Argentina? | Buenos Aires
medium | What is the capital of Kenya? | Nairobi
medium | What is the capital of Norway? | Oslo
medium | What is the capital of Sweden? | Stockholm
medium | What is the capital of Portugal? | Lisbon; Lisboa
medium | What is the capital of Poland? | Warsaw; Warszawa
medium | What is the capital of Ireland? | Dublin
medium | What is the capital of India? | New Delhi; Delhi
medium | What is the capital of South Korea? | Seoul
medium | What is the capital of Thailand? | Bangkok
medium | What is the capital of Austria? | Vienna; Wien
medium | What is the capital of Nigeria? | Abuja
hard | What is the capital of Mongolia? | Ulaanbaatar; Ulan Bator
hard | What is the capital of Burkina Faso? | Ouagadougou
hard | What is the capital of Bhutan? | Thimphu
hard | What is the capital of Kyrgyzstan? | Bishkek
hard | What is the capital of Eritrea? | Asmara
hard | What is the capital of Paraguay? | Asunción; Asuncion
hard | What is the capital of Laos? | Vientiane
hard | What is the capital of Madagascar? | Antananarivo
hard | What is the capital of Suriname? | Paramaribo
hard | What is the capital of Slovenia? | Ljubljana
hard | What is the capital of Tajikistan? | Dushanbe
hard | What is the capital of Malawi? | Lilongwe
hard | What is the capital of Myanmar? | Naypyidaw; Nay Pyi Taw; Naypyitaw
hard | What is the capital of Uruguay? | Montevideo
""",
    "authors": """
easy | Who wrote "Romeo and Juliet"? | William Shakespeare; Shakespeare
easy | Who wrote the Harry Potter books? | J. K. Rowling; JK Rowling; Rowling
easy | Who wrote "Hamlet"? | William Shakespeare; Shakespeare
medium | Who wrote "Pride and Prejudice"? | Jane Austen; Austen
medium | Who wrote the novel "1984"? | George Orwell; Orwell; Eric Blair
medium | Who wrote "Moby-Dick"? | Herman Melville; Melville
medium | Who wrote "War and Peace"? | Leo Tolstoy; Tolstoy; Lev Tolstoy
medium | Which ancient Greek poet is credited with "The Odyssey"? | Homer
medium | Who wrote "Don Quixote"? | Miguel de Cervantes; Cervantes
medium | Who wrote "The Great Gatsby"? | F. Scott Fitzgerald; Scott Fitzgerald; Fitzgerald
medium | Who wrote "The Adventures of Tom Sawyer"? | Mark Twain; Twain; Samuel Clemens
medium | Who wrote "Frankenstein"? | Mary Shelley; Mary Wollstonecraft Shelley
medium | Who wrote "On the Origin of Species"? | Charles Darwin; Darwin
medium | Who wrote "A Christmas Carol"? | Charles Dickens; Dickens
medium | Who wrote "The Hobbit"? | J. R. R. Tolkien; JRR Tolkien; Tolkien
medium | Who wrote "Alice's Adventures in Wonderland"? | Lewis Carroll; Carroll; Charles Dodgson
medium | Who wrote "To Kill a Mockingbird"? | Harper Lee
medium | Who wrote the poem "The Raven"? | Edgar Allan Poe; Poe
medium | Who wrote "Les Misérables"? | Victor Hugo; Hugo
medium | Who wrote "Oliver Twist"? | Charles Dickens; Dickens
hard | Who wrote "One Hundred Years of Solitude"? | Gabriel García Márquez; Gabriel Garcia Marquez; García Márquez; Marquez
hard | Who wrote "The Brothers Karamazov"? | Fyodor Dostoevsky; Dostoevsky; Dostoyevsky
hard | Who wrote "Madame Bovary"? | Gustave Flaubert; Flaubert
hard | Who wrote "Middlemarch"? | George Eliot; Mary Ann Evans
hard | Who wrote "The Metamorphosis", in which Gregor Samsa turns into an insect? | Franz Kafka; Kafka
hard | Who wrote "The Canterbury Tales"? | Geoffrey Chaucer; Chaucer
hard | Who wrote the epic poem "Paradise Lost"? | John Milton; Milton
hard | Who wrote "Things Fall Apart"? | Chinua Achebe; Achebe
hard | Who wrote "The Tale of Genji"? | Murasaki Shikibu; Lady Murasaki; Murasaki
hard | Who wrote "The Wealth of Nations"? | Adam Smith
hard | Who wrote "Wuthering Heights"? | Emily Brontë; Emily Bronte
hard | Who wrote "Jane Eyre"? | Charlotte Brontë; Charlotte Bronte
hard | Who wrote "Dracula"? | Bram Stoker; Stoker
hard | Who wrote "Robinson Crusoe"? | Daniel Defoe; Defoe
hard | Who wrote "Gulliver's Travels"? | Jonathan Swift; Swift
hard | Who wrote "Crime and Punishment"? | Fyodor Dostoevsky; Dostoevsky; Dostoyevsky
""",
    "science": """
easy | Which planet do humans live on? | Earth
easy | What is the chemical formula H2O commonly called? | water
easy | What star is at the center of our solar system? | Sun
easy | Which planet is known as the Red Planet? | Mars
easy | What gas do humans need to breathe in to live? | oxygen
easy | What force pulls objects toward the ground on Earth? | gravity
easy | At what temperature in degrees Celsius does water freeze? | 0
easy | At what temperature in degrees Celsius does water boil at sea level? | 100
medium | What is the largest planet in our solar system? | Jupiter
medium | How many planets are in our solar system? | 8
medium | Which planet is closest to the Sun? | Mercury
medium | Which planet is famous for its large, bright rings? | Saturn
medium | What gas do plants absorb from the air for photosynthesis? | carbon dioxide; CO2
medium | What is the chemical symbol for gold? | Au
medium | What is the chemical symbol for sodium? | Na
medium | Which element has the chemical symbol Fe? | iron
medium | What is the hardest natural substance? | diamond
medium | Which organelle is known as the powerhouse of the cell? | mitochondria; mitochondrion
medium | Who developed the theory of relativity? | Albert Einstein; Einstein
medium | Who discovered penicillin in 1928? | Alexander Fleming; Fleming
medium | What is the atomic number of hydrogen? | 1
medium | What is the largest organ of the human body? | skin
medium | Which particle in an atom carries a negative charge? | electron
medium | Who formulated the three laws of motion and the law of universal gravitation? | Isaac Newton; Newton
medium | How many chambers does the human heart have? | 4
medium | What is the pH of pure water at 25 degrees Celsius? | 7
hard | What is the atomic number of carbon? | 6
hard | What is the atomic number of iron? | 26
hard | What is the chemical symbol for tungsten? | W
hard | Which element has the chemical symbol K? | potassium
hard | What is the most abundant gas in Earth's atmosphere? | nitrogen
hard | How many bones are in the adult human body? | 206
hard | How many chromosomes does a normal human body cell contain? | 46; 23 pairs
hard | Which noble gas has atomic number 10? | neon
hard | Which astronomer published the heliocentric model of the solar system in 1543? | Nicolaus Copernicus; Copernicus
hard | Which vitamin does human skin produce when exposed to sunlight? | vitamin D; D3; cholecalciferol
""",
    "geography": """
easy | What is the largest ocean on Earth? | Pacific; Pacific Ocean
easy | On which continent is Egypt? | Africa
easy | What is the tallest mountain in the world? | Mount Everest; Everest; Mt. Everest
easy | On which continent is Brazil? | South America
easy | In which country is the city of Sydney? | Australia
easy | How many continents are there? | 7
easy | What is the largest country in the world by area? | Russia; Russian Federation
medium | What river flows through London? | Thames; River Thames
medium | What river flows through Paris? | Seine
medium | What is the largest hot desert in the world? | Sahara; Sahara Desert
medium | In which country is Machu Picchu? | Peru
medium | What is the largest island in the world? | Greenland
medium | What is the smallest country in the world by area? | Vatican City; Vatican; Holy See
medium | Which US state is the largest by area? | Alaska
medium | In which country is Mount Kilimanjaro? | Tanzania
medium | What is the largest country in South America by area? | Brazil
medium | Which ocean lies between Africa and Australia? | Indian Ocean; Indian
medium | In which country are the pyramids of Giza? | Egypt
medium | Which desert covers much of Mongolia and northern China? | Gobi; Gobi Desert
hard | What is the largest lake in Africa? | Lake Victoria; Victoria
hard | What is the longest mountain range on land? | Andes; Andes Mountains
hard | What is the highest uninterrupted waterfall in the world? | Angel Falls; Salto Ángel; Kerepakupai Merú
hard | What is the deepest oceanic trench on Earth? | Mariana Trench; Marianas Trench; Mariana
hard | Which strait separates Spain from Morocco? | Strait of Gibraltar; Gibraltar
hard | In which country is the city of Timbuktu? | Mali
hard | What is the largest country in Africa by area? | Algeria
hard | Which sea lies between Italy and the Balkan Peninsula? | Adriatic Sea; Adriatic
hard | Into which sea does the Danube River flow? | Black Sea
hard | In which mountain range is K2? | Karakoram; Karakorum
hard | What is the capital city of the Australian state of Victoria? | Melbourne
hard | What is the largest freshwater lake in the world by surface area? | Lake Superior; Superior
hard | Which river flows through Baghdad? | Tigris
hard | In which country is the Atacama Desert? | Chile
hard | What is the longest river in Europe? | Volga
""",
    "history": """
easy | In what year did World War II end? | 1945
easy | In what year did Christopher Columbus first reach the Americas? | 1492
easy | Who was the first president of the United States? | George Washington; Washington
easy | Who was the first person to walk on the Moon? | Neil Armstrong; Armstrong
medium | In what year did World War I begin? | 1914
medium | In what year did humans first land on the Moon? | 1969
medium | In what year was the United States Declaration of Independence signed? | 1776
medium | In what year did the Berlin Wall fall? | 1989
medium | In what year did the French Revolution begin? | 1789
medium | In what year did the Titanic sink? | 1912
medium | Who painted the Mona Lisa? | Leonardo da Vinci; da Vinci; Leonardo
medium | In what year did World War I end? | 1918
medium | Which ancient civilization built the pyramids of Giza? | Egyptians; ancient Egyptians; Egyptian; Egypt
medium | Who was the first woman to win a Nobel Prize? | Marie Curie; Curie; Marie Skłodowska-Curie
medium | In what year was the Battle of Hastings? | 1066
medium | In what year did the Japanese attack on Pearl Harbor take place? | 1941
medium | In what year did the Soviet Union dissolve? | 1991
hard | In what year was the Magna Carta sealed? | 1215
hard | In what year was Abraham Lincoln assassinated? | 1865
hard | In what year did Constantinople fall to the Ottoman Turks? | 1453
hard | In what year was the Battle of Waterloo? | 1815
hard | In what year did Martin Luther publish his Ninety-five Theses? | 1517
hard | In what year was Napoleon crowned Emperor of the French? | 1804
hard | In what year was the Peace of Westphalia signed? | 1648
hard | In what year was the Spanish Armada defeated? | 1588
hard | In what year did India gain independence from Britain? | 1947
hard | In what year did the Wall Street Crash happen? | 1929
hard | In what year did the Chernobyl nuclear disaster happen? | 1986
hard | In what year did the American Civil War begin? | 1861
hard | In what year did the Russian Revolution take place? | 1917
hard | In what year did the Wright brothers make their first powered flight? | 1903
hard | In what year did Queen Victoria's reign begin? | 1837
hard | In what year did Nelson Mandela become president of South Africa? | 1994
hard | In what year was the Berlin Wall built? | 1961
hard | Who was the first emperor of Rome? | Augustus; Octavian; Caesar Augustus
hard | In what year were East and West Germany reunified? | 1990
hard | In what year was the first iPhone released? | 2007
""",
    "arithmetic": """
easy | What is 2 + 3? | 5
easy | What is 1 + 1? | 2
easy | What is 4 + 4? | 8
easy | What is 10 - 4? | 6
easy | What is 3 + 4? | 7
easy | What is 5 + 5? | 10
easy | What is 2 x 3? | 6
easy | What is 9 - 5? | 4
easy | What is 6 + 3? | 9
medium | What is 7 + 8? | 15
medium | What is 3 x 4? | 12
medium | What is 6 x 7? | 42
medium | What is 9 x 8? | 72
medium | What is 15 + 27? | 42
medium | What is 100 - 37? | 63
medium | What is 56 divided by 7? | 8
medium | What is 25 x 4? | 100
medium | What is 12 x 12? | 144
medium | What is half of 50? | 25
medium | What is 11 x 11? | 121
hard | What is 17 x 23? | 391
hard | What is 13 x 14? | 182
hard | What is 345 + 678? | 1023
hard | What is 1000 - 387? | 613
hard | What is the square root of 169? | 13
hard | What is 2 to the power of 10? | 1024
hard | What is 15 percent of 200? | 30
hard | What is 729 divided by 9? | 81
hard | What is 48 x 25? | 1200
hard | What is 19 squared? | 361
hard | What is 7 cubed? | 343
hard | What is 1001 - 999? | 2
hard | What is 84 divided by 4? | 21
""",
    "units": """
easy | How many days are in a week? | 7
easy | How many hours are in a day? | 24
easy | How many minutes are in an hour? | 60
easy | How many months are in a year? | 12
easy | How many seconds are in a minute? | 60
easy | How many centimeters are in a meter? | 100
easy | How many years are in a century? | 100
easy | How many years are in a decade? | 10
medium | How many grams are in a kilogram? | 1000
medium | How many meters are in a kilometer? | 1000
medium | How many days are in a leap year? | 366
medium | How many inches are in a foot? | 12
medium | How many feet are in a yard? | 3
medium | How many milliliters are in a liter? | 1000
medium | How many millimeters are in a centimeter? | 10
medium | How many weeks are in a year? | 52
medium | How many years are in a millennium? | 1000
medium | What is the SI unit of electric current? | ampere; amp; amperes; amps
medium | What is the SI unit of energy? | joule; joules
medium | What is the SI unit of power? | watt; watts
hard | How many seconds are in an hour? | 3600
hard | How many minutes are in a day? | 1440
hard | How many ounces are in a pound? | 16
hard | How many feet are in a mile? | 5280
hard | How many yards are in a mile? | 1760
hard | How many centimeters are in an inch? | 2.54
hard | What is the SI unit of force? | newton; newtons
hard | What is the SI unit of frequency? | hertz
hard | What is the SI unit of electrical resistance? | ohm; ohms
hard | What is the SI base unit of thermodynamic temperature? | kelvin
hard | What is the SI base unit of mass? | kilogram; kilograms; kg
hard | How many US quarts are in a US gallon? | 4
hard | How many pounds are in a stone? | 14
""",
    "animals": """
easy | How many legs does a dog have? | 4
easy | What sound does a cow make? | moo
easy | Which animal is known as the king of the jungle? | lion
easy | What is the largest animal on Earth? | blue whale
easy | What is the fastest land animal? | cheetah
easy | How many legs does a spider have? | 8
easy | What do bees make? | honey
easy | What is a baby cat called? | kitten; kitty
easy | What is a baby dog called? | puppy; pup
easy | Which animal has a long trunk? | elephant
easy | What is the tallest animal? | giraffe
easy | Which animal has black and white stripes and lives in Africa? | zebra
medium | How many legs does an insect have? | 6
medium | What is a group of lions called? | pride
medium | What is a baby kangaroo called? | joey
medium | What is a young cow called? | calf
medium | What is a male chicken called? | rooster; cock; cockerel
medium | What is a group of wolves called? | pack
medium | What is the largest bird in the world? | ostrich
medium | Which mammal is capable of true flight? | bat
medium | What kind of animal is a frog? | amphibian
medium | What does a caterpillar turn into? | butterfly; moth; butterflies; moths
medium | What is a baby horse called? | foal; colt; filly
medium | What is the main food of giant pandas? | bamboo
medium | What is a baby goat called? | kid
hard | How many hearts does an octopus have? | 3
hard | What is a group of crows called? | murder
hard | What is a baby swan called? | cygnet
hard | What is a male bee called? | drone
hard | What is the largest species of shark? | whale shark
hard | What is the fastest bird in a dive? | peregrine falcon; peregrine
hard | What is a female fox called? | vixen
hard | What is a baby owl called? | owlet
hard | What is the largest living species of reptile? | saltwater crocodile; estuarine crocodile
hard | What do koalas mainly eat? | eucalyptus; eucalyptus leaves; gum leaves
hard | What is a group of geese on the ground called? | gaggle
""",
    "everyday": """
easy | What color is the sky on a clear day? | blue
easy | What color is grass? | green
easy | What color is a ripe banana? | yellow
easy | What do you call frozen water? | ice
easy | What color do you get by mixing blue and yellow? | green
easy | What color do you get by mixing red and white? | pink
easy | What color do you get by mixing red and yellow? | orange
easy | What color traffic light means stop? | red
easy | What tool do you use to cut paper? | scissors
easy | How many sides does a triangle have? | 3
easy | How many sides does a square have? | 4
easy | How many wheels does a bicycle have? | 2
easy | Which meal is eaten in the morning? | breakfast
easy | What season comes after winter? | spring
easy | Which holiday is celebrated on December 25? | Christmas; Christmas Day
easy | What is the opposite of hot? | cold
easy | Which musical instrument has black and white keys? | piano
medium | How many sides does a hexagon have? | 6
medium | How many sides does an octagon have? | 8
medium | How many sides does a pentagon have? | 5
medium | How many players does a soccer team have on the field at one time? | 11
medium | How many strings does a standard guitar have? | 6
medium | How many cards are in a standard deck, without jokers? | 52
medium | How many squares are on a chessboard? | 64
medium | What do you call a doctor who treats teeth? | dentist
medium | What is the main ingredient of guacamole? | avocado; avocados
medium | Which fruit is dried to make raisins? | grapes; grape
medium | How many wheels does a tricycle have? | 3
medium | Which sport uses a shuttlecock? | badminton
medium | What is the currency of Japan? | yen; Japanese yen
medium | What gemstone is green and is the traditional May birthstone? | emerald
hard | How many keys does a standard piano have? | 88
hard | How many players does a basketball team have on the court at one time? | 5
hard | Which chess piece can only move diagonally? | bishop
hard | What is the currency of the United Kingdom? | pound; pound sterling; pounds; sterling; British pound
hard | How many dots are on a standard six-sided die in total? | 21
hard | In tennis, what is a score of zero called? | love
hard | How many minutes long is a standard soccer match, not counting stoppage time? | 90
""",
    "language": """
easy | What is the opposite of "up"? | down
easy | What is the plural of "child"? | children
easy | What is the past tense of "go"? | went
easy | What is the plural of "mouse"? | mice
easy | What is the past tense of "eat"? | ate
easy | What is the opposite of "big"? | small; little
easy | What language is mainly spoken in Mexico? | Spanish
easy | How many letters are in the English alphabet? | 26
easy | What is the last letter of the English alphabet? | Z; zed; zee
medium | What language is mainly spoken in Brazil? | Portuguese
medium | How do you say "hello" in Spanish? | hola
medium | How do you say "thank you" in French? | merci
medium | How do you say "yes" in German? | ja
medium | What is the Spanish word for "cat"? | gato
medium | What is the plural of "goose"? | geese
medium | What is the plural of "tooth"? | teeth
medium | What is the past tense of "run"? | ran
medium | What is the past tense of "swim"? | swam
medium | What language is mainly spoken in Austria? | German
medium | What is the official language of Egypt? | Arabic
medium | What is the Spanish word for "friend"? | amigo
medium | Which language has the most native speakers in the world? | Mandarin; Mandarin Chinese; Chinese
hard | What is the Japanese word for "water"? | mizu
hard | What is the French word for "book"? | livre
hard | What is the German word for "dog"? | Hund
hard | What is the Italian word for "bread"? | pane
hard | What is the official language of Iran? | Persian; Farsi
hard | What is the French word for "water"? | eau
hard | Which alphabet is used to write Russian? | Cyrillic
hard | What does the Latin phrase "carpe diem" mean? | seize the day; pluck the day
hard | What part of speech is the word "quickly"? | adverb
hard | What part of speech is a word that describes a noun? | adjective
hard | What is the plural of "cactus"? | cacti; cactuses
hard | What is the German word for "thank you"? | danke; danke schön; danke schoen
hard | What is the past participle of "write"? | written
""",
}


# Added after measuring the embedded model (about 30 % right on the set above): mostly easy
# questions, appended so that the ids of the rows above stay stable.
SOURCE_EXTRA: dict[str, str] = {
    "capitals": """
easy | What is the capital of Belgium? | Brussels; Bruxelles
easy | What is the capital of Denmark? | Copenhagen
easy | What is the capital of Finland? | Helsinki
easy | What is the capital of Hungary? | Budapest
easy | What is the capital of the Czech Republic? | Prague; Praha
easy | What is the capital of Cuba? | Havana; La Habana
easy | What is the capital of Peru? | Lima
easy | What is the capital of Chile? | Santiago; Santiago de Chile
easy | What is the capital of the Philippines? | Manila
easy | What is the capital of Indonesia? | Jakarta
easy | What is the capital of Vietnam? | Hanoi; Ha Noi
easy | What is the capital of Iran? | Tehran; Teheran
easy | What is the capital of Iraq? | Baghdad
easy | What is the capital of Saudi Arabia? | Riyadh
easy | What is the capital of Ukraine? | Kyiv; Kiev
easy | What is the capital of Scotland? | Edinburgh
medium | What is the capital of Colombia? | Bogotá; Bogota
medium | What is the capital of Venezuela? | Caracas
medium | What is the capital of Romania? | Bucharest; București
medium | What is the capital of Ethiopia? | Addis Ababa
medium | What is the capital of Ghana? | Accra
medium | What is the capital of Wales? | Cardiff
medium | What is the capital of Pakistan? | Islamabad
medium | What is the capital of Bangladesh? | Dhaka; Dacca
medium | What is the capital of Afghanistan? | Kabul
medium | What is the capital of Syria? | Damascus
medium | What is the capital of Lebanon? | Beirut
medium | What is the capital of Malaysia? | Kuala Lumpur
medium | What is the capital of Serbia? | Belgrade; Beograd
medium | What is the capital of Qatar? | Doha
""",
    "everyday": """
easy | What color is snow? | white
easy | What color is a ripe strawberry? | red
easy | What color is coal? | black
easy | What color are most leaves in summer? | green
easy | What is the opposite of day? | night
easy | What drink do cows produce? | milk
easy | What do teachers traditionally write with on a blackboard? | chalk
easy | How many fingers are on one human hand, including the thumb? | 5
easy | How many eyes does a person have? | 2
easy | How many wheels does a car usually have? | 4
easy | What do you call the main meal eaten in the evening? | dinner; supper
easy | Which season is usually the coldest? | winter
easy | Which season is usually the hottest? | summer
easy | Which day of the week comes after Monday? | Tuesday
easy | Which day of the week comes before Sunday? | Saturday
easy | Which month comes after January? | February
easy | What is the first month of the year? | January
easy | What is the last month of the year? | December
medium | How many days are there in January? | 31
medium | Which cartoon mouse was created by Walt Disney? | Mickey Mouse; Mickey
""",
    "arithmetic": """
easy | What is 2 + 2? | 4
easy | What is 3 + 3? | 6
easy | What is 1 + 2? | 3
easy | What is 10 + 10? | 20
easy | What is 5 - 2? | 3
easy | What is 4 x 2? | 8
easy | What is 8 + 1? | 9
easy | What is 10 - 3? | 7
easy | What is 2 x 5? | 10
easy | What is 5 + 4? | 9
easy | What is 100 + 100? | 200
easy | What is 3 x 3? | 9
""",
    "science": """
easy | What is the name of Earth's natural satellite? | Moon; Luna
easy | Which organ pumps blood around the human body? | heart
easy | Which organ do humans think with? | brain; brains
easy | What gas do humans breathe out that plants use? | carbon dioxide; CO2
easy | Which part of a plant usually grows underground? | root; roots
medium | Which planet is third from the Sun? | Earth
""",
    "animals": """
easy | Which farm animal gives us wool? | sheep
easy | Which bird lays the eggs people most often eat? | chicken; hen
easy | Which black and white bear eats bamboo? | panda; giant panda
easy | What is the largest land animal? | elephant; African elephant
easy | What is a baby sheep called? | lamb
easy | What is a baby chicken called? | chick
easy | Which Australian animal hops and carries its baby in a pouch? | kangaroo
easy | Which animal is often called man's best friend? | dog
easy | Which sea animal has eight arms? | octopus
easy | Which animal says "meow"? | cat; kitten
medium | Which bird is a traditional symbol of peace? | dove
medium | Which reptile is famous for changing its color? | chameleon
""",
    "geography": """
easy | In which country is the Eiffel Tower? | France
easy | In which country is the Statue of Liberty? | United States; USA; US; America; United States of America
easy | In which country is the Great Wall? | China
easy | In which country is the Colosseum? | Italy
easy | In which city is Big Ben? | London
easy | In which country is the Taj Mahal? | India
easy | Which country is famous for kangaroos and koalas? | Australia
easy | Which continent is the coldest? | Antarctica
easy | What is the largest continent? | Asia
easy | Which city is famous for its canals and gondolas? | Venice; Venezia
medium | Which ocean lies between the Americas and Europe? | Atlantic; Atlantic Ocean
medium | Which US city is nicknamed the Big Apple? | New York; New York City; NYC
""",
    "authors": """
easy | Who wrote "Macbeth"? | William Shakespeare; Shakespeare
easy | Who wrote "The Lord of the Rings"? | J. R. R. Tolkien; JRR Tolkien; Tolkien
medium | Who wrote "The Cat in the Hat"? | Dr. Seuss; Dr Seuss; Seuss; Theodor Geisel
medium | Who created the detective Sherlock Holmes? | Arthur Conan Doyle; Conan Doyle; Doyle
medium | Who wrote "Charlie and the Chocolate Factory"? | Roald Dahl; Dahl
medium | Who wrote "The Jungle Book"? | Rudyard Kipling; Kipling
medium | Who wrote "Peter Pan"? | J. M. Barrie; JM Barrie; Barrie
medium | Who wrote "Adventures of Huckleberry Finn"? | Mark Twain; Twain; Samuel Clemens
""",
    "history": """
easy | Which scientist is famous for the story of an apple falling on his head? | Isaac Newton; Newton
medium | Who is credited with inventing the telephone? | Alexander Graham Bell; Graham Bell; Bell
medium | Who was the first person to travel into space? | Yuri Gagarin; Gagarin
medium | Who was the British prime minister for most of World War II? | Winston Churchill; Churchill
""",
    "units": """
easy | How many days are in a year that is not a leap year? | 365
easy | How many hours are in half a day? | 12
easy | How many minutes are in half an hour? | 30
easy | How many cents are in a US dollar? | 100
easy | How many days are in two weeks? | 14
""",
    "language": """
easy | What is the plural of "foot"? | feet
easy | What is the past tense of "see"? | saw
easy | What is the past tense of "write"? | wrote
easy | What is the opposite of "happy"? | sad; unhappy
easy | What is the opposite of "fast"? | slow
easy | What language is mainly spoken in France? | French
easy | What language is mainly spoken in Germany? | German
easy | What language is mainly spoken in Italy? | Italian
easy | What language is mainly spoken in Japan? | Japanese
easy | What language is mainly spoken in England? | English
medium | How do you say "hello" in French? | bonjour; salut
""",
}


def parse() -> list[dict]:
    rows = []
    blocks = list(SOURCE.items()) + list(SOURCE_EXTRA.items())
    for category, block in blocks:
        for line in block.strip().splitlines():
            difficulty, question, answers = (part.strip() for part in line.split("|"))
            aliases = [a.strip() for a in answers.split(";") if a.strip()]
            rows.append(
                {"question": question, "answers": aliases, "category": category, "difficulty": difficulty}
            )
    return [{"id": f"fqa-{i:04d}", **row} for i, row in enumerate(rows, 1)]


def main() -> None:
    rows = parse()
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["difficulty"]] = counts.get(r["difficulty"], 0) + 1
    write_rows(OUT, rows, f"({counts})")


if __name__ == "__main__":
    main()
