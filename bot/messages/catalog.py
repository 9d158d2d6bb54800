"""Message catalogs: every sentence a person reads, per language, with named placeholders.

A count is worded by the language's own plural rules (CLDR, through Babel), never by `if n == 1`: a plural key
is a small table whose keys are CLDR categories, e.g. in uk.toml

    [units.people]
    one = "{count} особа"
    few = "{count} особи"
    many = "{count} осіб"
    other = "{count} особи"

and `Catalog.plural("units.people", "uk", 5)` gives "5 осіб". Each language lists exactly the categories its
rules use, plus "other" (English and Urdu: one, other; Ukrainian: one, few, many, other; Arabic: zero, one,
two, few, many, other). Sentences take such counted phrases as placeholders, so word order stays free.
"""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from babel import Locale

DEFAULT_LANGUAGE = "en"
RLM, LRM, FSI, PDI = "\u200f", "\u200e", "\u2068", "\u2069"


@dataclass(frozen=True, slots=True)
class Language:
    code: str
    name: str  # the language's own name, as its readers write it
    rtl: bool = False


LANGUAGES: dict[str, Language] = {
    "en": Language("en", "English"),
    "uk": Language("uk", "Українська"),
    "ar": Language("ar", "العربية", rtl=True),
    "fa": Language("fa", "فارسی", rtl=True),
    "ur": Language("ur", "اردو", rtl=True),
}


PLURAL_CATEGORIES = ("zero", "one", "two", "few", "many", "other")

Plurals = dict[str, dict[str, dict[str, str]]]  # language -> key -> CLDR category -> template


def plural_categories(lang: str) -> frozenset[str]:
    """The CLDR categories a language's catalog must give for every plural key ("other" included)."""
    return Locale.parse(lang).plural_form.tags | {"other"}


def plural_category(lang: str, count: int) -> str:
    return str(Locale.parse(lang).plural_form(count))


class Catalog:
    """Looks up `key` in the reader's language, falling back to English for a missing key."""

    def __init__(self, catalogs: dict[str, dict[str, str]], plurals: Plurals | None = None) -> None:
        if DEFAULT_LANGUAGE not in catalogs:
            raise ValueError("the English catalog is required")
        self.catalogs = catalogs
        self.plurals: Plurals = plurals or {}

    @classmethod
    def load(cls) -> Catalog:
        return cls(load_catalogs(), load_plurals())

    def plural(self, key: str, lang: str | None, count: int, /, *, shown: str | None = None, **values: Any) -> str:
        """A counted phrase ("1 household", "5 осіб", "أسرتان"): the form the language's rules pick for `count`.

        A phrase to put into a sentence through `get`, which isolates it; so no right-to-left mark here.
        `shown` replaces the number in the text (a hidden small count, "<5"), the form still chosen by `count`.
        Falls back to English when the language lacks the key, and to "other" when it lacks the category.
        """
        lang = lang if lang in self.catalogs else DEFAULT_LANGUAGE
        forms = self.plurals.get(lang, {}).get(key)
        if forms is None:
            lang, forms = DEFAULT_LANGUAGE, self.plurals[DEFAULT_LANGUAGE][key]
        template = forms.get(plural_category(lang, count), forms["other"])
        isolated = {name: _isolate(value, lang) for name, value in values.items()}
        return template.format(count=count if shown is None else shown, **isolated)

    @property
    def languages(self) -> list[Language]:
        return [LANGUAGES[code] for code in LANGUAGES if code in self.catalogs]

    def supports(self, code: str | None) -> bool:
        return code is not None and code in self.catalogs

    def best_language(self, telegram_code: str | None) -> str:
        """The catalog language nearest to a Telegram client's language code (e.g. 'uk-UA' -> 'uk')."""
        if telegram_code:
            base = telegram_code.replace("_", "-").split("-")[0].lower()
            if base == "prs":  # Dari readers understand Farsi
                base = "fa"
            if base in self.catalogs:
                return base
        return DEFAULT_LANGUAGE

    def get(self, key: str, lang: str | None = None, /, **values: Any) -> str:
        lang = lang if lang in self.catalogs else DEFAULT_LANGUAGE
        template = self.catalogs[lang].get(key)
        if template is None:
            template = self.catalogs[DEFAULT_LANGUAGE][key]
        text = template.format(**{name: _isolate(value, lang) for name, value in values.items()})
        return _right_to_left_lines(text) if LANGUAGES.get(lang, LANGUAGES["en"]).rtl else text

    def all(self, key: str) -> dict[str, str]:
        """Every language's version of a key: used to recognise a button whatever language it was in."""
        return {lang: cat[key] for lang, cat in self.catalogs.items() if key in cat}


def _isolate(value: Any, lang: str) -> Any:
    """Keep a left-to-right name or number from reordering a right-to-left sentence.

    An isolate cannot span a line break, so a multi-line value is isolated line by line.
    """
    if isinstance(value, str) and LANGUAGES.get(lang, LANGUAGES["en"]).rtl:
        return "\n".join(f"{FSI}{line}{PDI}" if line else line for line in value.split("\n"))
    return value


def _right_to_left_lines(text: str) -> str:
    """Start every line with RLM: Telegram sets each line's direction from its first strong character,
    so a line opening with '/stop', a name or a number would otherwise be laid out left to right, with its
    full stop or question mark at the wrong end."""
    return "\n".join(line if not line or line.startswith(RLM) else f"{RLM}{line}" for line in text.split("\n"))


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@cache
def _load() -> tuple[dict[str, dict[str, str]], Plurals]:
    catalogs: dict[str, dict[str, str]] = {}
    plurals: Plurals = {}
    for entry in resources.files("bot.messages.locales").iterdir():
        if entry.name.endswith(".toml"):
            lang = entry.name.removesuffix(".toml")
            flat: dict[str, Any] = {}
            forms: dict[str, dict[str, str]] = {}
            _flatten(tomllib.loads(entry.read_text(encoding="utf-8")), flat, forms)
            catalogs[lang] = {k: str(v) for k, v in flat.items()}
            plurals[lang] = forms
    return catalogs, plurals


def load_catalogs() -> dict[str, dict[str, str]]:
    """Every language's plain templates, by dotted key."""
    return _load()[0]


def load_plurals() -> Plurals:
    """Every language's plural keys: key -> CLDR category -> template."""
    return _load()[1]


def is_plural_table(value: Any) -> bool:
    """A table whose keys are all CLDR plural categories, "other" among them."""
    return isinstance(value, dict) and "other" in value and set(value) <= set(PLURAL_CATEGORIES)


def _flatten(data: dict[str, Any], flat: dict[str, Any], forms: dict[str, dict[str, str]], prefix: str = "") -> None:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if is_plural_table(value):
            forms[name] = {category: str(text) for category, text in value.items()}
        elif isinstance(value, dict):
            _flatten(value, flat, forms, f"{name}.")
        else:
            flat[name] = value
