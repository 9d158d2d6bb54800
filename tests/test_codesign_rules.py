"""The pure rules of co-design: what answers a coordinator may type, when a question closes, what a tap means."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.codesign import Question, answer_outcome, closing_time, parse_options, question_problem, tally

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
QUESTION = Question(1, "woking", "What next?", ("A", "B", "C"), 9001, NOW, NOW + timedelta(days=3), None, None, 5)


def test_answers_are_typed_one_a_line_two_to_six_short_and_different():
    assert parse_options("Beatles\n  Folk songs \n\n• Sea shanties") == ["Beatles", "Folk songs", "Sea shanties"]
    assert parse_options("Only one") == "codesign.options_count"
    assert parse_options("\n".join("abcdefg")) == "codesign.options_count"
    assert parse_options("Folk\nFOLK") == "codesign.options_twice"
    assert parse_options("Folk\n" + "x" * 41) == "codesign.options_long"
    assert question_problem("   ") == "codesign.question_long" and question_problem("x" * 201) is not None
    assert question_problem("What shall we play?") is None


def test_a_tap_answers_changes_repeats_or_comes_too_late():
    assert answer_outcome(QUESTION, 0, None, NOW) == "answered"
    assert answer_outcome(QUESTION, 1, 0, NOW) == "changed"
    assert answer_outcome(QUESTION, 1, 1, NOW) == "same"
    assert answer_outcome(QUESTION, 1, 0, NOW + timedelta(days=3)) == "closed"  # closes_at itself is too late
    assert answer_outcome(QUESTION, 3, None, NOW) == "no_such_answer"
    assert answer_outcome(None, 0, None, NOW) == "no_such_answer"


def test_closing_times_and_a_question_closed_by_hand_still_closes_by_itself():
    tuesday = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert closing_time("next_session", NOW, tuesday) == tuesday
    assert closing_time("next_session", NOW, None) is None
    assert closing_time("day", NOW, None) == NOW + timedelta(days=1)
    assert closing_time("week", NOW, None, longest=timedelta(days=2)) == NOW + timedelta(days=2)
    assert closing_time("by_hand", NOW, None) == NOW + timedelta(days=28)
    assert closing_time("fortnight", NOW, None) is None


@given(st.lists(st.integers(min_value=-2, max_value=5), max_size=40))
def test_a_tally_counts_every_valid_answer_once(choices):
    result = tally(QUESTION, choices)
    assert len(result.counts) == 3
    assert result.answered == sum(1 for choice in choices if 0 <= choice < 3)
