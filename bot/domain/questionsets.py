"""Validated question sets as data: the shipped ONS4 and loneliness sets, plus any licensed set configured.

A set is a TOML file (see bot/domain/questions/ons4.toml): id, name, language, intro, copyright line, scales (a
0-10 style keypad `min`/`max`, or `options` with a stored value and a label each) and items (id, scale, exact
wording, and optionally `signpost = [low, high]`: answers that get the help numbers at once). An organisation
holding a licence (e.g. SWEMWBS, which must show its copyright line and must not be altered) adds its file
through `wellbeing.extra_question_sets`; nothing licensed ships here.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.config import ConfigError, WellbeingSettings

log = logging.getLogger(__name__)

BUILT_IN = ("ons4.toml", "loneliness.toml")
KEYPAD_MAX_VALUES = 11
MAX_OPTIONS = 7
_ID = r"^[a-z0-9_]{1,40}$"


class QuestionSetError(ConfigError):
    """A question set file that cannot be used, named with the reason."""


class _Option(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    value: int = Field(ge=-99, le=999)
    label: str = Field(min_length=1, max_length=60)


class _Scale(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    min: int | None = Field(default=None, ge=0, le=99)
    max: int | None = Field(default=None, ge=0, le=99)
    hint: str = ""
    options: list[_Option] = []

    @model_validator(mode="after")
    def _one_form(self) -> _Scale:
        keypad = self.min is not None and self.max is not None
        if keypad == bool(self.options) or (self.options and (self.min is not None or self.max is not None)):
            raise ValueError("a scale has either min and max (a keypad) or options")
        if keypad and not 0 < self.max - self.min < KEYPAD_MAX_VALUES:  # type: ignore[operator]
            raise ValueError(f"a keypad has 2 to {KEYPAD_MAX_VALUES} values")
        if len(self.options) > MAX_OPTIONS or len({o.value for o in self.options}) != len(self.options):
            raise ValueError(f"options need distinct values, at most {MAX_OPTIONS}")
        return self


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=_ID)
    scale: str = Field(pattern=_ID)
    text: str = Field(min_length=1, max_length=600)
    signpost: tuple[int, int] | None = None


class _QuestionSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1, max_length=120)
    language: str = Field(pattern=r"^[a-z]{2,3}$")
    intro: str = ""
    copyright: str = ""
    scales: dict[str, _Scale]
    items: list[_Item] = Field(min_length=1, max_length=30)

    @model_validator(mode="after")
    def _consistent(self) -> _QuestionSet:
        if len({item.id for item in self.items}) != len(self.items):
            raise ValueError("two items share an id")
        for item in self.items:
            if item.scale not in self.scales:
                raise ValueError(f"item {item.id} uses unknown scale {item.scale}")
        return self


@dataclass(frozen=True, slots=True)
class Scale:
    id: str
    values: tuple[int, ...]  # in the order the buttons show them
    labels: dict[int, str]  # the option labels; empty for a keypad (the number is the label)
    hint: str

    @property
    def keypad(self) -> bool:
        return not self.labels


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    text: str
    scale: Scale
    signpost: tuple[int, int] | None

    def accepts(self, value: int) -> bool:
        return value in self.scale.values

    def needs_signposting(self, value: int | None) -> bool:
        return value is not None and self.signpost is not None and self.signpost[0] <= value <= self.signpost[1]


@dataclass(frozen=True, slots=True)
class QuestionSet:
    id: str
    name: str
    language: str
    intro: str
    copyright: str
    items: tuple[Item, ...]


def parse_question_set(data: dict[str, Any], source: str) -> QuestionSet:
    try:
        model = _QuestionSet.model_validate(data)
    except ValidationError as exc:
        reasons = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in exc.errors())
        raise QuestionSetError(f"question set {source}: {reasons}") from exc
    scales = {
        name: Scale(name, tuple(o.value for o in s.options) or tuple(range(s.min, s.max + 1)),  # type: ignore[arg-type]
                    {o.value: o.label for o in s.options}, s.hint)
        for name, s in model.scales.items()
    }
    items = []
    for item in model.items:
        scale = scales[item.scale]
        if item.signpost is not None and not all(v in scale.values for v in item.signpost):
            raise QuestionSetError(f"question set {source}: item {item.id}: signpost outside its scale")
        items.append(Item(item.id, item.text, scale, item.signpost))
    return QuestionSet(model.id, model.name, model.language, model.intro.strip(), model.copyright.strip(),
                       tuple(items))


def _read(text: str, source: str) -> QuestionSet:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise QuestionSetError(f"question set {source}: not valid TOML: {exc}") from exc
    return parse_question_set(data, source)


def load_question_sets(settings: WellbeingSettings) -> tuple[QuestionSet, ...]:
    """The built-in sets, then the configured extra ones, keeping only sets in a validated language."""
    sets = [_read(resources.files("bot.domain.questions").joinpath(name).read_text(encoding="utf-8"), name)
            for name in BUILT_IN]
    for path in settings.extra_question_sets:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise QuestionSetError(f"wellbeing.extra_question_sets: cannot read {path}: {exc}") from exc
        sets.append(_read(text, str(path)))
    if len({s.id for s in sets}) != len(sets):
        raise QuestionSetError("wellbeing.extra_question_sets: two question sets share an id")
    usable = [s for s in sets if s.language in settings.validated_languages]
    for dropped in (s for s in sets if s not in usable):
        log.warning("question set %s is in %s, which is not in wellbeing.validated_languages: not asked",
                    dropped.id, dropped.language)
    return tuple(usable)
