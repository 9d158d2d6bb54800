"""Whether a free-text message reads as distress, from curated phrase lists in every catalog language.

Nobody watches the chat all the time, so a person who types "I do not want to be here anymore" instead of
tapping a button must be answered at once with the help numbers and a way to reach a person. The lists are data
(`bot/domain/distress_phrases/<lang>.txt`, documented in docs/wellbeing.md); every message is checked against every
language's list, since people often write in a language other than the one they chose. Matching is on whole
words after normalising, so "help" matches "Help!" but not "helpful"; a word ending in `*` is a stem
("самотн*" matches самотньою). Over-matching is the safe side: the reply only offers help.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from importlib import resources

# Letters that are written several ways in Arabic-script text (hamza seats, alef maksura, Persian/Urdu forms of
# yeh and kaf, teh marbuta): each is folded to one form so a phrase matches however it was typed.
_FOLD = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ؤ": "و", "ئ": "ي", "ى": "ي", "ی": "ي", "ے": "ي", "ي": "ي",
    "ك": "ک", "ة": "ه", "ۀ": "ه", "ہ": "ه", "ھ": "ه", "ـ": None,  # tatweel
    "\u200c": " ", "\u200d": None,  # zero-width non-joiner (Persian half-space) and joiner
    "’": "'", "‘": "'", "ʼ": "'",
})
_NOT_WORD = re.compile(r"[^\w'*]+")


def normalise(text: str) -> list[str]:
    """Lower-case words without marks or punctuation, in one form per letter."""
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))  # accents and Arabic diacritics
    text = unicodedata.normalize("NFC", text).translate(_FOLD)
    return [word.strip("'") for word in _NOT_WORD.sub(" ", text).split() if word.strip("'")]


def parse_phrases(lines: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    """A phrase list's lines (comments with #, blank lines skipped) as normalised word sequences."""
    phrases = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            words = tuple(normalise(line))
            if words:
                phrases.append(words)
    return tuple(phrases)


@cache
def phrase_lists() -> dict[str, tuple[tuple[str, ...], ...]]:
    """Every language's phrases, read once from the package's data files."""
    folder = resources.files("bot.domain.distress_phrases")
    return {
        entry.name.removesuffix(".txt"): parse_phrases(entry.read_text(encoding="utf-8").splitlines())
        for entry in folder.iterdir()
        if entry.name.endswith(".txt")
    }


def _word_matches(pattern: str, word: str) -> bool:
    return word.startswith(pattern[:-1]) if pattern.endswith("*") else word == pattern


def _contains(words: list[str], phrase: tuple[str, ...]) -> bool:
    for start in range(len(words) - len(phrase) + 1):
        if all(_word_matches(pattern, words[start + i]) for i, pattern in enumerate(phrase)):
            return True
    return False


def reads_as_distress(text: str, phrases: dict[str, tuple[tuple[str, ...], ...]] | None = None) -> bool:
    """True when the text holds any phrase of any language's list."""
    words = normalise(text)
    if not words:
        return False
    lists = phrase_lists() if phrases is None else phrases
    return any(_contains(words, phrase) for language in lists.values() for phrase in language)
