"""Typed settings: a TOML file overridden by IMM_* environment variables, mirrored by config.example.toml."""

from __future__ import annotations

import os
import re
import tomllib
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError
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


def _hh_mm(value: Any) -> Any:
    """Only HH:MM: sessions and reminder rules are filed by the minute, so "10:53:18" would silently merge two
    of them into one (issue 14). A TOML time literal (10:30:00) is accepted when it has no seconds."""
    if isinstance(value, time) and value.second == 0 and value.microsecond == 0 and value.tzinfo is None:
        return value
    if isinstance(value, str) and re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", value):
        return time(int(value[:2]), int(value[3:]))
    raise ValueError("must be a time of day as HH:MM, 24-hour (for example \"10:30\")")


ClockTime = Annotated[time, BeforeValidator(_hh_mm)]


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
    secret_token: str = Field(default="", pattern=r"^[A-Za-z0-9_-]{0,256}$", json_schema_extra={"secret": True})


class WebSettings(_Strict):
    """The bot's own web server (/healthz; later the coordinators' dashboard) in polling mode. In webhook mode
    it listens on telegram.webhook's listen and port instead, and serves /healthz there too."""

    listen: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)  # 0: no web server in polling mode


class DashboardSettings(_Strict):
    """The coordinators' dashboard (a Telegram Mini App, docs/dashboard.md), served by the bot's own web server.

    In polling mode the web server listens on `listen` and `port` (and serves /healthz there too); in webhook
    mode the dashboard is on the webhook's server. `public_url` is the HTTPS address people reach it at,
    behind the operator's reverse proxy (plain http only for this computer, as in `imm-bot demo --dashboard`).
    """

    enabled: bool = False
    listen: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str = ""
    # How old a Mini App's signed initData may be when it signs someone in (Telegram signs it when the app opens).
    init_data_max_age_seconds: int = Field(default=3600, ge=30, le=7 * 24 * 3600)
    # How long a dashboard session (its cookie) lasts after signing in.
    session_minutes: int = Field(default=8 * 60, ge=5, le=7 * 24 * 60)

    @field_validator("public_url")
    @classmethod
    def _public_address(cls, value: str) -> str:
        if not value:
            return value
        match = re.fullmatch(r"(https?)://([^/\s?#]+)(/[^\s?#]*)?", value)
        if match is None:
            raise ValueError("must be an address such as https://imm.example.org (no query or #fragment)")
        host = match.group(2).rsplit(":", 1)[0] if not match.group(2).endswith("]") else match.group(2)
        if match.group(1) == "http" and host not in ("127.0.0.1", "localhost", "[::1]"):
            raise ValueError("must start with https:// (Telegram opens Mini Apps only over HTTPS; "
                             "http:// is allowed for 127.0.0.1 and localhost only)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _address_when_enabled(self) -> DashboardSettings:
        if self.enabled and not self.public_url:
            raise ValueError("public_url is needed when the dashboard is enabled (the HTTPS address of the bot)")
        return self

    @property
    def secure(self) -> bool:
        """Whether cookies get the Secure flag: the public address is HTTPS."""
        return self.public_url.startswith("https://")


class TelegramSettings(_Strict):
    token: str = Field(default="", json_schema_extra={"secret": True})
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
    start: ClockTime
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
    start: ClockTime
    duration_minutes: int = Field(default=120, ge=5, le=24 * 60)
    kind: Literal["celebration", "sharing", "event"] = "event"
    title: str = Field(default="", max_length=80)


class ReminderRule(_Strict):
    """When to remind: `minutes_before` the start, or `days_before` the session day at local time `at`."""

    minutes_before: int | None = Field(default=None, ge=1, le=14 * 24 * 60)
    days_before: int | None = Field(default=None, ge=0, le=14)
    at: ClockTime | None = None

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
    at: ClockTime = time(9, 0)
    enabled: bool = True


class CodesignSettings(_Strict):
    """Co-design: questions a coordinator asks the hub (/ask), and members' ideas ("💡 I have an idea")."""

    ideas: bool = True
    longest_open_days: int = Field(default=28, ge=1, le=90)
VOLUNTEER_KEY_PATTERN = r"^[a-z0-9_]{1,24}$"


class VolunteerTask(_Strict):
    """A job a volunteer can take at a session ("welcome desk", "tea", "music helper")."""

    # Short and fixed: it travels in the buttons and is what the database keeps. Renaming `name` is fine.
    id: str = Field(pattern=VOLUNTEER_KEY_PATTERN)
    name: str = Field(min_length=1, max_length=60)
    # Which kinds of session need it; empty: every session of the hub.
    kinds: list[Literal["weekly", "celebration", "sharing", "event"]] = []


class PathwayStep(_Strict):
    """A step of the hub's Activator pathway ("induction", "co-led a session", "led a session")."""

    id: str = Field(pattern=VOLUNTEER_KEY_PATTERN)
    name: str = Field(min_length=1, max_length=60)


class VolunteerSettings(_Strict):
    tasks: list[VolunteerTask] = []
    steps: list[PathwayStep] = []
    # How many tasks one volunteer may hold at one session.
    tasks_per_volunteer: int = Field(default=1, ge=1, le=10)
    # Volunteers' own reminder, with the open tasks: this many days before, at this local time.
    reminder_days_before: int = Field(default=3, ge=0, le=14)
    reminder_at: ClockTime = time(10, 0)
    # Coordinators are told this many days (of 24 hours) before a session that still has an untaken task.
    gap_notice_days_before: int = Field(default=2, ge=0, le=14)

    @model_validator(mode="after")
    def _unique_ids(self) -> VolunteerSettings:
        for field in ("tasks", "steps"):
            seen: set[str] = set()
            for index, item in enumerate(getattr(self, field)):
                if item.id in seen:
                    raise ValueError(f"{field}[{index}]: id {item.id!r} is used twice")
                seen.add(item.id)
        return self

    @property
    def configured(self) -> bool:
        return bool(self.tasks or self.steps)


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
    # Invite links (issue 14). false: only the link a coordinator gets with /invite lets people join (its code
    # can be changed, and the old link then stops working). true: t.me/<bot>?start=<id> lets anyone join too.
    open_link: bool = False
    # true: a coordinator says yes (or no) to each new member before they become one.
    approval: bool = False
    # The most companions one member can bring to a session (their Yes or Maybe); leave out for no limit.
    max_party: int | None = Field(default=None, ge=0, le=8)
    reminders: list[ReminderRule] = list(DEFAULT_REMINDERS)
    checkin_after_minutes: int = Field(default=15, ge=0, le=24 * 60)
    ask_connected: bool = True
    weekly_summary: WeeklySummarySettings = WeeklySummarySettings()
    city_of_london: bool = False
    codesign: CodesignSettings = CodesignSettings()
    volunteers: VolunteerSettings = VolunteerSettings()

    @field_validator("id")
    @classmethod
    def _deep_link_safe(cls, value: str) -> str:
        if not re.match(HUB_ID_PATTERN, value):
            raise ValueError("must be 1 to 64 characters of A-Z a-z 0-9 _ - (it is the invite link's payload)")
        if value.startswith(("ref_", "rfw_")):
            raise ValueError("must not start with ref_ or rfw_ (those are referral links)")
        return value

    @model_validator(mode="after")
    def _no_collisions(self) -> HubSettings:
        """Two slots, events or reminder rules filed under one key would silently become one: refuse, naming both."""
        def first_twin(field: str, keys: list[str]) -> None:
            seen: dict[str, int] = {}
            for index, key in enumerate(keys):
                if key in seen:
                    raise ValueError(f"{field}[{seen[key]}] and {field}[{index}] collide (both {key}): "
                                     "remove one or change its time")
                seen[key] = index

        first_twin("weekly", [f"{slot.weekday} {slot.start:%H:%M}" for slot in self.weekly])
        first_twin("events", [f"{event.kind} on {event.date} at {event.start:%H:%M}" for event in self.events])
        first_twin("reminders", [rule.key for rule in self.reminders])
        return self

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
    """Help numbers. What a person must type or dial is kept apart from the words around it, so that every
    language can say "text the word SHOUT to 85258" in its own words and show only SHOUT and 85258 as they are."""

    samaritans: str = "116 123"
    shout_keyword: str = "SHOUT"
    shout_number: str = "85258"
    nhs: str = "111"
    nhs_option: str = "2"
    emergency: str = "999"
    childline: str = "0800 1111"

    @model_validator(mode="before")
    @classmethod
    def _read_the_old_combined_keys(cls, data: Any) -> Any:
        """Configurations written before the split: shout_text = "SHOUT to 85258", nhs = "111, option 2"."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        shout = data.pop("shout_text", None)
        if isinstance(shout, str):
            keyword, _, number = shout.partition(" to ")
            data.setdefault("shout_keyword", keyword.strip())
            data.setdefault("shout_number", number.strip())
        nhs = data.get("nhs")
        if isinstance(nhs, str) and ", option " in nhs:
            data["nhs"], _, option = nhs.partition(", option ")
            data.setdefault("nhs_option", option.strip())
        return data


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
    run_at: ClockTime = time(3, 30)
    # A join left half-way (its answers name children and their ages) and a question left unanswered.
    join_drafts_after_days: int = Field(default=7, ge=1, le=90)
    pending_inputs_after_days: int = Field(default=7, ge=1, le=90)
    # Safeguarding alerts (health data) are detached from the person after this; the lead's own records are
    # kept outside the bot, under the charity's safeguarding policy.
    alerts_after_days: int = Field(default=90, ge=7, le=7 * 366)
    # The message ledger's rows of sessions that ended this long ago (who was sent what, and when).
    deliveries_after_days: int = Field(default=30, ge=3, le=366)


class PrivacySettings(_Strict):
    # The key of the erasure records (a keyed hash of a forgotten person's Telegram id). Empty: a random key
    # is generated once into a file beside the database. Keep it with the database, not with its backups.
    erasure_key: str = Field(default="", json_schema_extra={"secret": True})


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
    dashboard: DashboardSettings = DashboardSettings()
    organisation: OrganisationSettings = OrganisationSettings()
    default_language: str = "en"
    admins: list[TelegramId] = []
    hubs: list[HubSettings] = []
    safeguarding: SafeguardingSettings = SafeguardingSettings()
    wellbeing: WellbeingSettings = WellbeingSettings()
    retention: RetentionSettings = RetentionSettings()
    privacy: PrivacySettings = PrivacySettings()
    dispatch_interval_seconds: float = Field(default=5.0, gt=0, le=300)

    @model_validator(mode="wrap")
    @classmethod
    def _every_error_at_once(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """Checks across keys (a hub id used twice, a reminder at or after its session's start) run on the raw
        values beside pydantic's own, so one run reports every mistake, each at its key path (hubs[1].id)."""
        extra = _cross_checks(data)
        try:
            settings = handler(data)
        except ValidationError as exc:
            if not extra:
                raise
            raise ValidationError.from_exception_data(cls.__name__, [*_as_details(exc), *extra]) from None
        if extra:
            raise ValidationError.from_exception_data(cls.__name__, extra)
        return settings

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


def _error(loc: tuple[str | int, ...], message: str, value: Any) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=value)


def _as_details(exc: ValidationError) -> list[InitErrorDetails]:
    """pydantic's errors, re-raisable beside ours with their types, key paths and messages unchanged."""
    return [InitErrorDetails(type=PydanticCustomError(e["type"], e["msg"].replace("{", "{{").replace("}", "}}")),
                             loc=e["loc"], input=e.get("input")) for e in exc.errors()]


def _cross_checks(data: Any) -> list[InitErrorDetails]:
    if not isinstance(data, dict) or not isinstance(data.get("hubs"), list):
        return []
    errors: list[InitErrorDetails] = []
    first_use: dict[str, int] = {}
    for index, raw in enumerate(data["hubs"]):
        if isinstance(raw, HubSettings):  # built in code (tests, the demo) rather than read from a file
            hub_id, given = raw.id, raw.model_fields_set
        elif isinstance(raw, dict):
            hub_id, given = raw.get("id"), set(raw)
        else:
            continue
        if isinstance(hub_id, str):
            if hub_id.lower() in first_use:
                errors.append(_error(("hubs", index, "id"),
                                     f"hub id {hub_id!r} is already used by hubs[{first_use[hub_id.lower()]}]", hub_id))
            first_use.setdefault(hub_id.lower(), index)
        try:
            hub = raw if isinstance(raw, HubSettings) else HubSettings.model_validate(raw)
        except ValidationError:
            continue  # its own errors come from the full validation
        for rule, message in late_reminders(hub):
            if "reminders" in given:
                errors.append(_error(("hubs", index, "reminders", rule), message, None))
            else:
                errors.append(_error(("hubs", index, "reminders"), "the default " + message.removeprefix("a ")
                                     + "; give this hub its own reminders", None))
    return errors


def late_reminders(hub: HubSettings) -> list[tuple[int, str]]:
    """Reminder rules that would arrive at or after a session's start: (index in hub.reminders, the reason).

    Only "on the day" rules can (days_before = 0 with `at` no earlier than a start); minutes_before is always
    before, and a day before is before whatever the times.
    """
    starts = [(f"the {slot.weekday} {slot.start:%H:%M} session", slot.start) for slot in hub.weekly]
    starts += [(f"the event on {event.date} at {event.start:%H:%M}", event.start) for event in hub.events]
    late = []
    for index, rule in enumerate(hub.reminders):
        if rule.days_before != 0 or rule.at is None:
            continue
        clash = next((name for name, start in starts if rule.at >= start), None)
        if clash is not None:
            late.append((index, f"a reminder at {rule.at:%H:%M} on the day comes at or after the start of {clash}: "
                                "use an earlier time, days_before = 1, or minutes_before"))
    return late


def resolve_config_path(explicit: str | Path | None) -> tuple[Path, bool]:
    """The file to read and whether the person asked for it (then it must exist)."""
    if explicit:
        return Path(explicit), True
    if os.environ.get("IMM_CONFIG"):
        return Path(os.environ["IMM_CONFIG"]), True
    return Path("config.toml"), False


def configuration_present(explicit: str | Path | None) -> bool:
    """Whether anyone configured this bot: a file (named, in IMM_CONFIG, or ./config.toml) or any IMM_* variable.

    Only with none at all does `imm-bot run` play the demo; a deployment that lost its token must fail loudly
    (exit 2), not play a demo and exit 0 while systemd or Docker believe all is well.
    """
    path, _ = resolve_config_path(explicit)
    return path.exists() or bool(explicit) or any(name.startswith("IMM_") for name in os.environ)


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
        # from None: pydantic's own error holds every offending value (secrets too), and a traceback would
        # print it under ours.
        raise ConfigError(describe_validation_error(exc, toml_path)) from None
    return loaded


def describe_validation_error(exc: ValidationError, path: Path | None) -> str:
    lines = [f"invalid configuration{f' in {path}' if path else ''}:"]
    for error in exc.errors():
        key = _key_name(error["loc"])
        reason = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            reason = "unknown key (check the spelling against config.example.toml)"
        value = error.get("input")
        # A value is shown only where it cannot be a secret: never for a key marked secret, a key whose name
        # suggests one, or an unknown key (a misspelt `tokne` would hold the token).
        showable = (isinstance(value, str | int | float) and error["type"] not in ("missing", "extra_forbidden")
                    and not _secret(error["loc"]))
        shown = f" (got {value!r})" if showable else ""
        lines.append(f"  {key}: {reason}{shown}")
    return "\n".join(lines)


_SECRET_WORDS = ("token", "secret", "key", "password")


def _secret(loc: tuple[Any, ...]) -> bool:
    """Whether the key at `loc` is marked secret (json_schema_extra={"secret": True}) or named like one."""
    if any(isinstance(part, str) and any(word in part.lower() for word in _SECRET_WORDS) for part in loc):
        return True
    model: Any = Settings
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return False
        extra = field.json_schema_extra
        if isinstance(extra, dict) and extra.get("secret"):
            return True
        annotation = field.annotation
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return False


def _key_name(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"
