"""The message catalogs: every language has every English key with the same placeholders, English stays plain,
and every button carries words."""

from __future__ import annotations

import re
import unicodedata

import pytest

from bot.messages.catalog import (
    LANGUAGES,
    Catalog,
    is_plural_table,
    load_catalogs,
    load_plurals,
    placeholders,
    plural_categories,
)

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
ENGLISH_ONLY_TABLES = frozenset({"summary", "register", "export", "report", "csv_values"})
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


# ---------------------------------------------------------------- plural keys (CLDR categories through Babel)

PLURALS = load_plurals()


@pytest.mark.parametrize("lang", list(CATALOGS))
def test_plural_keys_give_exactly_the_languages_categories(lang: str) -> None:
    """Ukrainian needs one/few/many/other, Arabic zero/one/two/few/many/other: none missing, none stray."""
    needed = plural_categories(lang)
    wrong = {key: sorted(forms) for key, forms in PLURALS[lang].items() if set(forms) != needed}
    assert not wrong, f"{lang}: plural keys whose categories are not {sorted(needed)}: {wrong}"


@pytest.mark.parametrize("lang", OTHER_LANGUAGES)
def test_plural_keys_match_english(lang: str) -> None:
    assert set(PLURALS[lang]) == set(PLURALS["en"])
    assert not set(PLURALS[lang]) & set(CATALOGS[lang]), "a key is both plural and plain"


@pytest.mark.parametrize("lang", list(CATALOGS))
def test_plural_forms_use_only_the_count_and_englishs_placeholders(lang: str) -> None:
    """A form may leave the number out (Arabic says "أسرتان", two households, without a 2)."""
    for key, forms in PLURALS[lang].items():
        allowed = {"count"} | set().union(*(placeholders(text) for text in PLURALS["en"][key].values()))
        for category, text in forms.items():
            assert placeholders(text) <= allowed, f"{lang}: {key}.{category}"
            text.format(**dict.fromkeys(placeholders(text), 1))


def test_plural_table_rule() -> None:
    assert is_plural_table({"one": "a", "other": "b"})
    assert not is_plural_table({"one": "a"}) and not is_plural_table({"other": "b", "title": "c"})


UKRAINIAN = {1: "1 особа", 2: "2 особи", 4: "4 особи", 5: "5 осіб", 11: "11 осіб", 12: "12 осіб",
             21: "21 особа", 22: "22 особи", 25: "25 осіб", 111: "111 осіб", 0: "0 осіб"}
ARABIC = {0: "0 شخص", 1: "شخص واحد", 2: "شخصان", 3: "3 أشخاص", 10: "10 أشخاص", 11: "11 شخصًا",
          99: "99 شخصًا", 100: "100 شخص", 102: "102 شخص", 103: "103 أشخاص", 111: "111 شخصًا"}


@pytest.mark.parametrize(("count", "expected"), UKRAINIAN.items())
def test_ukrainian_people_by_plural_rules(count: int, expected: str) -> None:
    assert Catalog.load().plural("counts.people", "uk", count) == expected


@pytest.mark.parametrize(("count", "expected"), ARABIC.items())
def test_arabic_people_by_its_six_forms(count: int, expected: str) -> None:
    assert Catalog.load().plural("counts.people", "ar", count) == expected


def test_english_one_and_other_and_a_missing_language_falls_back() -> None:
    texts = Catalog.load()
    assert [texts.plural("counts.weeks", "en", n) for n in (0, 1, 2)] == ["0 weeks", "1 week", "2 weeks"]
    assert texts.plural("counts.weeks", "xx", 1) == "1 week"
    assert texts.plural("counts.households", "fa", 3) == "3 خانوار"
    assert texts.plural("counts.people", "ur", 1) == "1 شخص" and texts.plural("counts.people", "ur", 2) == "2 افراد"
