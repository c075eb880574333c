"""Write llminfo/data/many_answers.jsonl: questions with many valid answers, written for llminfo.

These separate aleatoric from epistemic uncertainty (Yadkori et al., NeurIPS 2024): a model
that knows many right answers spreads its samples over them without being wrong, so a good
epistemic signal stays low here while semantic entropy is high.

Each source line is `question | answer, answer, ...` (`+` before the question: also accept
simple English plurals of every answer, for common nouns such as fruits). Answers are
matched with `llminfo.text.alias_match` (whole tokens after normalisation), so multi-word
answers are listed whole ("blue whale").

Run: python scripts/make_many_answers_data.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for tests, which load this file by path
from _data_common import write_rows  # noqa: E402  (scripts/ is not a package)

OUT = Path(__file__).resolve().parents[1] / "llminfo" / "data" / "many_answers.jsonl"

SOURCE = """
+Name a fruit. | apple, banana, orange, pear, grape, strawberry, cherry, peach, plum, mango, pineapple, watermelon, melon, lemon, lime, kiwi, kiwifruit, apricot, blueberry, raspberry, blackberry, grapefruit, papaya, coconut, fig, pomegranate, nectarine, tangerine, mandarin, date, cranberry, guava, lychee, passion fruit, avocado, cantaloupe, persimmon, gooseberry, currant, quince, dragon fruit, starfruit, olive, tomato
+Name a vegetable. | carrot, potato, tomato, onion, broccoli, cauliflower, cabbage, lettuce, spinach, pea, bean, green bean, cucumber, pepper, bell pepper, celery, garlic, leek, zucchini, courgette, eggplant, aubergine, pumpkin, squash, radish, beetroot, beet, turnip, kale, asparagus, artichoke, corn, sweet potato, parsnip, brussels sprout, okra, yam, chard, shallot, mushroom
Name a country in Europe. | France, Germany, Italy, Spain, Portugal, United Kingdom, UK, Britain, England, Scotland, Wales, Ireland, Netherlands, Holland, Belgium, Luxembourg, Switzerland, Austria, Poland, Czech Republic, Czechia, Slovakia, Hungary, Romania, Bulgaria, Greece, Croatia, Slovenia, Serbia, Bosnia, Montenegro, Albania, North Macedonia, Macedonia, Kosovo, Denmark, Norway, Sweden, Finland, Iceland, Estonia, Latvia, Lithuania, Belarus, Ukraine, Moldova, Russia, Malta, Cyprus, Andorra, Monaco, San Marino, Liechtenstein, Vatican City, Vatican
Name a country in Africa. | Nigeria, Egypt, South Africa, Kenya, Ethiopia, Ghana, Morocco, Algeria, Tunisia, Libya, Sudan, South Sudan, Tanzania, Uganda, Rwanda, Burundi, Somalia, Djibouti, Eritrea, Senegal, Mali, Niger, Chad, Cameroon, Gabon, Congo, Democratic Republic of the Congo, DRC, Angola, Zambia, Zimbabwe, Botswana, Namibia, Mozambique, Madagascar, Malawi, Lesotho, Eswatini, Swaziland, Ivory Coast, Cote d'Ivoire, Liberia, Sierra Leone, Guinea, Guinea-Bissau, Gambia, Burkina Faso, Benin, Togo, Mauritania, Mauritius, Seychelles, Cape Verde, Comoros, Central African Republic, Equatorial Guinea, Sao Tome and Principe
Name a country in Asia. | China, Japan, India, Indonesia, Pakistan, Bangladesh, Vietnam, Thailand, Malaysia, Singapore, Philippines, South Korea, North Korea, Korea, Mongolia, Nepal, Bhutan, Sri Lanka, Myanmar, Burma, Cambodia, Laos, Afghanistan, Iran, Iraq, Saudi Arabia, Israel, Jordan, Lebanon, Syria, Turkey, Yemen, Oman, Qatar, Kuwait, Bahrain, United Arab Emirates, UAE, Kazakhstan, Uzbekistan, Turkmenistan, Kyrgyzstan, Tajikistan, Brunei, East Timor, Timor-Leste, Maldives, Taiwan, Russia, Georgia, Armenia, Azerbaijan
Name a country in South America. | Brazil, Argentina, Chile, Peru, Colombia, Venezuela, Ecuador, Bolivia, Paraguay, Uruguay, Guyana, Suriname
Name a European capital city. | Paris, London, Berlin, Rome, Madrid, Lisbon, Dublin, Amsterdam, Brussels, Luxembourg, Bern, Vienna, Prague, Warsaw, Budapest, Bratislava, Bucharest, Sofia, Athens, Belgrade, Zagreb, Ljubljana, Sarajevo, Podgorica, Tirana, Skopje, Copenhagen, Oslo, Stockholm, Helsinki, Reykjavik, Tallinn, Riga, Vilnius, Minsk, Kyiv, Kiev, Chisinau, Moscow, Valletta, Nicosia, Andorra la Vella, Monaco, San Marino, Vaduz, Vatican City
Name a city in the United States. | New York, New York City, Los Angeles, Chicago, Houston, Phoenix, Philadelphia, San Antonio, San Diego, Dallas, San Jose, Austin, Jacksonville, San Francisco, Columbus, Seattle, Denver, Boston, Washington, Nashville, Detroit, Portland, Las Vegas, Memphis, Baltimore, Milwaukee, Atlanta, Miami, Minneapolis, New Orleans, Cleveland, Pittsburgh, St. Louis, Saint Louis, Orlando, Tampa, Sacramento, Kansas City, Salt Lake City, Honolulu, Anchorage, Charlotte, Indianapolis, Cincinnati, Buffalo
Name a city in Japan. | Tokyo, Osaka, Kyoto, Yokohama, Nagoya, Sapporo, Kobe, Fukuoka, Hiroshima, Nagasaki, Sendai, Kawasaki, Nara, Kanazawa, Okinawa, Naha, Kagoshima, Niigata, Chiba, Saitama, Shizuoka, Kumamoto, Okayama, Hakodate, Nikko, Kamakura
Name a US state. | Alabama, Alaska, Arizona, Arkansas, California, Colorado, Connecticut, Delaware, Florida, Georgia, Hawaii, Idaho, Illinois, Indiana, Iowa, Kansas, Kentucky, Louisiana, Maine, Maryland, Massachusetts, Michigan, Minnesota, Mississippi, Missouri, Montana, Nebraska, Nevada, New Hampshire, New Jersey, New Mexico, New York, North Carolina, North Dakota, Ohio, Oklahoma, Oregon, Pennsylvania, Rhode Island, South Carolina, South Dakota, Tennessee, Texas, Utah, Vermont, Virginia, Washington, West Virginia, Wisconsin, Wyoming
Name a continent. | Africa, Antarctica, Asia, Australia, Oceania, Europe, North America, South America
Name an ocean. | Pacific, Atlantic, Indian, Arctic, Southern, Antarctic
Name a planet in our solar system. | Mercury, Venus, Earth, Mars, Jupiter, Saturn, Uranus, Neptune
Name a day of the week. | Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday
Name a month of the year. | January, February, March, April, May, June, July, August, September, October, November, December
Name a season of the year. | spring, summer, autumn, fall, winter
Name a color of the rainbow. | red, orange, yellow, green, blue, indigo, violet, purple
Name a color. | red, orange, yellow, green, blue, indigo, violet, purple, pink, brown, black, white, gray, grey, silver, gold, beige, turquoise, cyan, magenta, maroon, navy, teal, lavender, crimson, scarlet, olive, ivory, tan, lilac, amber, coral
+Name a mammal. | dog, cat, horse, cow, pig, sheep, goat, lion, tiger, bear, elephant, whale, dolphin, bat, mouse, rat, rabbit, human, monkey, ape, gorilla, chimpanzee, orangutan, kangaroo, koala, giraffe, zebra, deer, wolf, fox, squirrel, hippo, hippopotamus, rhino, rhinoceros, camel, otter, seal, walrus, platypus, hedgehog, leopard, cheetah, panda, moose, bison, beaver, badger, raccoon, donkey, llama, hamster, mole, sloth
+Name a bird. | eagle, hawk, falcon, owl, sparrow, robin, pigeon, dove, crow, raven, parrot, penguin, ostrich, emu, flamingo, swan, duck, goose, chicken, turkey, peacock, hummingbird, woodpecker, seagull, gull, pelican, heron, stork, crane, magpie, blackbird, starling, finch, canary, kingfisher, albatross, vulture, kiwi, swallow, wren, cardinal, blue jay, jay, puffin, toucan, condor, cuckoo, quail, pheasant
+Name an insect. | ant, bee, wasp, hornet, fly, mosquito, butterfly, moth, beetle, ladybug, ladybird, grasshopper, cricket, cockroach, dragonfly, termite, flea, louse, aphid, cicada, firefly, mantis, praying mantis, stick insect, weevil, earwig, gnat, bumblebee, honeybee, locust
+Name a reptile. | snake, lizard, crocodile, alligator, turtle, tortoise, gecko, iguana, chameleon, python, cobra, viper, rattlesnake, komodo dragon, monitor lizard, tuatara, caiman, anaconda, boa, gharial, skink
+Name a fish. | salmon, trout, tuna, cod, haddock, mackerel, herring, sardine, anchovy, carp, goldfish, shark, catfish, bass, perch, pike, eel, swordfish, halibut, sole, plaice, tilapia, clownfish, piranha, marlin, barracuda, sturgeon, snapper, grouper, guppy, minnow, stingray, ray
+Name a farm animal. | cow, pig, sheep, goat, horse, chicken, duck, goose, turkey, donkey, llama, alpaca, rabbit, ox, bull, hen, rooster, mule, buffalo
+Name a pet. | dog, cat, hamster, rabbit, guinea pig, goldfish, fish, parrot, budgie, canary, turtle, tortoise, snake, lizard, gecko, mouse, rat, ferret, gerbil, horse, pony, chinchilla, hedgehog, bird
+Name a sea creature. | fish, shark, whale, dolphin, octopus, squid, jellyfish, starfish, sea star, crab, lobster, shrimp, seal, sea turtle, turtle, seahorse, eel, stingray, ray, clam, oyster, mussel, coral, sea urchin, walrus, manatee, orca, sea lion, anemone, sea anemone, prawn, sea cucumber, krill, narwhal
+Name a flower. | rose, tulip, daisy, sunflower, lily, orchid, daffodil, carnation, poppy, lavender, lotus, iris, violet, marigold, jasmine, hibiscus, peony, chrysanthemum, dahlia, magnolia, lilac, geranium, petunia, pansy, buttercup, dandelion, bluebell, azalea, camellia, gardenia, zinnia, snapdragon, crocus, hyacinth, begonia, cherry blossom, forget-me-not, morning glory, aster
+Name a tree. | oak, maple, pine, birch, willow, elm, ash, beech, cedar, spruce, fir, redwood, sequoia, palm, cherry, apple, olive, chestnut, walnut, poplar, sycamore, cypress, eucalyptus, baobab, yew, larch, magnolia, mahogany, teak, bamboo, hemlock, hazel, alder, linden, lime, holly, juniper, acacia, banyan, fig, mango, orange, lemon, coconut
+Name a musical instrument. | piano, guitar, violin, viola, cello, double bass, bass, drum, drums, flute, clarinet, oboe, bassoon, saxophone, trumpet, trombone, tuba, French horn, horn, harp, organ, harmonica, accordion, banjo, ukulele, mandolin, xylophone, keyboard, synthesizer, sitar, bagpipes, recorder, triangle, tambourine, cymbal, cymbals, harpsichord, lute, piccolo, marimba
Name a sport. | soccer, football, basketball, baseball, tennis, golf, cricket, rugby, hockey, ice hockey, volleyball, swimming, running, athletics, cycling, boxing, wrestling, skiing, snowboarding, surfing, badminton, table tennis, ping pong, handball, lacrosse, softball, fencing, archery, rowing, sailing, gymnastics, judo, karate, taekwondo, climbing, skating, figure skating, polo, squash, bowling, darts, snooker, billiards, triathlon, marathon, diving, water polo, curling, netball
Name a board game. | chess, checkers, draughts, Monopoly, Scrabble, Go, backgammon, Clue, Cluedo, Risk, Catan, Settlers of Catan, Ticket to Ride, Battleship, Trivial Pursuit, Snakes and Ladders, Chutes and Ladders, Candy Land, Sorry, Connect Four, Mancala, Parcheesi, Ludo, Pictionary, Othello, Reversi, Stratego, Carcassonne, Pandemic, Mahjong, dominoes, Chinese checkers
+Name a piece of furniture. | chair, table, sofa, couch, bed, desk, bookcase, bookshelf, shelf, wardrobe, dresser, cabinet, stool, bench, armchair, ottoman, nightstand, cupboard, chest of drawers, futon, recliner, cot, crib, sideboard, coffee table, dining table
+Name a kitchen utensil. | spoon, fork, knife, spatula, whisk, ladle, tongs, peeler, grater, rolling pin, colander, sieve, strainer, can opener, corkscrew, chopsticks, measuring cup, cutting board, chopping board, pan, pot, frying pan, saucepan, wok, kettle, masher, scissors, skewer, mortar, pestle, zester, garlic press, slotted spoon
+Name a vehicle. | car, bus, truck, lorry, van, bicycle, bike, motorcycle, motorbike, scooter, train, tram, airplane, aeroplane, plane, helicopter, boat, ship, ferry, submarine, taxi, tractor, ambulance, fire truck, jeep, SUV, rocket, yacht, canoe, kayak, sled, sleigh, skateboard, hot air balloon, tank, trolley, minivan, limousine, subway, metro
+Name a tool. | hammer, screwdriver, wrench, spanner, pliers, saw, drill, chisel, axe, ax, shovel, spade, rake, hoe, level, tape measure, ruler, file, sander, crowbar, mallet, clamp, vise, knife, scissors, trowel, pickaxe, sickle, scythe, soldering iron, hacksaw, multimeter, ladder, hatchet
+Name a profession. | doctor, nurse, teacher, engineer, lawyer, police officer, firefighter, chef, cook, farmer, pilot, dentist, accountant, architect, scientist, programmer, software engineer, developer, electrician, plumber, carpenter, mechanic, journalist, writer, artist, musician, actor, singer, pharmacist, veterinarian, vet, surgeon, soldier, judge, banker, librarian, baker, butcher, driver, waiter, waitress, cashier, designer, photographer, psychologist, professor, secretary, economist, translator
+Name a body part. | head, hand, arm, leg, foot, feet, finger, toe, eye, ear, nose, mouth, lip, tongue, tooth, teeth, neck, shoulder, elbow, wrist, knee, ankle, hip, back, chest, stomach, belly, heart, brain, lung, liver, kidney, skin, hair, face, chin, cheek, forehead, thumb, heel, thigh, calf, spine, skull, rib, bone, muscle, eyebrow, eyelash, nail, waist
+Name an organ of the human body. | heart, brain, lung, liver, kidney, stomach, skin, pancreas, spleen, bladder, gallbladder, intestine, small intestine, large intestine, colon, appendix, thyroid, esophagus, oesophagus, uterus, ovary, testis, prostate, eye, tongue
+Name a bone in the human body. | femur, tibia, fibula, humerus, radius, ulna, skull, cranium, rib, spine, vertebra, vertebrae, pelvis, hip bone, sternum, clavicle, collarbone, scapula, shoulder blade, patella, kneecap, jaw, jawbone, mandible, maxilla, coccyx, tailbone, sacrum, stapes, incus, malleus, hyoid, carpal, metacarpal, phalanx, phalanges, tarsal, metatarsal, talus, calcaneus, heel bone
Name one of the five senses. | sight, vision, seeing, hearing, touch, taste, smell, tasting, smelling, touching
+Name an emotion. | happiness, joy, sadness, anger, fear, surprise, disgust, love, hate, jealousy, envy, pride, shame, guilt, anxiety, excitement, boredom, loneliness, hope, gratitude, contempt, embarrassment, frustration, relief, calm, grief, confusion, curiosity, happy, sad, angry, afraid, scared, excited
+Name a shape. | circle, square, triangle, rectangle, oval, ellipse, pentagon, hexagon, heptagon, octagon, rhombus, diamond, trapezoid, trapezium, parallelogram, star, heart, crescent, sphere, cube, cone, cylinder, pyramid, prism, polygon, kite, semicircle
+Name a dessert. | cake, ice cream, pie, cookie, brownie, pudding, cheesecake, tiramisu, chocolate cake, apple pie, mousse, custard, tart, cupcake, donut, doughnut, muffin, sundae, trifle, creme brulee, crème brûlée, panna cotta, sorbet, gelato, jelly, jello, baklava, macaron, eclair, cobbler, crumble, flan, fudge, pavlova, cannoli, churros
+Name a type of cheese. | cheddar, mozzarella, brie, camembert, parmesan, gouda, edam, feta, swiss, emmental, gruyere, gruyère, roquefort, stilton, gorgonzola, blue cheese, ricotta, cottage cheese, cream cheese, halloumi, manchego, provolone, mascarpone, pecorino, havarti, monterey jack, colby, muenster, munster, paneer, burrata, wensleydale, jarlsberg
+Name a spice. | pepper, black pepper, cinnamon, nutmeg, clove, cumin, coriander, turmeric, ginger, paprika, saffron, cardamom, chili, chilli, cayenne, vanilla, star anise, anise, fennel, mustard, allspice, curry, curry powder, garlic, sumac, fenugreek, caraway, mace, sesame
+Name a herb. | basil, parsley, mint, rosemary, thyme, oregano, sage, dill, cilantro, coriander, chives, tarragon, bay leaf, bay, lemongrass, marjoram, lavender, chamomile, fennel, lovage, sorrel, chervil
+Name a drink. | water, milk, tea, coffee, juice, orange juice, apple juice, lemonade, soda, cola, beer, wine, whiskey, whisky, vodka, rum, gin, champagne, cider, hot chocolate, cocoa, smoothie, milkshake, coconut water, kombucha, tequila, sake, brandy, iced tea, espresso, latte, cappuccino
+Name a breakfast food. | eggs, egg, bacon, toast, cereal, oatmeal, porridge, pancakes, pancake, waffles, waffle, sausage, yogurt, yoghurt, croissant, bagel, muffin, fruit, granola, muesli, hash browns, omelette, omelet, french toast, bread, beans, baked beans, smoothie, scrambled eggs, fried eggs, bacon and eggs
+Name a type of pasta. | spaghetti, penne, fusilli, macaroni, lasagna, lasagne, linguine, fettuccine, tagliatelle, ravioli, tortellini, farfalle, rigatoni, orzo, gnocchi, cannelloni, pappardelle, conchiglie, orecchiette, vermicelli, bucatini, ziti, angel hair, capellini
+Name a type of bread. | baguette, sourdough, rye, whole wheat, wholemeal, white bread, brown bread, ciabatta, focaccia, pita, pitta, naan, bagel, brioche, challah, croissant, tortilla, flatbread, cornbread, soda bread, pumpernickel, rye bread, multigrain, roll, bun, chapati, roti, matzo
+Name a nut. | almond, walnut, cashew, peanut, pistachio, hazelnut, pecan, macadamia, brazil nut, chestnut, pine nut, coconut, acorn, filbert
+Name a berry. | strawberry, blueberry, raspberry, blackberry, cranberry, gooseberry, elderberry, mulberry, boysenberry, lingonberry, huckleberry, currant, blackcurrant, redcurrant, goji berry, acai, cloudberry, bilberry
+Name a citrus fruit. | orange, lemon, lime, grapefruit, tangerine, mandarin, clementine, kumquat, pomelo, yuzu, citron, satsuma, bergamot, blood orange
+Name a chemical element. | hydrogen, helium, lithium, beryllium, boron, carbon, nitrogen, oxygen, fluorine, neon, sodium, magnesium, aluminum, aluminium, silicon, phosphorus, sulfur, sulphur, chlorine, argon, potassium, calcium, titanium, chromium, manganese, iron, cobalt, nickel, copper, zinc, gallium, germanium, arsenic, selenium, bromine, krypton, silver, tin, iodine, xenon, platinum, gold, mercury, lead, uranium, plutonium, radium, radon, tungsten, barium, cesium, caesium
+Name a metal. | iron, copper, gold, silver, aluminum, aluminium, zinc, tin, lead, nickel, platinum, titanium, mercury, chromium, cobalt, tungsten, magnesium, sodium, potassium, lithium, uranium, steel, brass, bronze, palladium, manganese
Name a noble gas. | helium, neon, argon, krypton, xenon, radon, oganesson
+Name a gemstone. | diamond, ruby, emerald, sapphire, amethyst, topaz, opal, pearl, jade, garnet, turquoise, aquamarine, peridot, onyx, quartz, tourmaline, jasper, agate, lapis lazuli, moonstone, citrine, tanzanite, zircon, amber, spinel
Name a Greek god or goddess. | Zeus, Hera, Poseidon, Hades, Athena, Apollo, Artemis, Ares, Aphrodite, Hephaestus, Hermes, Demeter, Dionysus, Hestia, Persephone, Eros, Nike, Gaia, Helios, Selene, Eos, Pan, Nyx, Cronus, Kronos, Rhea, Hecate, Iris, Nemesis, Hypnos, Thanatos, Tyche
Name a play by William Shakespeare. | Hamlet, Macbeth, Othello, King Lear, Romeo and Juliet, A Midsummer Night's Dream, Midsummer Night's Dream, The Tempest, Twelfth Night, Julius Caesar, Much Ado About Nothing, The Merchant of Venice, As You Like It, Richard III, Richard II, Henry V, Henry IV, Henry VI, Henry VIII, Antony and Cleopatra, The Taming of the Shrew, The Winter's Tale, Coriolanus, Titus Andronicus, Measure for Measure, Cymbeline, Pericles, Timon of Athens, Troilus and Cressida, King John, All's Well That Ends Well, The Comedy of Errors, Love's Labour's Lost, The Two Gentlemen of Verona, The Merry Wives of Windsor
Name a famous painter. | Leonardo da Vinci, da Vinci, Leonardo, Michelangelo, Raphael, Rembrandt, Vermeer, Van Gogh, Vincent van Gogh, Picasso, Pablo Picasso, Monet, Claude Monet, Renoir, Cezanne, Cézanne, Degas, Manet, Matisse, Dali, Dalí, Salvador Dali, Frida Kahlo, Kahlo, Goya, Velazquez, Velázquez, Caravaggio, Botticelli, Titian, Turner, Constable, Klimt, Munch, Edvard Munch, Warhol, Andy Warhol, Pollock, Jackson Pollock, Kandinsky, Magritte, Rubens, Gauguin, Seurat, El Greco, Hokusai, Georgia O'Keeffe, O'Keeffe, Hopper, Edward Hopper, Mondrian, Chagall
Name a composer of classical music. | Mozart, Wolfgang Amadeus Mozart, Beethoven, Ludwig van Beethoven, Bach, Johann Sebastian Bach, Haydn, Handel, Vivaldi, Chopin, Schubert, Brahms, Tchaikovsky, Wagner, Verdi, Liszt, Mendelssohn, Schumann, Debussy, Ravel, Stravinsky, Mahler, Dvorak, Dvořák, Grieg, Rachmaninoff, Rachmaninov, Prokofiev, Shostakovich, Puccini, Rossini, Elgar, Sibelius, Strauss, Berlioz, Bizet, Monteverdi, Purcell, Satie
Name a famous scientist. | Albert Einstein, Einstein, Isaac Newton, Newton, Charles Darwin, Darwin, Marie Curie, Curie, Galileo, Galileo Galilei, Nikola Tesla, Tesla, Stephen Hawking, Hawking, Niels Bohr, Bohr, Louis Pasteur, Pasteur, Michael Faraday, Faraday, James Clerk Maxwell, Maxwell, Richard Feynman, Feynman, Copernicus, Kepler, Johannes Kepler, Gregor Mendel, Mendel, Max Planck, Planck, Alan Turing, Turing, Rosalind Franklin, Franklin, Dmitri Mendeleev, Mendeleev, Ada Lovelace, Lovelace, Archimedes, Aristotle, Carl Sagan, Sagan, Erwin Schrodinger, Schrödinger, Schrodinger, Heisenberg, Alexander Fleming, Fleming, Edison, Thomas Edison, Linnaeus, Lavoisier, Rutherford, Ernest Rutherford
Name a programming language. | Python, Java, JavaScript, C, C++, C#, Go, Rust, Ruby, PHP, Swift, Kotlin, TypeScript, Perl, R, MATLAB, Scala, Haskell, Lisp, Fortran, COBOL, Pascal, Julia, Lua, Dart, Elixir, Erlang, Clojure, Assembly, SQL, Bash, Objective-C, Visual Basic, Prolog, OCaml, F#, Scheme, Smalltalk, Ada, Zig
Name a language spoken in Europe. | English, French, German, Spanish, Italian, Portuguese, Dutch, Polish, Russian, Ukrainian, Greek, Swedish, Norwegian, Danish, Finnish, Icelandic, Hungarian, Czech, Slovak, Romanian, Bulgarian, Serbian, Croatian, Bosnian, Slovenian, Albanian, Macedonian, Lithuanian, Latvian, Estonian, Irish, Welsh, Gaelic, Scottish Gaelic, Basque, Catalan, Galician, Maltese, Luxembourgish, Belarusian, Turkish, Romani, Breton, Frisian, Sami
Name a musical genre. | rock, pop, jazz, blues, classical, hip hop, hip-hop, rap, country, folk, reggae, metal, heavy metal, punk, soul, funk, disco, techno, house, electronic, EDM, R&B, rhythm and blues, gospel, opera, salsa, samba, indie, grunge, ska, swing, bluegrass, k-pop, trance, dubstep, ambient, flamenco, tango, reggaeton
+Name a winter sport. | skiing, snowboarding, ice skating, skating, figure skating, ice hockey, hockey, curling, bobsleigh, bobsled, luge, skeleton, ski jumping, biathlon, cross-country skiing, speed skating, sledding, snowshoeing, alpine skiing
Name a martial art. | karate, judo, taekwondo, kung fu, jiu-jitsu, jiu jitsu, Brazilian jiu-jitsu, aikido, kickboxing, Muay Thai, boxing, wrestling, capoeira, krav maga, kendo, sumo, tai chi, wing chun, hapkido, sambo, MMA, mixed martial arts, fencing, silat, escrima, kali
+Name a unit of length. | meter, metre, centimeter, centimetre, millimeter, millimetre, kilometer, kilometre, inch, foot, feet, yard, mile, nautical mile, micrometer, micron, nanometer, light year, light-year, parsec, angstrom, furlong, league, fathom, hand, cubit, astronomical unit
+Name a unit of time. | second, minute, hour, day, week, month, year, decade, century, millennium, millisecond, microsecond, nanosecond, fortnight, eon, era, season, quarter
Name a currency. | dollar, US dollar, euro, pound, pound sterling, yen, yuan, renminbi, rupee, ruble, rouble, franc, Swiss franc, peso, real, won, rand, krona, krone, lira, dinar, dirham, riyal, shekel, baht, ringgit, rupiah, dong, zloty, forint, koruna, naira, shilling, Canadian dollar, Australian dollar, bitcoin
+Name a type of cloud. | cumulus, stratus, cirrus, nimbus, cumulonimbus, nimbostratus, altostratus, altocumulus, cirrostratus, cirrocumulus, stratocumulus, mammatus, lenticular, fog, contrail, noctilucent
+Name a weather phenomenon. | rain, snow, hail, sleet, fog, mist, wind, storm, thunderstorm, thunder, lightning, tornado, hurricane, typhoon, cyclone, blizzard, drought, heatwave, heat wave, frost, dew, drizzle, rainbow, monsoon, sandstorm, dust storm, cloud, sunshine, flood, gale, squall, hailstorm
Name a prime number less than 50. | 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47
Name an even number between 1 and 30. | 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28
Name an odd number between 30 and 60. | 31, 33, 35, 37, 39, 41, 43, 45, 47, 49, 51, 53, 55, 57, 59
Name a two-digit multiple of 7. | 14, 21, 28, 35, 42, 49, 56, 63, 70, 77, 84, 91, 98
Name a word that rhymes with "cat". | bat, hat, mat, rat, sat, fat, pat, vat, chat, flat, spat, brat, gnat, splat, combat, acrobat, format, doormat, habitat, diplomat, thermostat, aristocrat, democrat, bureaucrat, cravat, begat
Name a word that rhymes with "light". | night, bright, fight, might, right, sight, tight, white, kite, bite, site, write, flight, height, knight, fright, plight, quite, spite, delight, polite, tonight, invite, excite, despite, ignite, unite, appetite, dynamite, satellite, midnight, trite, smite, rite, mite, slight, blight, alright
Name a synonym for "big". | large, huge, enormous, giant, gigantic, massive, vast, immense, great, colossal, tremendous, substantial, sizable, sizeable, hefty, bulky, mammoth, monumental, grand, jumbo, considerable, ample, hulking, titanic, humongous
Name a synonym for "happy". | joyful, cheerful, glad, content, contented, pleased, delighted, merry, jolly, elated, ecstatic, thrilled, joyous, upbeat, blissful, jubilant, overjoyed, satisfied, gleeful, chipper, sunny, buoyant, lighthearted, carefree, euphoric, exuberant, happy-go-lucky
Name a word that means the opposite of "good". | bad, evil, poor, terrible, awful, wicked, wrong, horrible, inferior, dreadful, nasty, unpleasant, harmful, mediocre, lousy
Name a famous river. | Nile, Amazon, Mississippi, Yangtze, Thames, Danube, Rhine, Seine, Volga, Ganges, Mekong, Congo, Niger, Missouri, Colorado, Tigris, Euphrates, Indus, Yellow River, Huang He, Zambezi, Hudson, Jordan, Loire, Elbe, Tiber, Po, Rio Grande, St. Lawrence, Ob, Yenisei, Lena, Murray, Orinoco, Columbia, Volta
Name a mountain range. | Himalayas, Alps, Andes, Rocky Mountains, Rockies, Appalachians, Appalachian Mountains, Urals, Ural Mountains, Pyrenees, Atlas Mountains, Atlas, Carpathians, Caucasus, Karakoram, Hindu Kush, Sierra Nevada, Apennines, Dolomites, Cascades, Cascade Range, Great Dividing Range, Drakensberg, Tian Shan, Altai, Scandinavian Mountains, Pamirs, Balkan Mountains, Zagros, Ozarks, Adirondacks, Blue Ridge Mountains, Sierra Madre
Name a famous mountain. | Mount Everest, Everest, K2, Kilimanjaro, Mount Kilimanjaro, Mont Blanc, Matterhorn, Mount Fuji, Fuji, Denali, Mount McKinley, Aconcagua, Mount Kenya, Mount Olympus, Olympus, Mount Sinai, Ben Nevis, Mount Rainier, Mount St. Helens, Elbrus, Mount Elbrus, Annapurna, Kangchenjunga, Lhotse, Makalu, Eiger, Vesuvius, Mount Vesuvius, Etna, Mount Etna, Table Mountain, Mount Kosciuszko, Kosciuszko, Mount Ararat, Ararat, Half Dome, Pikes Peak, Mount Cook, Aoraki, Jungfrau, Nanga Parbat
Name one of the Beatles. | John Lennon, Lennon, Paul McCartney, McCartney, George Harrison, Harrison, Ringo Starr, Ringo, Starr, John, Paul, George
Name a US president. | George Washington, Washington, John Adams, Thomas Jefferson, Jefferson, James Madison, Madison, James Monroe, Monroe, Andrew Jackson, Jackson, Abraham Lincoln, Lincoln, Ulysses S. Grant, Grant, Theodore Roosevelt, Teddy Roosevelt, Franklin D. Roosevelt, Franklin Roosevelt, FDR, Roosevelt, Woodrow Wilson, Wilson, Harry Truman, Truman, Dwight Eisenhower, Eisenhower, John F. Kennedy, JFK, Kennedy, Lyndon Johnson, Johnson, Richard Nixon, Nixon, Gerald Ford, Ford, Jimmy Carter, Carter, Ronald Reagan, Reagan, George H. W. Bush, George W. Bush, Bush, Bill Clinton, Clinton, Barack Obama, Obama, Donald Trump, Trump, Joe Biden, Biden, Herbert Hoover, Hoover, Calvin Coolidge, Coolidge, William McKinley, McKinley, Andrew Johnson, James K. Polk, Polk, John Tyler, Tyler, Martin Van Buren, Van Buren, William Howard Taft, Taft, Warren G. Harding, Harding, Grover Cleveland, Cleveland, Benjamin Harrison, Chester A. Arthur, Arthur, James Garfield, Garfield, Rutherford B. Hayes, Hayes, Millard Fillmore, Fillmore, Franklin Pierce, Pierce, James Buchanan, Buchanan, Zachary Taylor, Taylor, William Henry Harrison, Harrison, John Quincy Adams, Adams
Name a web browser. | Chrome, Google Chrome, Firefox, Mozilla Firefox, Safari, Edge, Microsoft Edge, Opera, Internet Explorer, Brave, Vivaldi, Chromium, Tor Browser, Tor, Netscape, Netscape Navigator, DuckDuckGo, Samsung Internet, Arc, Lynx
Name a car brand. | Toyota, Honda, Ford, Chevrolet, Chevy, BMW, Mercedes, Mercedes-Benz, Audi, Volkswagen, VW, Porsche, Ferrari, Lamborghini, Tesla, Nissan, Hyundai, Kia, Mazda, Subaru, Volvo, Fiat, Peugeot, Renault, Citroen, Citroën, Jaguar, Land Rover, Range Rover, Lexus, Jeep, Dodge, Chrysler, Cadillac, Buick, GMC, Mitsubishi, Suzuki, Skoda, Škoda, Seat, Alfa Romeo, Maserati, Bentley, Rolls-Royce, Aston Martin, McLaren, Bugatti, Mini, Lincoln, Acura, Infiniti, Opel, Saab, Lotus, BYD, Rivian
+Name a fabric. | cotton, wool, silk, linen, polyester, nylon, denim, leather, velvet, satin, cashmere, rayon, fleece, flannel, tweed, corduroy, chiffon, lace, spandex, lycra, canvas, suede, jersey, felt, muslin, hemp, acrylic, viscose, chenille, taffeta, organza, gingham, mohair, alpaca
+Name a type of tree that loses its leaves in autumn. | oak, maple, birch, beech, elm, ash, willow, chestnut, walnut, poplar, sycamore, larch, linden, lime, hazel, alder, aspen, hornbeam, cherry, apple, ginkgo, hickory, dogwood, magnolia
"""


def plurals(word: str) -> list[str]:
    """Simple English plurals of the last word: "cherry" -> "cherries", "box" -> "boxes"."""
    head, _, last = word.rpartition(" ")
    prefix = head + " " if head else ""
    if last.endswith("y") and len(last) > 1 and last[-2] not in "aeiou":
        forms = [last[:-1] + "ies"]
    elif last.endswith(("s", "x", "z", "ch", "sh")):
        forms = [last + "es"]
    elif last.endswith("o"):
        forms = [last + "s", last + "es"]
    elif last.endswith("f"):
        forms = [last + "s", last[:-1] + "ves"]
    elif last.endswith("fe"):
        forms = [last + "s", last[:-2] + "ves"]
    else:
        forms = [last + "s"]
    return [prefix + f for f in forms]


def parse() -> list[dict]:
    rows = []
    for line in SOURCE.strip().splitlines():
        question, answers = (part.strip() for part in line.split("|"))
        with_plurals = question.startswith("+")
        question = question.lstrip("+").strip()
        aliases: list[str] = []
        for a in (x.strip() for x in answers.split(",")):
            for form in [a] + (plurals(a) if with_plurals else []):
                if form and form not in aliases:
                    aliases.append(form)
        rows.append({"question": question, "answers": aliases, "category": "many"})
    return [{"id": f"many-{i:03d}", **row} for i, row in enumerate(rows, 1)]


def main() -> None:
    write_rows(OUT, parse())


if __name__ == "__main__":
    main()
