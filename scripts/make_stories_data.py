"""Write llminfo/data/stories.jsonl: story and continuation prompts written for llminfo.

Open-ended prompts (1-3 sentences, varied genres) for comparing decoding strategies —
locally typical sampling (Meister et al., TACL 2023), nucleus, top-k, pure sampling and
greedy — on repetition, diversity and surprisal. Each row: `id`, `prompt`, `genre`.

Run: python scripts/make_stories_data.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for tests, which load this file by path
from _data_common import write_rows  # noqa: E402  (scripts/ is not a package)

OUT = Path(__file__).resolve().parents[1] / "llminfo" / "data" / "stories.jsonl"

# genre | prompt
SOURCE = """
fairy tale | Once upon a time, in a village at the edge of a dark forest, there lived a girl who could talk to crows.
fairy tale | The old king had three sons, and each of them wanted the golden apple that grew in the palace garden.
fairy tale | Long ago, a fisherman pulled a silver bottle from the sea. When he opened it, a small voice asked him for a favour.
fantasy | The dragon had slept beneath the mountain for a thousand years. This morning, it woke up hungry.
fantasy | Mira found the map folded inside her grandmother's cookbook. In the corner, someone had drawn a door that was not on any wall of the house.
fantasy | Every apprentice at the academy was given a wand on their twelfth birthday. Tomas was given a spoon.
science fiction | The colony ship had been travelling for two hundred years when the captain received a message from Earth.
science fiction | On Mars, the first child born in the dome looked out at the red dust and asked what rain was.
science fiction | The robot had been built to sweep floors, but lately it had started to wonder what was beyond the factory gates.
science fiction | When the last power station went dark, the city fell silent for the first time in a century.
mystery | The detective arrived at the manor just after midnight. The butler was waiting at the door, pale and trembling.
mystery | Nobody in the small town could explain why the church bell rang at three o'clock every night.
mystery | The letter had no stamp and no return address, only my name written in my own handwriting.
mystery | On the morning of the wedding, the ring was gone, and so was the best man.
horror | The house at the end of Elm Street had been empty for years, but last night someone turned on the lights.
horror | I heard footsteps in the attic again. I live alone, and the attic has no stairs.
adventure | The storm tore the sails from the mast, and by dawn the crew could see an island that was not on any chart.
adventure | We had three days of water left when the camel refused to go any further.
adventure | The climbers reached the final ridge just as the clouds closed in around the summit.
romance | They met on a rainy platform when the last train of the night was cancelled.
romance | Every summer for ten years, Anna had written a letter to the boy she met at the lake. She had never sent one.
historical | In the winter of 1812, a young soldier walked back from Moscow with nothing but a blanket and a letter from home.
historical | The printer's apprentice set the last line of type and wondered if anyone would ever read the strange book.
comedy | My grandmother decided, at the age of eighty, that she was going to learn to skateboard.
comedy | The cat had clearly been elected mayor by mistake, but nobody in the village wanted to admit it.
comedy | It was supposed to be a quiet dinner party, until the parrot started repeating everything my boss had said about me.
children | Little Bear could not sleep because the moon was too bright, so he set off to ask it to turn down its light.
children | Pip the penguin wanted to fly more than anything in the world.
children | On the first day of school, the new girl brought a snail in a jar and said it was her best friend.
slice of life | The bakery opened at six, and by five-thirty Mr. Patel was already kneading the dough, just as his father had done.
slice of life | After forty years at the same desk, Margaret packed her things into a single cardboard box.
slice of life | The bus was late again, and the woman next to me started telling me about her son who lived in Canada.
thriller | The phone rang once, then stopped. A minute later, a text arrived: "Don't open the door."
thriller | The agent had ten minutes to cross the border before the guards changed shift.
drama | My brother and I had not spoken in six years when the lawyer called about our father's house.
drama | The orchestra was about to begin when the first violinist stood up and walked off the stage.
western | The stranger rode into town at noon, and by one o'clock everyone knew his name.
myth | Before there were people, the sun and the moon argued about who should light the sky.
myth | The goddess of the river grew tired of the farmers' complaints and decided to teach them a lesson.
diary | Dear diary, today I finally told everyone at work that I am quitting to become a painter.
diary | Day 14 on the island. The radio still doesn't work, but I found something strange on the beach this morning.
letter | Dear Sam, I am writing to you from the hospital, but please don't worry, because the strangest thing has happened.
news | Residents of a quiet coastal town woke up on Tuesday to find the beach covered in thousands of yellow rubber ducks.
news | A local librarian has discovered a first edition of a famous novel hidden behind a loose shelf.
essay | Everyone remembers the first time they saw the ocean. For me, it was a grey afternoon in November.
essay | The best advice I ever received came from a bus driver who had been driving the same route for thirty years.
poetry prompt | Write a short poem about autumn leaves falling in an empty park.
dialogue | "Are you sure this is the right address?" asked Leo, looking up at the crumbling tower. "Of course," said his sister. "Trust me."
"""


def parse() -> list[dict]:
    rows = []
    for i, line in enumerate(SOURCE.strip().splitlines(), 1):
        genre, prompt = (part.strip() for part in line.split("|", 1))
        rows.append({"id": f"story-{i:03d}", "prompt": prompt, "genre": genre})
    return rows


def main() -> None:
    write_rows(OUT, parse())


if __name__ == "__main__":
    main()
