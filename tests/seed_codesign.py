"""Co-design in the hand-made term of tests/seed_term.py: three questions the Woking hub was asked, and three ideas.

Written with the Store's own methods, as the bot writes them (the questions' copies to members are in the ledger,
long expired; the results of the two closed questions count as sent).

  Q1 "What shall we sing at the sharing?" asked Tuesday 29 September 12:00 UTC, closed Tuesday 6 October 12:00.
     Beatles songs: Anna, Bob (first Sea shanties, then changed), Dev, Eve, Ivan, Omar = 6
     Sea shanties: Hana = 1          Songs from home: Cara, Finn, Gita, Jo, Lin = 5       12 of 13 answered.
  Q2 "Which day suits you for the winter party?" asked Tuesday 17 November 12:00, closed Friday 20 November 18:00.
     Saturday: Anna, Cara, Eve, Gita (first Sunday, then changed), Kemi = 5     Sunday: Bob, Jo = 2    7 of 13.
  Q3 "Shall we try a drumming workshop?" asked Saturday 21 November 10:00, open until Tuesday 24 November 10:00.
     Yes please: Anna.
  Ideas: Eve (Thursday 8 October), Hana (Wednesday 18 November), Eve (Thursday 19 November): 3 ideas from 2 members.
Members who answered at least one closed question: the 12 of Q1 and Kemi = 13.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import COORDINATOR_ID

KIND = "codesign_question"
QUESTIONS: list[tuple[str, list[str], datetime, datetime, bool, dict[str, list[int]]]] = [
    # (text, options, asked, closes, closed at its time, {member: answers in the order tapped})
    ("What shall we sing at the sharing?", ["Beatles songs", "Sea shanties", "Songs from home"],
     datetime(2026, 9, 29, 12, 0, tzinfo=UTC), datetime(2026, 10, 6, 12, 0, tzinfo=UTC), True,
     {"Anna": [0], "Bob": [1, 0], "Dev": [0], "Eve": [0], "Ivan": [0], "Omar": [0], "Hana": [1],
      "Cara": [2], "Finn": [2], "Gita": [2], "Jo": [2], "Lin": [2]}),
    ("Which day suits you for the winter party?", ["Saturday", "Sunday"],
     datetime(2026, 11, 17, 12, 0, tzinfo=UTC), datetime(2026, 11, 20, 18, 0, tzinfo=UTC), True,
     {"Anna": [0], "Cara": [0], "Eve": [0], "Gita": [1, 0], "Kemi": [0], "Bob": [1], "Jo": [1]}),
    ("Shall we try a drumming workshop?", ["Yes please", "Not for me"],
     datetime(2026, 11, 21, 10, 0, tzinfo=UTC), datetime(2026, 11, 24, 10, 0, tzinfo=UTC), False,
     {"Anna": [0]}),
]
IDEAS = [
    ("Eve", datetime(2026, 10, 8, 15, 0, tzinfo=UTC), "Could we have a session in the park in the summer?"),
    ("Hana", datetime(2026, 11, 18, 19, 0, tzinfo=UTC), "Please can we learn a Ukrainian folk song together?"),
    ("Eve", datetime(2026, 11, 19, 9, 30, tzinfo=UTC), "A tea break halfway would help the older ones."),
]


async def seed_codesign(store: Any, hub_id: str, members: dict[str, int]) -> list[int]:
    """Write the questions, answers and ideas; returns the questions' ids in the order above."""
    ids = []
    for text, options, asked, closes, closed, answers in QUESTIONS:
        question = await store.create_question(hub_id, text, options, COORDINATOR_ID, asked, closes, kind=KIND)
        for name, taps in answers.items():
            for tap, choice in enumerate(taps):
                await store.answer_question(question.id, members[name], choice, asked + timedelta(hours=2 + tap))
        if closed:
            assert await store.close_question(question.id, closes, None, [])
        ids.append(question.id)
    for name, at, text in IDEAS:
        await store.create_idea(hub_id, members[name], text, at, [])
    return ids
