"""The message catalogs: every language has every English key with the same placeholders, English stays plain,
and every button carries words."""

from __future__ import annotations

import re
import unicodedata

import pytest

from bot.messages.catalog import LANGUAGES, load_catalogs, placeholders

CATALOGS = load_catalogs()
ENGLISH = CATALOGS["en"]
REQUIRED_LANGUAGES = ("en", "uk", "ar", "fa", "ur")
OTHER_LANGUAGES = [code for code in CATALOGS if code != "en"]
MAX_WORDS = 20
SENTENCE_END = re.compile(r"[.!?\n]")
# Staff-only tables whose texts are always rendered in English (the issue lets coordinators' texts stay English):
# the weekly summary, registers, CSV exports and the funders' report. Other languages may leave them out; the
# English fallback is what staff read anyway. A staff table rendered in the reader's language (sessions_admin,
# announce, safeguarding) is translated like any other.
ENGLISH_ONLY_TABLES = frozenset({"summary", "register", "export", "report"})
COLOUR_WORDS = re.compile(r"\b(red|green|amber|yellow|blue|orange|purple|pink|grey|gray|colou?red)\b", re.I)


def is_button_key(key: str) -> bool:
    """The rule: the [buttons] table, and any key with 'button' in one of its dotted parts
    (e.g. `rsvp.button_yes`, `checkin_buttons.happier`)."""
    return any("button" in part for part in key.split("."))


def has_words(label: str) -> bool:
    """At least one letter or digit in any script: emoji may sit beside words, never replace them."""
    return any(unicodedata.category(char)[0] in "LN" for char in label)


def sentences(text: str) -> list[str]:
    return [part.strip() for part in SENTENCE_END.split(text) if part.strip()]


def test_every_hub_language_has_a_catalog() -> None:
    assert set(REQUIRED_LANGUAGES) <= set(CATALOGS)
    assert set(CATALOGS) <= set(LANGUAGES), "a catalog file for a language bot/messages/catalog.py does not list"


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_catalog_has_every_english_key(lang: str) -> None:
    missing = sorted(key for key in set(ENGLISH) - set(CATALOGS[lang])
                     if key.split(".")[0] not in ENGLISH_ONLY_TABLES)
    assert not missing, f"{lang}.toml lacks {len(missing)} key(s): {missing}"


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_catalog_has_no_keys_english_lacks(lang: str) -> None:
    stale = sorted(set(CATALOGS[lang]) - set(ENGLISH))
    assert not stale, f"{lang}.toml has key(s) English does not (renamed or removed?): {stale}"


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_placeholders_match_english(lang: str) -> None:
    differing = {
        key: (sorted(placeholders(ENGLISH[key])), sorted(placeholders(text)))
        for key, text in CATALOGS[lang].items()
        if key in ENGLISH and placeholders(text) != placeholders(ENGLISH[key])
    }
    assert not differing, f"{lang}.toml placeholders differ from English (en, {lang}): {differing}"


@pytest.mark.parametrize("lang", list(CATALOGS))
def test_every_template_formats(lang: str) -> None:
    """A stray brace would raise at send time; format every template with dummy values now."""
    for template in CATALOGS[lang].values():
        template.format(**dict.fromkeys(placeholders(template), "x"))


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_commands_keep_their_slash_names(lang: str) -> None:
    """'/stop' in a translation must still be '/stop': Telegram only knows the English command names."""
    for key, text in CATALOGS[lang].items():
        english_commands = set(re.findall(r"/[a-z_]+", ENGLISH.get(key, "")))
        assert set(re.findall(r"/[a-z_]+", text)) >= english_commands, f"{lang}: {key} lost a /command"


def test_no_english_sentence_is_over_twenty_words() -> None:
    long = [
        (key, sentence, len(sentence.split()))
        for key, text in ENGLISH.items()
        for sentence in sentences(text)
        if len(sentence.split()) > MAX_WORDS
    ]
    assert not long, f"sentences over {MAX_WORDS} words: {long}"


def test_the_sentence_rule_counts_what_a_reader_sees() -> None:
    assert sentences("One two. Three!\nFour? Five") == ["One two", "Three", "Four", "Five"]
    assert is_button_key("buttons.agree") and is_button_key("rsvp.button_yes")
    assert is_button_key("checkin_buttons.happier") and not is_button_key("join.done")
    assert has_words("✅ That is everyone") and has_words("نعم") and not has_words("✅ 👍")


@pytest.mark.parametrize("lang", list(CATALOGS))
def test_every_button_carries_words(lang: str) -> None:
    emoji_only = {key: text for key, text in CATALOGS[lang].items() if is_button_key(key) and not has_words(text)}
    assert not emoji_only, f"{lang}: buttons without words: {emoji_only}"


def test_english_never_relies_on_colour() -> None:
    """'Tap the green button' fails people who cannot tell colours apart; name the button's words."""
    coloured = {key: text for key, text in ENGLISH.items() if COLOUR_WORDS.search(text)}
    assert not coloured, f"texts that name a colour: {coloured}"
