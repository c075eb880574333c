"""Write llminfo/data/reasoning.jsonl: reasoning problems with checkable answers, for llminfo.

For entropy-based early halting of reasoning ("Think or Not?", 2025): the model reasons,
then answers; halting is judged by accuracy and tokens used.

- `arithmetic`: multi-step word problems drawn from 14 templates by a seeded generator
  (`arithmetic_rows(seed=0)`); each row keeps its `template` and `params`, so the answer
  can be recomputed independently. `answer` is the integer result as a string.
- `multiple_choice`: hand-written questions with options A-D; the correct option's position
  is drawn by the same seeded generator. `answer` is the letter.

Run: python scripts/make_reasoning_data.py
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for tests, which load this file by path
from _data_common import write_rows  # noqa: E402  (scripts/ is not a package)

OUT = Path(__file__).resolve().parents[1] / "llminfo" / "data" / "reasoning.jsonl"
SEED = 0
N_ARITHMETIC = 100
NAMES = ["Ana", "Ben", "Chloe", "David", "Emma", "Farid", "Grace", "Hiro", "Isla", "Jonas", "Kemi", "Liam", "Maya", "Noah", "Olga", "Priya"]

# name -> (question template, parameter sampler, answer)
Template = tuple[str, Callable[[random.Random], dict], Callable[[dict], int]]


def _change(r: random.Random) -> dict:
    price, count = r.randint(2, 9), r.randint(2, 6)
    bill = next(b for b in (20, 50, 100) if b > price * count)
    return {"price": price, "count": count, "bill": bill}


def _share(r: random.Random) -> dict:
    people, each = r.randint(3, 9), r.randint(4, 15)
    return {"people": people, "total": people * each}


def _tables(r: random.Random) -> dict:
    tables, per = r.randint(3, 12), r.randint(3, 8)
    return {"students": tables * per, "tables": tables}


TEMPLATES: dict[str, Template] = {
    "buy_give": (
        "{name} has {a} apples. {name} buys {b} more and then gives {c} to a friend. How many apples does {name} have now?",
        lambda r: {"a": r.randint(5, 40), "b": r.randint(3, 30), "c": r.randint(1, 5)},
        lambda p: p["a"] + p["b"] - p["c"],
    ),
    "boxes": (
        "A box holds {per_box} pencils. {name} has {boxes} full boxes and {loose} loose pencils. How many pencils does {name} have in total?",
        lambda r: {"per_box": r.randint(6, 24), "boxes": r.randint(2, 9), "loose": r.randint(1, 9)},
        lambda p: p["per_box"] * p["boxes"] + p["loose"],
    ),
    "reading": (
        "{name} reads {per_day} pages every day. After {days} days, how many pages of a {total}-page book are still left to read?",
        lambda r: (lambda per, days: {"per_day": per, "days": days, "total": per * days + r.randint(10, 200)})(r.randint(5, 30), r.randint(2, 10)),
        lambda p: p["total"] - p["per_day"] * p["days"],
    ),
    "change": (
        "Pens cost {price} dollars each. {name} buys {count} pens and pays with a {bill}-dollar note. How many dollars of change does {name} get?",
        _change,
        lambda p: p["bill"] - p["price"] * p["count"],
    ),
    "share": (
        "{people} friends share {total} marbles equally. How many marbles does each friend get?",
        _share,
        lambda p: p["total"] // p["people"],
    ),
    "train": (
        "A train travels at {speed} kilometers per hour for {hours} hours, then at {speed2} kilometers per hour for {hours2} more hours. How many kilometers does it travel in total?",
        lambda r: {"speed": r.choice(range(40, 130, 10)), "hours": r.randint(1, 4), "speed2": r.choice(range(40, 130, 10)), "hours2": r.randint(2, 3)},
        lambda p: p["speed"] * p["hours"] + p["speed2"] * p["hours2"],
    ),
    "spending": (
        "{name} had {money} dollars, spent {lunch} dollars on lunch and {book} dollars on a book. How many dollars does {name} have left?",
        lambda r: (lambda lunch, book: {"money": lunch + book + r.randint(1, 60), "lunch": lunch, "book": book})(r.randint(5, 20), r.randint(8, 30)),
        lambda p: p["money"] - p["lunch"] - p["book"],
    ),
    "legs": (
        "A farmer has {chickens} chickens and {cows} cows. How many legs do these animals have in total?",
        lambda r: {"chickens": r.randint(2, 20), "cows": r.randint(1, 12)},
        lambda p: 2 * p["chickens"] + 4 * p["cows"],
    ),
    "area": (
        "A garden is {width} meters wide and {length} meters long. A path takes up {path} square meters of it. How many square meters are left for plants?",
        lambda r: (lambda w, l: {"width": w, "length": l, "path": r.randint(1, w * l // 2)})(r.randint(3, 15), r.randint(4, 20)),
        lambda p: p["width"] * p["length"] - p["path"],
    ),
    "ages": (
        "{name} is {age} years old. {name}'s brother is {diff} years older. How old will the brother be in {years} years?",
        lambda r: {"age": r.randint(4, 40), "diff": r.randint(1, 9), "years": r.randint(2, 15)},
        lambda p: p["age"] + p["diff"] + p["years"],
    ),
    "bakery": (
        "A baker makes {trays} trays of {per_tray} cookies and sells {sold} cookies. How many cookies are left?",
        lambda r: (lambda t, m: {"trays": t, "per_tray": m, "sold": r.randint(1, t * m - 1)})(r.randint(2, 8), r.randint(6, 20)),
        lambda p: p["trays"] * p["per_tray"] - p["sold"],
    ),
    "tickets": (
        "Museum tickets cost {adult} dollars for adults and {child} dollars for children. How many dollars do {adults} adults and {children} children pay in total?",
        lambda r: {"adult": r.randint(8, 25), "child": r.randint(2, 7), "adults": r.randint(2, 5), "children": r.randint(2, 6)},
        lambda p: p["adult"] * p["adults"] + p["child"] * p["children"],
    ),
    "fence": (
        "A square field has sides of {side} meters. Fencing costs {cost} dollars per meter. How many dollars does it cost to fence the whole field?",
        lambda r: {"side": r.randint(5, 40), "cost": r.randint(2, 9)},
        lambda p: 4 * p["side"] * p["cost"],
    ),
    "tables": (
        "{students} students sit in equal groups at {tables} tables. Then {moved} students leave. How many students are still sitting at the tables?",
        lambda r: (lambda d: {**d, "moved": r.randint(1, d["students"] - 1)})(_tables(r)),
        lambda p: p["students"] - p["moved"],
    ),
}

MULTIPLE_CHOICE = [
    # (question, correct, [distractors])
    ("If all bloops are razzies and all razzies are lazzies, which statement must be true?", "All bloops are lazzies", ["All lazzies are bloops", "No bloops are lazzies", "Some razzies are not bloops"]),
    ("Tom is taller than Sara. Sara is taller than Ken. Who is the shortest?", "Ken", ["Tom", "Sara", "They are all the same height"]),
    ("What comes next in the sequence 2, 4, 8, 16, ...?", "32", ["18", "24", "20"]),
    ("What comes next in the sequence 1, 4, 9, 16, 25, ...?", "36", ["30", "35", "49"]),
    ("A shirt costs 40 dollars and is on sale for 25 percent off. What is the sale price?", "30 dollars", ["25 dollars", "35 dollars", "10 dollars"]),
    ("Which of these numbers is a prime number?", "29", ["21", "27", "33"]),
    ("If today is Monday, what day will it be in 10 days?", "Thursday", ["Wednesday", "Friday", "Sunday"]),
    ("A clock shows 3:00. What is the angle between the hour hand and the minute hand?", "90 degrees", ["45 degrees", "180 degrees", "30 degrees"]),
    ("Which object would sink in water?", "A steel nail", ["A wooden cork", "A plastic duck", "An empty bottle with its cap on"]),
    ("Why do we see lightning before we hear thunder?", "Light travels faster than sound", ["Sound travels faster than light", "Thunder happens later than lightning", "Our ears are slower than our eyes"]),
    ("Ice is left in a warm room. What happens to it?", "It melts into water", ["It turns into steam at once", "It gets colder", "It stays frozen"]),
    ("A bag has 3 red balls and 1 blue ball. If you pick one ball without looking, which color are you most likely to pick?", "Red", ["Blue", "Both are equally likely", "Green"]),
    ("What is the next letter in the pattern A, C, E, G, ...?", "I", ["H", "J", "K"]),
    ("If a car travels 60 kilometers in one hour, how far does it travel in 30 minutes at the same speed?", "30 kilometers", ["60 kilometers", "20 kilometers", "120 kilometers"]),
    ("Which of these is the largest?", "0.7", ["0.65", "0.07", "0.699"]),
    ("Which fraction is equal to one half?", "4/8", ["3/8", "2/3", "5/8"]),
    ("A farmer has 17 sheep. All but 9 run away. How many sheep are left?", "9", ["8", "17", "0"]),
    ("Mary's father has five daughters: Nana, Nene, Nini, Nono. What is the fifth daughter's name?", "Mary", ["Nunu", "Nana", "Nina"]),
    ("Which month has the fewest days?", "February", ["April", "June", "November"]),
    ("If you face north and turn right, which direction are you facing?", "East", ["West", "South", "North"]),
    ("If you face north and turn around completely, which direction are you facing?", "South", ["East", "West", "North"]),
    ("A rectangle has a length of 8 and a width of 3. What is its perimeter?", "22", ["24", "11", "16"]),
    ("Which animal is a mammal?", "Whale", ["Shark", "Salmon", "Octopus"]),
    ("Plants need sunlight mainly to do what?", "Make their own food", ["Keep warm at night", "Drink water", "Attract insects"]),
    ("What is 25 percent of 80?", "20", ["25", "40", "16"]),
    ("Which number is both even and a multiple of 5?", "30", ["25", "15", "12"]),
    ("If 3 pencils cost 6 dollars, how much do 5 pencils cost?", "10 dollars", ["8 dollars", "15 dollars", "12 dollars"]),
    ("All cats have whiskers. Felix is a cat. What can we conclude?", "Felix has whiskers", ["Felix is not a cat", "All animals with whiskers are cats", "Felix has no whiskers"]),
    ("A pond's lily pads double in area every day and cover the pond on day 30. On which day did they cover half the pond?", "Day 29", ["Day 15", "Day 28", "Day 20"]),
    ("Which is heavier: a kilogram of feathers or a kilogram of iron?", "They weigh the same", ["The iron", "The feathers", "It depends on the weather"]),
    ("What is the average of 4, 8 and 12?", "8", ["6", "12", "24"]),
    ("Which shape has exactly three sides?", "Triangle", ["Square", "Pentagon", "Circle"]),
    ("If it takes 5 machines 5 minutes to make 5 widgets, how long does it take 100 machines to make 100 widgets?", "5 minutes", ["100 minutes", "20 minutes", "1 minute"]),
    ("Anna was born in 1990. How old was she on her birthday in 2015?", "25", ["24", "26", "35"]),
    ("Which of these is a renewable energy source?", "Wind", ["Coal", "Oil", "Natural gas"]),
    ("What happens to the boiling point of water high up in the mountains?", "It is lower", ["It is higher", "It stays exactly the same", "Water cannot boil there"]),
    ("Jack has twice as many marbles as Jill. Jill has 7 marbles. How many marbles do they have together?", "21", ["14", "9", "28"]),
    ("A week ago it was Saturday. What day is it today?", "Saturday", ["Sunday", "Friday", "Monday"]),
    ("Which unit would you use to measure the distance between two cities?", "Kilometers", ["Grams", "Liters", "Degrees Celsius"]),
    ("What is the smallest whole number that is divisible by both 4 and 6?", "12", ["24", "10", "2"]),
]


def arithmetic_rows(seed: int = SEED, count: int = N_ARITHMETIC) -> list[dict]:
    """`count` word problems cycling through TEMPLATES, parameters drawn from `random.Random(seed)`."""
    rng = random.Random(seed)
    names = list(TEMPLATES)
    rows = []
    for i in range(count):
        key = names[i % len(names)]
        text, sample, solve = TEMPLATES[key]
        params = sample(rng)
        if "{name}" in text:
            params = {"name": rng.choice(NAMES), **params}
        answer = solve(params)
        rows.append({"question": text.format(**params), "answer": str(answer), "type": "arithmetic", "template": key, "params": params})
    return rows


def multiple_choice_rows(seed: int = SEED) -> list[dict]:
    """The hand-written questions with the correct option at a seeded position A-D (balanced)."""
    rng = random.Random(seed + 1)
    positions = [i % 4 for i in range(len(MULTIPLE_CHOICE))]
    rng.shuffle(positions)
    rows = []
    for (question, correct, distractors), pos in zip(MULTIPLE_CHOICE, positions):
        texts = list(distractors)
        texts.insert(pos, correct)
        options = dict(zip("ABCD", texts))
        rows.append({"question": question, "answer": "ABCD"[pos], "type": "multiple_choice", "options": options})
    return rows


def build_rows(seed: int = SEED) -> list[dict]:
    rows = arithmetic_rows(seed) + multiple_choice_rows(seed)
    return [{"id": f"reason-{i:03d}", **r} for i, r in enumerate(rows, 1)]


def main() -> None:
    write_rows(OUT, build_rows())


if __name__ == "__main__":
    main()
