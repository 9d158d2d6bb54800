"""Typed settings: a TOML file overridden by IMM_* environment variables, mirrored by config.example.toml."""

from __future__ import annotations

import os
import re
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

HUB_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
TelegramId = Annotated[int, Field(gt=0)]


EXIT_CONFIG = 2
"""The exit code of every command stopped by a bad configuration (systemd and scripts can tell it apart)."""


class ConfigError(Exception):
    """A configuration problem, worded for the person who edits the file."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WebhookSettings(_Strict):
    url: str = ""
    listen: str = "127.0.0.1"
    port: int = Field(default=8443, ge=1, le=65535)
    secret_token: str = Field(default="", pattern=r"^[A-Za-z0-9_-]{0,256}$")


class WebSettings(_Strict):
    """The bot's own web server (/healthz; later the coordinators' dashboard) in polling mode. In webhook mode
    it listens on telegram.webhook's listen and port instead, and serves /healthz there too."""

    listen: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)  # 0: no web server in polling mode


class TelegramSettings(_Strict):
    token: str = ""
    api_base_url: str = "https://api.telegram.org/bot"
    api_file_url: str = "https://api.telegram.org/file/bot"
    concurrent_updates: int = Field(default=24, ge=1, le=256)
    connection_pool_size: int = Field(default=32, ge=1, le=256)
    # Telegram allows about 30; more only makes sense against a local Bot API server (benchmarks, crash tests).
    messages_per_second: float = Field(default=29.5, gt=0, le=10_000)
    # Bulk sends awaiting Telegram's answer at once. 1 means a crash can repeat at most one message;
    # 2 sends about 28.5 a second over a 50 ms round trip, where one at a time manages about 18.
    bulk_sends_in_flight: int = Field(default=1, ge=1, le=8)
    # "aiohttp": bot/transport/client.py (far less CPU a request than httpx, docs/benchmarks.md); "httpx": PTB's own.
    http_client: Literal["aiohttp", "httpx"] = "aiohttp"
    webhook: WebhookSettings = WebhookSettings()

    @field_validator("api_base_url", "api_file_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^\s]+$", value):
            raise ValueError("must be an http:// or https:// address")
        return value


class StorageSettings(_Strict):
    path: Path = Path("imm-bot.sqlite3")


class WeeklySlot(_Strict):
    """A session that happens every week on the same weekday and local time."""

    weekday: Weekday
    start: time
    duration_minutes: int = Field(default=90, ge=5, le=24 * 60)


class Term(_Strict):
    name: str = Field(min_length=1, max_length=80)
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> Term:
        if self.end < self.start:
            raise ValueError("term end is before its start")
        return self


class OneOffEvent(_Strict):
    """A celebration or community sharing outside the weekly pattern."""

    date: date
    start: time
    duration_minutes: int = Field(default=120, ge=5, le=24 * 60)
    kind: Literal["celebration", "sharing", "event"] = "event"
    title: str = Field(default="", max_length=80)


class ReminderRule(_Strict):
    """When to remind: `minutes_before` the start, or `days_before` the session day at local time `at`."""

    minutes_before: int | None = Field(default=None, ge=1, le=14 * 24 * 60)
    days_before: int | None = Field(default=None, ge=0, le=14)
    at: time | None = None

    @model_validator(mode="after")
    def _one_form(self) -> ReminderRule:
        offset = self.minutes_before is not None
        clock = self.days_before is not None and self.at is not None
        if offset == clock:
            raise ValueError("give either minutes_before, or both days_before and at")
        return self

    @property
    def key(self) -> str:
        if self.minutes_before is not None:
            return f"m{self.minutes_before}"
        assert self.at is not None
        return f"d{self.days_before}@{self.at.strftime('%H%M')}"


DEFAULT_REMINDERS = (ReminderRule(minutes_before=2 * 24 * 60), ReminderRule(days_before=0, at=time(9, 0)))


class WeeklySummarySettings(_Strict):
    weekday: Weekday = "monday"
    at: time = time(9, 0)
    enabled: bool = True


class HubSettings(_Strict):
    id: str
    name: str = Field(min_length=1, max_length=80)
    venue: str = Field(default="", max_length=200)
    timezone: str = "Europe/London"
    coordinators: list[TelegramId] = []
    safeguarding_lead: TelegramId | None = None
    weekly: list[WeeklySlot] = []
    terms: list[Term] = []
    skip_dates: list[date] = []
    skip_bank_holidays: bool = False
    bank_holiday_region: Literal["ENG", "NIR", "SCT", "WLS"] = "ENG"
    events: list[OneOffEvent] = []
    capacity: int | None = Field(default=None, ge=1, le=10_000)
    reminders: list[ReminderRule] = list(DEFAULT_REMINDERS)
    checkin_after_minutes: int = Field(default=15, ge=0, le=24 * 60)
    ask_connected: bool = True
    weekly_summary: WeeklySummarySettings = WeeklySummarySettings()
    city_of_london: bool = False

    @field_validator("id")
    @classmethod
    def _deep_link_safe(cls, value: str) -> str:
        if not re.match(HUB_ID_PATTERN, value):
            raise ValueError("must be 1 to 64 characters of A-Z a-z 0-9 _ - (it is the invite link's payload)")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/London)") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class SignpostSettings(_Strict):
    samaritans: str = "116 123"
    shout_text: str = "SHOUT to 85258"
    nhs: str = "111, option 2"
    emergency: str = "999"
    childline: str = "0800 1111"


class SafeguardingSettings(_Strict):
    signposting: SignpostSettings = SignpostSettings()
    acknowledge_within_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    max_repeats: int = Field(default=3, ge=0, le=20)


class WellbeingSettings(_Strict):
    change_window_hours: int = Field(default=24, ge=1, le=24 * 7)
    validated_languages: list[str] = ["en"]
    extra_question_sets: list[Path] = []


class RetentionSettings(_Strict):
    anonymise_answers_after_days: int = Field(default=730, ge=1, le=7 * 366)
    run_at: time = time(3, 30)


class OrganisationSettings(_Strict):
    name: str = "Intergenerational Music Making"
    contact: str = "hello@intergenerationalmusicmaking.com"


class Settings(BaseSettings):
    """Everything the bot reads from config.toml and IMM_* variables."""

    model_config = SettingsConfigDict(
        env_prefix="IMM_", env_nested_delimiter="__", extra="forbid", frozen=True
    )
    _toml_path: ClassVar[Path | None] = None

    telegram: TelegramSettings = TelegramSettings()
    storage: StorageSettings = StorageSettings()
    web: WebSettings = WebSettings()
    organisation: OrganisationSettings = OrganisationSettings()
    default_language: str = "en"
    admins: list[TelegramId] = []
    hubs: list[HubSettings] = []
    safeguarding: SafeguardingSettings = SafeguardingSettings()
    wellbeing: WellbeingSettings = WellbeingSettings()
    retention: RetentionSettings = RetentionSettings()
    dispatch_interval_seconds: float = Field(default=5.0, gt=0, le=300)

    @model_validator(mode="after")
    def _unique_hub_ids(self) -> Settings:
        seen: set[str] = set()
        for hub in self.hubs:
            if hub.id.lower() in seen:
                raise ValueError(f"hub id {hub.id!r} is used twice")
            seen.add(hub.id.lower())
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls._toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls._toml_path))
        return tuple(sources)

    def hub(self, hub_id: str) -> HubSettings | None:
        return next((hub for hub in self.hubs if hub.id == hub_id), None)

    def is_admin(self, user_id: int) -> bool:
        return user_id in self.admins


def resolve_config_path(explicit: str | Path | None) -> tuple[Path, bool]:
    """The file to read and whether the person asked for it (then it must exist)."""
    if explicit:
        return Path(explicit), True
    if os.environ.get("IMM_CONFIG"):
        return Path(os.environ["IMM_CONFIG"]), True
    return Path("config.toml"), False


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read settings, raising ConfigError with the failing key and the reason."""
    toml_path, required = resolve_config_path(path)
    if not toml_path.exists():
        if required:
            raise ConfigError(f"configuration file {toml_path} does not exist")
        toml_path = None  # type: ignore[assignment]
    else:
        try:
            tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{toml_path}: not valid TOML: {exc}") from exc
        except OSError as exc:
            raise ConfigError(f"{toml_path}: cannot be read: {exc}") from exc

    class _FileSettings(Settings):
        _toml_path: ClassVar[Path | None] = toml_path

    try:
        loaded = _FileSettings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, toml_path)) from exc
    return loaded


def describe_validation_error(exc: ValidationError, path: Path | None) -> str:
    lines = [f"invalid configuration{f' in {path}' if path else ''}:"]
    for error in exc.errors():
        key = _key_name(error["loc"])
        reason = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            reason = "unknown key (check the spelling against config.example.toml)"
        value = error.get("input")
        shown = f" (got {value!r})" if isinstance(value, str | int | float) and error["type"] != "missing" else ""
        lines.append(f"  {key}: {reason}{shown}")
    return "\n".join(lines)


def _key_name(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"
