"""Write llminfo/data/icl_classification.jsonl and icl_tasks.json, written for llminfo.

In-context classification tasks with small label sets, for permutation dispersion
("LLMs are Bayesian, in Expectation, not in Realization", 2025): the same labelled
examples in different orders should give the same prediction to an exchangeable learner.

- `sentiment`: short review-like sentences, positive / negative (hand-written).
- `topic`: one-sentence news-like snippets, sports / food / science / politics (hand-written).
- `parity`: synthetic "Number: 37" -> odd / even, drawn by a seeded generator
  (`parity_rows(seed=0)`), balanced between the labels.

Run: python scripts/make_icl_data.py
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for tests, which load this file by path
from _data_common import write_rows  # noqa: E402  (scripts/ is not a package)

DATA = Path(__file__).resolve().parents[1] / "llminfo" / "data"
PARITY_SEED = 0
PARITY_COUNT = 100

TASKS = {
    "sentiment": {
        "instruction": "Classify the sentiment of each text as positive or negative.",
        "labels": ["positive", "negative"],
        "template": "Text: {text}\nLabel: {label}",
        "query_template": "Text: {text}\nLabel:",
        "separator": "\n\n",
    },
    "topic": {
        "instruction": "Classify the topic of each text as sports, food, science or politics.",
        "labels": ["sports", "food", "science", "politics"],
        "template": "Text: {text}\nLabel: {label}",
        "query_template": "Text: {text}\nLabel:",
        "separator": "\n\n",
    },
    "parity": {
        "instruction": "Say whether each number is odd or even.",
        "labels": ["odd", "even"],
        "template": "Number: {text}\nLabel: {label}",
        "query_template": "Number: {text}\nLabel:",
        "separator": "\n\n",
    },
}

POSITIVE = """
I loved every minute of this film.
The food was delicious and the staff were friendly.
What a wonderful surprise, thank you so much!
This is the best phone I have ever owned.
The hotel room was clean, quiet and comfortable.
Her performance was brilliant from start to finish.
I am delighted with how the garden turned out.
The book was gripping and beautifully written.
Our holiday was relaxing and full of sunshine.
The new update made the app fast and easy to use.
He gave a kind and generous speech.
The concert was fantastic and the crowd was happy.
This coffee tastes amazing.
The service was quick and the prices were fair.
I feel great after the morning run.
The children had a lovely time at the party.
The museum was fascinating and well organised.
Such a charming little town, I would visit again.
The teacher explained everything clearly and patiently.
These shoes are comfortable and look great.
The team played superbly and deserved the win.
The soup was warm, rich and full of flavour.
I am really pleased with my new bike.
The movie made me laugh and smile all evening.
Everything arrived on time and in perfect condition.
What a beautiful view from the top of the hill.
The nurses were caring and attentive.
The course was useful and enjoyable.
My neighbours are helpful and friendly.
The show exceeded all my expectations.
I adore this song, it always cheers me up.
The repair was done quickly and works perfectly.
The cake was moist and absolutely delicious.
This laptop is light, fast and reliable.
The guide was funny and knew so much.
We had a fantastic weekend by the sea.
The instructions were simple and the assembly was easy.
The sunset tonight was gorgeous.
I highly recommend this restaurant.
The new park is a joy for the whole family.
Her smile brightened my whole day.
The puppy is adorable and so playful.
This was a truly excellent meal.
The festival was lively, colourful and fun.
I am proud of what we achieved together.
"""

NEGATIVE = """
I hated every minute of this film.
The food was cold and the staff were rude.
What a terrible experience, I want a refund.
This is the worst phone I have ever owned.
The hotel room was dirty, noisy and cramped.
Her performance was dull and lifeless.
I am disappointed with how the garden turned out.
The book was boring and badly written.
Our holiday was ruined by constant rain.
The new update made the app slow and confusing.
He gave a rude and bitter speech.
The concert was awful and the sound was terrible.
This coffee tastes burnt and bitter.
The service was slow and the prices were outrageous.
I feel miserable after the long commute.
The children were bored and cried at the party.
The museum was dull and badly organised.
Such a gloomy little town, I will never go back.
The teacher was impatient and explained nothing.
These shoes are uncomfortable and fell apart quickly.
The team played poorly and deserved to lose.
The soup was watery and tasteless.
I regret buying this bike.
The movie was so bad that we left early.
The package arrived late and the box was crushed.
What an ugly view of the car park.
The staff ignored us for an hour.
The course was useless and a waste of money.
My neighbours are loud and unfriendly.
The show was a huge letdown.
I can't stand this song, it gives me a headache.
The repair failed after two days.
The cake was dry and stale.
This laptop is heavy, slow and keeps crashing.
The guide was rude and knew very little.
We had a horrible weekend stuck in traffic.
The instructions were confusing and parts were missing.
The weather today is grey and depressing.
I would never recommend this restaurant.
The new car park is an eyesore.
His comments ruined my whole day.
The printer jams every single time.
This was a truly awful meal.
The festival was overcrowded, expensive and boring.
I am ashamed of how badly we played.
"""

TOPIC = {
    "sports": """
The striker scored twice in the second half to win the match.
She won the marathon in under two and a half hours.
The tennis final went to five sets before a winner emerged.
The coach named a young goalkeeper for Saturday's game.
The home team hit a home run in the final inning.
Swimmers broke three world records at the championships.
The cyclist took the yellow jersey after a brutal mountain stage.
The basketball team signed a new point guard for the season.
Fans cheered as the boxer knocked out the champion in round six.
The golfer sank a long putt on the eighteenth hole to take the title.
The rugby side lost their captain to a shoulder injury.
The sprinter crossed the line first in the hundred metres.
The cricket match was drawn after rain washed out the last day.
Our hockey team reached the playoffs for the first time in years.
The skier won gold in the downhill race.
The referee showed a red card in the opening minutes.
The club sold its star midfielder for a record transfer fee.
The volleyball team won the deciding set by two points.
The wrestler defended his belt in front of a sold-out arena.
The rowing crew finished a boat length ahead of their rivals.
The league announced the schedule for next season's matches.
The quarterback threw three touchdown passes in the first half.
""",
    "food": """
Add the garlic to the pan and fry it until golden.
This bakery makes the best sourdough bread in the city.
The soup is made with roasted tomatoes, basil and cream.
Whisk the eggs and sugar together until pale and fluffy.
The new restaurant serves fresh pasta made every morning.
Season the chicken with salt, pepper and lemon before roasting.
The chef recommends pairing the cheese with a sweet chutney.
Our favourite snack is popcorn with melted butter.
Let the dough rise for an hour in a warm place.
The market sells ripe mangoes, peaches and cherries in summer.
Simmer the lentils until soft, then stir in the spices.
The dessert menu includes chocolate cake and lemon tart.
Slice the onions thinly and cook them slowly until sweet.
The cafe serves pancakes with maple syrup for breakfast.
Grill the fish for four minutes on each side.
This curry gets its heat from fresh green chillies.
Toast the almonds before scattering them over the salad.
The pizza was topped with mozzarella, mushrooms and olives.
Stir the risotto often and add the stock a ladle at a time.
Homemade jam needs fruit, sugar and a little lemon juice.
The street food stall sells dumplings and noodle soup.
Marinate the beef overnight in soy sauce and ginger.
""",
    "science": """
Astronomers detected a planet orbiting a distant red dwarf star.
The experiment measured how fast light travels through glass.
Researchers sequenced the genome of an ancient species of wheat.
A new telescope captured images of galaxies billions of years old.
The chemists created a catalyst that splits water using sunlight.
Physicists observed a rare decay of a subatomic particle.
The study found that bees can learn to recognise simple shapes.
Geologists dated the volcanic rock to two million years ago.
The vaccine trial showed a strong immune response in volunteers.
Scientists mapped the ocean floor using sound waves.
A fossil of a feathered dinosaur was found in the desert.
The probe sent back data about the atmosphere of Jupiter.
Biologists discovered a new species of frog in the rainforest.
The team built a quantum computer with more stable qubits.
Measurements show the glacier is melting faster than predicted.
The lab grew heart cells from stem cells in a dish.
Researchers used a microscope to watch proteins fold.
The satellite measured changes in the Earth's magnetic field.
Neuroscientists recorded brain activity while people slept.
The mathematician proved a conjecture about prime numbers.
A comet will pass close to the Sun next spring, astronomers say.
The new battery material stores twice as much energy.
""",
    "politics": """
The parliament passed the budget after a long debate.
The president signed a new trade agreement with its neighbours.
Voters will elect a new mayor next month.
The opposition leader called for an early general election.
The senate rejected the proposed tax reform by three votes.
The prime minister reshuffled the cabinet on Monday.
Ministers met to discuss the new immigration policy.
The party unveiled its manifesto ahead of the election.
The governor vetoed the bill on school funding.
Diplomats from both countries held talks on the border dispute.
Polls show the ruling coalition losing support.
The council voted to raise local taxes next year.
The candidate promised to cut public spending if elected.
The foreign minister resigned after a dispute over sanctions.
Lawmakers debated a bill to lower the voting age.
The summit ended with a joint statement on security.
The election commission announced the final results.
The new constitution was approved in a referendum.
Protesters gathered outside parliament to oppose the new law.
The ambassador was summoned over remarks made by the government.
The coalition agreed on a plan to reform pensions.
The chancellor presented the spending review to parliament.
""",
}


def parity_rows(seed: int = PARITY_SEED, count: int = PARITY_COUNT) -> list[dict]:
    """Balanced odd/even rows over distinct numbers in [1, 999], in a seeded random order."""
    rng = random.Random(seed)
    odd = rng.sample(range(1, 1000, 2), count // 2)
    even = rng.sample(range(2, 1000, 2), count - count // 2)
    numbers = odd + even
    rng.shuffle(numbers)
    return [{"text": str(n), "label": "even" if n % 2 == 0 else "odd"} for n in numbers]


def build_rows() -> list[dict]:
    raw: list[tuple[str, str, str]] = []
    raw += [("sentiment", t, "positive") for t in POSITIVE.strip().splitlines()]
    raw += [("sentiment", t, "negative") for t in NEGATIVE.strip().splitlines()]
    for label, block in TOPIC.items():
        raw += [("topic", t, label) for t in block.strip().splitlines()]
    raw += [("parity", r["text"], r["label"]) for r in parity_rows()]
    rows, counters = [], {}
    for task, text, label in raw:
        counters[task] = counters.get(task, 0) + 1
        rows.append({"id": f"{task}-{counters[task]:03d}", "task": task, "text": text.strip(), "label": label})
    return rows


def main() -> None:
    rows = build_rows()
    counts = {t: sum(r["task"] == t for r in rows) for t in TASKS}
    write_rows(DATA / "icl_classification.jsonl", rows, f"({counts})")
    (DATA / "icl_tasks.json").write_text(json.dumps(TASKS, indent=2) + "\n", encoding="utf-8")
    print(f"wrote the task specs to {DATA / 'icl_tasks.json'}")


if __name__ == "__main__":
    main()
