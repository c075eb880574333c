"""Write bench_results/fresh2_factual_qa.jsonl: a second never-seen factual question set (issue #17).

320 short-answer questions written after every choice the project made (methods, calibrators,
thresholds), none asking a fact that the shipped set (`llminfo/data/factual_qa.jsonl`) or the
first fresh set (`bench_results/fresh_factual_qa.jsonl`) asks. No language model was run on
them when they were written: they stay unseen until they are measured once.

Each source line is `difficulty | question | alias; alias; ... | subject`. The subject names
the entity the question is about (a country, a book, an operation such as `6+2`); before
writing, `check_overlap` looks the subject up in every question and answer of the other two
sets and refuses to write while a hit is not listed in `REVIEWED` with the reason it is a
different fact. Arithmetic subjects are compared as canonical operations, so "What is 3 + 2?"
collides with "What is 2 + 3?". Difficulty is judged for a 135M–270M model: easy = anyone
knows it, hard = a quiz-night question.

Run: python scripts/make_fresh2_data.py   (then scripts/check_question_set.py on the output)
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]  # scripts/ is not a package

from _data_common import write_rows  # noqa: E402
from check_question_set import arithmetic_key, read_rows  # noqa: E402
from llminfo.text import normalize_answer  # noqa: E402

OUT = ROOT / "bench_results" / "fresh2_factual_qa.jsonl"
OTHERS = (ROOT / "llminfo" / "data" / "factual_qa.jsonl", ROOT / "bench_results" / "fresh_factual_qa.jsonl")

SOURCE: dict[str, str] = {
    "capitals": """
easy | What is the capital of Mexico? | Mexico City; Ciudad de México | Mexico
medium | What is the capital of the US state of Hawaii? | Honolulu | Hawaii
medium | What is the capital of North Korea? | Pyongyang | North Korea
medium | What is the capital of Bulgaria? | Sofia | Bulgaria
medium | What is the capital of Jordan? | Amman | Jordan
medium | What is the capital of the United Arab Emirates? | Abu Dhabi | United Arab Emirates
medium | What is the capital of Algeria? | Algiers | Algeria
medium | What is the capital of the German state of Bavaria? | Munich; München | Bavaria
medium | What is the capital of Northern Ireland? | Belfast | Northern Ireland
medium | What is the capital of Libya? | Tripoli | Libya
hard | What is the capital of Latvia? | Riga | Latvia
hard | What is the capital of the country of Georgia? | Tbilisi | Georgia
hard | What is the capital of Armenia? | Yerevan | Armenia
hard | What is the capital of Azerbaijan? | Baku | Azerbaijan
hard | What is the capital of Estonia? | Tallinn | Estonia
hard | What is the capital of Lithuania? | Vilnius | Lithuania
hard | What is the capital of Slovakia? | Bratislava | Slovakia
hard | What is the capital of Ecuador? | Quito | Ecuador
hard | What is the capital of Costa Rica? | San José; San Jose | Costa Rica
hard | What is the capital of Cambodia? | Phnom Penh | Cambodia
hard | What is the capital of the US state of Texas? | Austin | Texas
hard | What is the capital of the US state of California? | Sacramento | California
hard | What is the capital of Belarus? | Minsk | Belarus
hard | What is the capital of Uzbekistan? | Tashkent | Uzbekistan
hard | What is the capital of Albania? | Tirana; Tirane | Albania
hard | What is the capital of Somalia? | Mogadishu | Somalia
hard | What is the capital of Zimbabwe? | Harare | Zimbabwe
hard | What is the capital of Senegal? | Dakar | Senegal
hard | What is the capital of Cyprus? | Nicosia | Cyprus
hard | What is the capital of Malta? | Valletta | Malta
""",
    "everyday": """
easy | What color is a lemon? | yellow | lemon
easy | What color do you get by mixing red and blue? | purple; violet | mixing red and blue
easy | What color do you get by mixing black and white? | gray; grey | mixing black and white
easy | In which direction does the sun rise? | east | sunrise
easy | What do you use to unlock a door? | key; keys | unlock a door
easy | Which meal do people eat in the middle of the day? | lunch | lunch
easy | Which day of the week comes after Wednesday? | Thursday | Wednesday
easy | Which month comes before April? | March | April
easy | Which season comes after summer? | autumn; fall | after summer
easy | What tool do you use to drive a nail into wood? | hammer | nail
easy | What do you call a person who flies an airplane? | pilot; aviator | flies an airplane
easy | Which fruit is said to keep the doctor away if you eat one a day? | apple; apples | doctor away
easy | Which holiday is celebrated on October 31? | Halloween; Hallowe'en | October 31
easy | Which holiday is celebrated on February 14? | Valentine's Day; Saint Valentine's Day; Valentine's; Valentine | February 14
easy | In which game do players say "checkmate"? | chess | checkmate
easy | What do you call the place where you can borrow books? | library | borrow books
easy | What do you use to brush your teeth? | toothbrush | brush your teeth
easy | How many wheels does a unicycle have? | 1; one | unicycle
easy | What is the opposite of north? | south | north
easy | What color is a carrot? | orange | carrot
easy | What do you call the time of day when the sun goes down? | sunset; sundown; dusk | sun goes down
easy | What do you call a person who teaches students at a school? | teacher; schoolteacher | teaches students
easy | What do you use to write on paper with ink? | pen; pens | write with ink
easy | Which room in a house is used for cooking? | kitchen | cooking room
easy | What do you wear on your hands to keep them warm? | gloves; glove; mittens; mitten | hands warm
easy | What flat shape is perfectly round, with no corners? | circle | round shape
medium | How many zeros are in one million? | 6; six | one million
medium | How many suits are in a standard deck of playing cards? | 4; four | suits
medium | Which board game has properties called Boardwalk and Park Place? | Monopoly | Boardwalk
medium | What do you call a doctor who treats animals? | veterinarian; vet; veterinary surgeon | doctor who treats animals
medium | Which instrument is used to measure body temperature? | thermometer | measure body temperature
medium | Which US holiday is celebrated on the fourth Thursday of November? | Thanksgiving; Thanksgiving Day | fourth Thursday of November
hard | Which gemstone is the traditional birthstone for April? | diamond | April birthstone
hard | What is the name for the number one followed by one hundred zeros? | googol | one hundred zeros
hard | Which chess piece moves in an L shape? | knight | L shape
""",
    "animals": """
easy | What sound does a dog make? | bark; barks; woof | dog sound
easy | What sound does a duck make? | quack; quacks | duck sound
easy | What sound does a pig make? | oink; oinks | pig sound
easy | How many legs does a bird have? | 2; two | bird legs
easy | Which animal is known as the ship of the desert? | camel; camels | ship of the desert
easy | What is a baby pig called? | piglet | baby pig
easy | What is a baby duck called? | duckling | baby duck
easy | Which animal builds dams across rivers? | beaver; beavers | builds dams
easy | What kind of animal is a Dalmatian? | dog | Dalmatian
easy | Which bird hoots at night? | owl; owls | hoots
easy | Which black-and-white flightless bird lives in Antarctica? | penguin; penguins | flightless bird Antarctica
easy | What do bees live in? | hive; hives; beehive; beehives | bees live
easy | What sound does a lion make? | roar; roars | lion sound
easy | Which animal says "neigh"? | horse; horses; pony | neigh
easy | What color is a flamingo? | pink | flamingo
easy | In the fable, which slow animal races against the hare? | tortoise; turtle | race against the hare
medium | What do you call an animal that eats only plants? | herbivore; herbivores | eats only plants
medium | What do you call an animal that eats only meat? | carnivore; carnivores | eats only meat
medium | What is a baby bear called? | cub | baby bear
medium | What is a baby deer called? | fawn | baby deer
medium | What is a baby frog called? | tadpole; polliwog; pollywog | baby frog
medium | What is a group of fish called? | school; shoal | group of fish
medium | Which egg-laying mammal has a bill like a duck's? | platypus | egg-laying mammal
medium | What type of animal is a whale? | mammal | whale
medium | What type of animal is a snake? | reptile | snake
medium | What is the largest species of cat? | tiger; Siberian tiger; Amur tiger | largest cat
medium | Which slow-moving mammal spends most of its life hanging upside down in rainforest trees? | sloth; sloths | upside down in trees
hard | What is a baby goose called? | gosling | baby goose
hard | What is a male duck called? | drake | male duck
hard | What is a group of owls called? | parliament | group of owls
hard | What is the national animal of Scotland? | unicorn | national animal of Scotland
hard | Which seabird has the largest wingspan of any living bird? | albatross; wandering albatross | largest wingspan
hard | How many humps does a Bactrian camel have? | 2; two | Bactrian camel
""",
    "geography": """
easy | On which continent is France? | Europe | continent of France
easy | On which continent is India? | Asia | continent of India
easy | Which country is shaped like a boot? | Italy | boot
easy | Which country lies directly north of the United States? | Canada | north of the United States
easy | Which country borders the United States to the south? | Mexico | south of the United States
easy | How many states are there in the United States? | 50; fifty | number of US states
easy | In which country is the city of Osaka? | Japan | Osaka
easy | On which continent is Argentina? | South America | continent of Argentina
easy | In which country is the city of Los Angeles? | United States; United States of America; USA; US; America | Los Angeles
easy | In which country is the city of Toronto? | Canada | Toronto
medium | What is the longest river in Africa? | Nile; River Nile | longest river in Africa
medium | Which river carved the Grand Canyon? | Colorado; Colorado River | Grand Canyon
medium | Which US city is nicknamed the Windy City? | Chicago | Windy City
medium | In which mountain range is Mont Blanc? | Alps | Mont Blanc
medium | Which canal connects the Mediterranean Sea with the Red Sea? | Suez Canal; Suez | Red Sea canal
medium | Which canal crosses Central America to link the Atlantic and Pacific Oceans? | Panama Canal; Panama | Central America canal
medium | What is the imaginary line around the middle of the Earth at 0 degrees latitude called? | equator | 0 degrees latitude
medium | In which country is the Great Barrier Reef? | Australia | Great Barrier Reef
hard | Which country was formerly called Siam? | Thailand | Siam
hard | Which salt lake lies at the lowest point on land on Earth? | Dead Sea | lowest point on land
hard | What is the largest inland body of water in the world? | Caspian Sea; Caspian | largest inland body of water
hard | Which mountain range in Russia is traditionally taken as the border between Europe and Asia? | Ural Mountains; Urals; Ural | Europe-Asia border
hard | Which strait separates Asia from North America? | Bering Strait; Bering | Asia from North America
hard | What is the highest mountain in North America? | Denali; Mount McKinley; McKinley | highest in North America
hard | Which river flows through Rome? | Tiber; Tevere | river of Rome
hard | Which city is known as the Eternal City? | Rome | Eternal City
""",
    "language": """
easy | What is the opposite of "open"? | closed; shut | opposite of open
easy | What is the opposite of "left"? | right | opposite of left
easy | What is the opposite of "full"? | empty | opposite of full
easy | What is the opposite of "old"? | new; young | opposite of old
easy | What is the plural of "man"? | men | plural of man
easy | What is the plural of "woman"? | women | plural of woman
easy | What is the past tense of "take"? | took | past tense of take
easy | What is the past tense of "sing"? | sang | past tense of sing
easy | What language is mainly spoken in Russia? | Russian | language of Russia
easy | What language is mainly spoken in Greece? | Greek | language of Greece
easy | What language is mainly spoken in China? | Chinese; Mandarin; Mandarin Chinese; Standard Chinese | language of China
easy | Which punctuation mark ends a question? | question mark | ends a question
medium | What is the plural of "person"? | people; persons | plural of person
medium | What is the past tense of "buy"? | bought | past tense of buy
medium | What is the past tense of "fly"? | flew | past tense of fly
medium | What is the comparative form of "good"? | better | comparative form of good
medium | What is the superlative form of "bad"? | worst | superlative form of bad
medium | What language is mainly spoken in the Netherlands? | Dutch | language of the Netherlands
easy | What language is mainly spoken in Poland? | Polish | language of Poland
easy | What is the opposite of "black"? | white | opposite of black
easy | What is the plural of "box"? | boxes | plural of box
easy | What is the plural of "baby"? | babies | plural of baby
easy | What is the past tense of "do"? | did | past tense of do
easy | What is the past tense of "have"? | had | past tense of have
easy | What language is mainly spoken in Spain? | Spanish; Castilian | language of Spain
medium | What is the Spanish word for "dog"? | perro | Spanish dog
medium | What is the French word for "cat"? | chat | French cat
medium | What is the Spanish word for "water"? | agua | Spanish water
medium | How do you say "goodbye" in Spanish? | adiós; adios | Spanish goodbye
medium | What do you call a word that means the same as another word? | synonym | synonym
hard | What is the last letter of the Greek alphabet? | omega | last Greek letter
hard | What is the plural of "ox"? | oxen | plural of ox
hard | What is the main language of Israel? | Hebrew | language of Israel
hard | What is the German word for "house"? | Haus | German house
hard | What is the French word for "red"? | rouge | French red
""",
    "arithmetic": """
easy | What is 6 + 2? | 8; eight | 6+2
easy | What is 7 + 2? | 9; nine | 7+2
easy | What is 8 minus 3? | 5; five | 8-3
easy | How much is 3 plus 5? | 8; eight | 3+5
easy | What is 10 + 5? | 15; fifteen | 10+5
easy | What is 6 - 1? | 5; five | 6-1
easy | What is 20 + 30? | 50; fifty | 20+30
easy | What is 7 - 7? | 0; zero | 7-7
easy | What is 4 times 5? | 20; twenty | 4*5
easy | What is double 6? | 12; twelve | 2*6
easy | What is 10 divided by 2? | 5; five | 10/2
easy | What is half of 18? | 9; nine | 18/2 half
easy | What is 2 + 4? | 6; six | 2+4
easy | What is 9 - 4? | 5; five | 9-4
easy | What is 1 + 3? | 4; four | 1+3
easy | What is 5 minus 1? | 4; four | 5-1
easy | What is 4 + 6? | 10; ten | 4+6
medium | What is 6 x 8? | 48; forty-eight | 6*8
medium | What is 9 times 6? | 54; fifty-four | 9*6
medium | What is 14 + 19? | 33; thirty-three | 14+19
medium | What is 50 minus 18? | 32; thirty-two | 50-18
medium | What is 72 divided by 9? | 8; eight | 72/9
medium | What is 7 squared? | 49; forty-nine | 7^2
medium | What is the sum of 23 and 45? | 68; sixty-eight | 23+45
medium | What is the product of 7 and 9? | 63; sixty-three | 7*9
medium | What is 12 x 5? | 60; sixty | 12*5
medium | What is half of 30? | 15; fifteen | 30/2 half
medium | What is 10 percent of 90? | 9; nine | 10% of 90
medium | What is the square root of 64? | 8; eight | sqrt 64
hard | What is 24 x 16? | 384 | 24*16
hard | What is 37 times 12? | 444 | 37*12
hard | What is 456 + 389? | 845 | 456+389
hard | What is 900 - 457? | 443 | 900-457
hard | What is 15 squared? | 225 | 15^2
hard | What is 2 to the power of 8? | 256 | 2^8
hard | What is 132 divided by 11? | 12; twelve | 132/11
hard | What is the square root of 196? | 14; fourteen | sqrt 196
hard | What is 20 percent of 350? | 70; seventy | 20% of 350
hard | What is 1000 divided by 8? | 125 | 1000/8
""",
    "authors": """
medium | Who wrote "The Very Hungry Caterpillar"? | Eric Carle; Carle | The Very Hungry Caterpillar
medium | Who wrote "Winnie-the-Pooh"? | A. A. Milne; A.A. Milne; AA Milne; Milne | Winnie-the-Pooh
medium | Who wrote "The Chronicles of Narnia"? | C. S. Lewis; C.S. Lewis; CS Lewis; Clive Staples Lewis | Narnia
medium | Who wrote "Little Women"? | Louisa May Alcott; Alcott | Little Women
medium | Who wrote "The Picture of Dorian Gray"? | Oscar Wilde; Wilde | Dorian Gray
medium | Who wrote "Treasure Island"? | Robert Louis Stevenson; R. L. Stevenson; Stevenson | Treasure Island
medium | Who wrote "Around the World in Eighty Days"? | Jules Verne; Verne | Around the World in Eighty Days
medium | Who wrote "The Diary of a Young Girl"? | Anne Frank | Diary of a Young Girl
medium | Who wrote "A Brief History of Time"? | Stephen Hawking; Hawking | A Brief History of Time
hard | Who wrote "The Grapes of Wrath"? | John Steinbeck; Steinbeck | Grapes of Wrath
hard | Who wrote "Fahrenheit 451"? | Ray Bradbury; Bradbury | Fahrenheit 451
hard | Who wrote "Lord of the Flies"? | William Golding; Golding | Lord of the Flies
hard | Who wrote "The Time Machine"? | H. G. Wells; H.G. Wells; HG Wells; Wells | The Time Machine
hard | Who wrote "The Little Prince"? | Antoine de Saint-Exupéry; Saint-Exupéry | The Little Prince
""",
    "science": """
easy | Which device do scientists use to see very small things such as cells? | microscope | see small things
easy | Which device do astronomers use to look at distant stars? | telescope | look at stars
easy | What is the study of living things called? | biology | study of living things
easy | What state of matter is steam? | gas; vapor; vapour | steam
easy | What do you call water that falls from clouds? | rain; rainwater | falls from clouds
medium | Which particle in an atom has a positive charge? | proton; protons | positive particle
medium | Which particle in an atom has no electric charge? | neutron; neutrons | neutral particle
medium | What is the study of rocks called? | geology | study of rocks
medium | What is the smallest basic unit of all living things? | cell; cells | unit of life
medium | At what temperature in degrees Fahrenheit does water freeze? | 32; thirty-two | freezing in Fahrenheit
medium | What process do plants use to make food from sunlight? | photosynthesis | plants make food
medium | How many degrees are in a right angle? | 90; ninety | right angle
medium | What green pigment do plants use to capture light? | chlorophyll | green pigment
hard | How many degrees do the angles of a triangle add up to? | 180 | angles of a triangle
hard | What does DNA stand for? | deoxyribonucleic acid | DNA
hard | What is the chemical formula of methane? | CH4 | methane
hard | Which of the three main rock types forms when lava or magma cools? | igneous | cooled lava
hard | Which instrument measures air pressure? | barometer | air pressure
hard | What is the scientific study of earthquakes called? | seismology | earthquakes
hard | Who discovered the three laws of planetary motion? | Johannes Kepler; Kepler | planetary motion
""",
    "history": """
easy | Who gave the "I Have a Dream" speech in 1963? | Martin Luther King Jr.; Martin Luther King; MLK; Dr. King | I Have a Dream
medium | Who led India's non-violent campaign for independence from British rule? | Mahatma Gandhi; Gandhi; Mohandas Gandhi | Gandhi
medium | Who was the first female prime minister of the United Kingdom? | Margaret Thatcher; Thatcher | first female UK prime minister
medium | In what year did World War II begin? | 1939 | start of World War II
medium | Who led the Soviet Union during World War II? | Joseph Stalin; Stalin | Soviet leader in World War II
medium | Which king of Macedonia conquered the Persian Empire? | Alexander the Great; Alexander | conquered Persia
medium | In what year did the September 11 attacks on the United States take place? | 2001 | September 11 attacks
medium | Which empire did Genghis Khan found? | Mongol Empire; Mongol; Mongols; Mongolian Empire | Genghis Khan
medium | Which British nurse was known as "The Lady with the Lamp"? | Florence Nightingale; Nightingale | Lady with the Lamp
hard | Who was the first woman to fly solo across the Atlantic Ocean? | Amelia Earhart; Earhart | solo Atlantic flight
hard | Who was the first emperor of a unified China? | Qin Shi Huang; Qin Shi Huangdi; Shi Huangdi; Ying Zheng | first emperor of China
hard | Who led the first expedition to reach the South Pole? | Roald Amundsen; Amundsen | South Pole
hard | Who, with Tenzing Norgay, made the first confirmed ascent of Mount Everest in 1953? | Edmund Hillary; Hillary | first ascent of Everest
hard | Which pharaoh's tomb did Howard Carter discover in 1922? | Tutankhamun; Tutankhamen; Tutankhamon; King Tut | Howard Carter
hard | In what year did the American Civil War end? | 1865 | end of the American Civil War
""",
    "units": """
easy | How many seconds are in two minutes? | 120 | seconds in two minutes
easy | How many months are in half a year? | 6; six | months in half a year
easy | How many hours are in two days? | 48; forty-eight | hours in two days
medium | How many days does February have in a year that is not a leap year? | 28; twenty-eight | February days
medium | How many days are in April? | 30; thirty | April days
medium | How many milligrams are in a gram? | 1000; one thousand | milligrams in a gram
medium | What is the SI unit of electric potential difference? | volt; volts | volt
medium | What is the SI base unit of length? | metre; meter; metres; meters | unit of length
medium | What is the SI base unit of time? | second; seconds | unit of time
hard | How many inches are in a yard? | 36; thirty-six | inches in a yard
hard | What is the SI unit of electric charge? | coulomb; coulombs | coulomb
hard | What is the SI unit of pressure? | pascal; pascals | pascal
hard | How many seconds are in a day? | 86400; 86,400 | seconds in a day
""",
    "currencies": """
medium | Which currency is used in Germany, France and Italy? | euro; euros | euro
hard | What is the currency of Thailand? | baht; Thai baht | currency of Thailand
hard | What is the currency of Sweden? | krona; kronor; Swedish krona | currency of Sweden
hard | What is the currency of Israel? | shekel; shekels; new shekel; new Israeli shekel | currency of Israel
""",
    "inventions": """
medium | Who founded Microsoft together with Paul Allen? | Bill Gates; Gates | Microsoft
medium | Which American statesman invented the lightning rod? | Benjamin Franklin; Ben Franklin; Franklin | lightning rod
hard | Who published the first widely recognised periodic table of the elements in 1869? | Dmitri Mendeleev; Mendeleev; Mendeleyev | periodic table
hard | Who discovered X-rays in 1895? | Wilhelm Röntgen; Röntgen; Roentgen; Wilhelm Conrad Röntgen | X-rays
hard | Who invented the raised-dot writing system used by blind people? | Louis Braille; Braille | raised-dot writing
""",
    "art": """
medium | Who painted "The Starry Night"? | Vincent van Gogh; van Gogh | The Starry Night
medium | Which artist made the "Campbell's Soup Cans" paintings? | Andy Warhol; Warhol | Campbell's Soup Cans
medium | Which singer was known as the King of Rock and Roll? | Elvis Presley; Elvis; Presley | King of Rock and Roll
hard | Who painted "The Birth of Venus"? | Sandro Botticelli; Botticelli | The Birth of Venus
hard | Who composed the "Brandenburg Concertos"? | Johann Sebastian Bach; J. S. Bach; JS Bach; Bach | Brandenburg Concertos
hard | Who composed the opera "Carmen"? | Georges Bizet; Bizet | Carmen
""",
    "landmarks": """
easy | In which city is the Empire State Building? | New York; New York City; NYC | Empire State Building
medium | In which city is the Louvre museum? | Paris | Louvre
medium | In which city is the Sagrada Família basilica? | Barcelona | Sagrada Familia
medium | In which city is the Burj Khalifa skyscraper? | Dubai | Burj Khalifa
hard | In which city is the Hagia Sophia? | Istanbul; Constantinople | Hagia Sophia
hard | In which city is the Space Needle tower? | Seattle | Space Needle
hard | In which country are the Maya ruins of Chichen Itza? | Mexico | Chichen Itza
""",
    "sports": """
easy | In which sport do teams score touchdowns? | American football; football; gridiron football | touchdown
easy | In which sport do players kick a ball into a net guarded by a goalkeeper? | soccer; football; association football | goalkeeper
medium | Which sport did Babe Ruth play? | baseball | Babe Ruth
medium | In which country did the ancient Olympic Games begin? | Greece | ancient Olympics
medium | Which sport is the Tour de France race? | cycling; road cycling; bicycle racing; bike racing | Tour de France
hard | How many kilometers long is a marathon? | 42.195; 42.2; 42; forty-two | marathon
hard | In golf, what is a score of one stroke under par on a hole called? | birdie | one under par
""",
    "film": """
easy | What kind of animal is Dumbo? | elephant | Dumbo
easy | What is the name of the green ogre in the 2001 DreamWorks animated film? | Shrek | green ogre
easy | What is the name of Mickey Mouse's girlfriend? | Minnie; Minnie Mouse | Mickey Mouse's girlfriend
medium | What is the name of the snowman in Disney's "Frozen"? | Olaf | Frozen
medium | What is the name of Dorothy's dog in "The Wizard of Oz"? | Toto | Wizard of Oz
medium | What is the name of the cowboy toy in "Toy Story"? | Woody; Sheriff Woody | Toy Story
""",
    "food": """
easy | From which country does pizza come? | Italy | pizza
easy | Which vegetable are French fries made from? | potato; potatoes | French fries
easy | What is the main ingredient of an omelette? | egg; eggs | omelette
easy | What is cheese made from? | milk | cheese
easy | What do you call a slice of bread browned in a toaster? | toast | toaster
medium | Which fruit is ketchup mainly made from? | tomato; tomatoes | ketchup
medium | What is a dried plum called? | prune; prunes | dried plum
hard | Which nut is ground to make marzipan? | almond; almonds | marzipan
hard | Which herb is the main ingredient of traditional pesto? | basil | pesto
""",
    "elements": """
medium | Which mineral, found in milk, is important for strong bones and teeth? | calcium | bones and teeth mineral
medium | Which element has the chemical symbol U? | uranium | uranium
hard | Which element has the chemical symbol Sn? | tin | tin
hard | Which yellow element was once known as brimstone? | sulfur; sulphur | brimstone
""",
    "astronomy": """
medium | Which planet is farthest from the Sun? | Neptune | farthest planet
medium | Which planet has the Great Red Spot? | Jupiter | Great Red Spot
hard | What was the name of the first artificial satellite, launched in 1957? | Sputnik; Sputnik 1 | first satellite
hard | Which comet can be seen from Earth about every 76 years? | Halley's Comet; Halley's; Halley; Comet Halley | 76 years
""",
    "body": """
easy | Which organs do humans use to breathe? | lungs; lung | breathe organs
easy | Which joint is in the middle of the leg? | knee; knees | knee
easy | Which body part do you use to smell? | nose | smell
easy | Which body parts do you hear with? | ears; ear | hear
medium | What is the colored part of the eye called? | iris | colored part of the eye
medium | What is the largest internal organ of the human body? | liver | largest internal organ
hard | Which organ produces insulin? | pancreas | insulin
hard | What is the smallest bone in the human body? | stapes; stirrup | smallest bone
""",
}

# Subject hits in the other sets that were read and judged to ask a different fact.
REVIEWED: dict[str, str] = {
    "Mexico": "fqa-0332 asks Mexico's language, fresh-0054 its currency; here its capital",
    "Jordan": "fresh-0105 asks the country of Petra; here Jordan's capital",
    "Algeria": "fqa-0140 asks Africa's largest country; here Algeria's capital",
    "Cambodia": "fresh-0106 asks the country of Angkor Wat; here Cambodia's capital",
    "whale": "fqa-0255 / fqa-0281 ask the blue whale and the whale shark; here the class of whales (mammal)",
    "steam": "fresh-0074 asks who improved the steam engine; here the state of matter of steam",
    "Frozen": "fqa-0291 / fresh-0050 ask what frozen water is called; here a character of the film Frozen",
}


def parse() -> list[dict]:
    """The rows in SOURCE order, with ids fresh2-0001 … and each row's `subject` (not written)."""
    rows = []
    for category, block in SOURCE.items():
        for line in block.strip().splitlines():
            difficulty, question, answers, subject = (part.strip() for part in line.split("|"))
            aliases = [a.strip() for a in answers.split(";") if a.strip()]
            rows.append({"question": question, "answers": aliases, "category": category,
                         "difficulty": difficulty, "subject": subject})
    return [{"id": f"fresh2-{i:04d}", **row} for i, row in enumerate(rows, 1)]


def subject_hits(rows: list[dict], others: list[dict]) -> dict[str, list[str]]:
    """For each subject, the ids of other rows whose question or answers contain it as whole tokens."""
    texts = [(o["id"], [f" {normalize_answer(t)} " for t in [o["question"], *o["answers"]]]) for o in others]
    hits: dict[str, list[str]] = {}
    for r in rows:
        subject = normalize_answer(r["subject"])
        if r["category"] == "arithmetic" or not subject:
            continue
        found = [oid for oid, padded in texts if any(f" {subject} " in t for t in padded)]
        if found:
            hits[r["subject"]] = found
    return hits


def main() -> None:
    rows = parse()
    others = [o for path in OTHERS for o, _ in read_rows(path)]
    subjects = Counter(r["subject"].lower() for r in rows)
    dup = [s for s, n in subjects.items() if n > 1]
    if dup:
        sys.exit(f"subjects used twice in this set: {dup}")
    problems = []
    for subject, ids in subject_hits(rows, others).items():
        if subject not in REVIEWED:
            rows_text = "; ".join(f"{o['id']}: {o['question']} -> {o['answers'][0]}" for o in others if o["id"] in ids)
            problems.append(f"subject {subject!r} occurs in {rows_text}")
    other_ops = {arithmetic_key(o["question"]): o["id"] for o in others if arithmetic_key(o["question"])}
    for r in rows:
        key = arithmetic_key(r["question"])
        if r["category"] == "arithmetic" and key is None:
            problems.append(f"{r['id']}: arithmetic question not understood: {r['question']!r}")
        elif key in other_ops:
            problems.append(f"{r['id']}: {r['question']!r} asks the operation of {other_ops[key]}")
    if problems:
        sys.exit("\n".join(problems))
    write_rows(OUT, [{k: v for k, v in r.items() if k != "subject"} for r in rows],
               f"({dict(Counter(r['difficulty'] for r in rows))})")


if __name__ == "__main__":
    main()
