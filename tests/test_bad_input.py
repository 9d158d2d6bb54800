"""Untrusted input, generated: text, commands, deep-link payloads and callback data.

Whatever arrives, the bot raises nothing unhandled, answers every callback query, replies kindly, and
writes nothing to the database from anything invalid.
"""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import FEATURES
from tests.test_join import join_as_family

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PREFIXES = ["j", "lang", "r", "rc", "ci", "ack", "cx", "an", "reg", "ex", "ms", "fg", "cs", "co", "sx"]
PIECE = st.one_of(
    st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=0, max_size=12),
    st.integers(min_value=-(2**63), max_value=2**64).map(str),
    st.sampled_from(["0", "-1", "999999999", "yes", "no", "all", "done", "admin", "1e9", "NaN", "woking", "camden"]),
)
CALLBACK_DATA = st.one_of(
    st.text(max_size=80),
    st.builds(lambda p, parts: ":".join([p, *parts]), st.sampled_from(PREFIXES), st.lists(PIECE, max_size=5)),
)
PAYLOAD = st.one_of(
    st.text(max_size=100).filter(lambda t: (t.split() or [""])[0] not in ("woking", "camden")),
    st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=65, max_size=90),
)


def all_commands() -> list[str]:
    names = {name for f in FEATURES for name in (*getattr(f, "COMMANDS", ()), *getattr(f, "COORDINATOR_COMMANDS", ()))}
    return sorted(names)


async def snapshot(store) -> dict[str, list[tuple]]:
    """Every row of every table (the ledger's timestamps included)."""
    tables = [r[0] for r in await store.db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {t: [tuple(r) for r in await store.db.fetchall(f'SELECT * FROM "{t}" ORDER BY rowid')] for t in tables}


class ErrorCollector:
    def __init__(self, application) -> None:
        self.errors: list[BaseException] = []
        application.add_error_handler(self.collect)

    async def collect(self, update, context) -> None:
        self.errors.append(context.error)


@FUZZ
@given(data=CALLBACK_DATA)
async def test_forged_callback_data_is_answered_and_changes_nothing(bot, api, data):
    member = api.user(701, "Nia")
    if await bot.store.member_by_user(701) is None:
        await join_as_family(bot, member)
    errors = getattr(bot, "_fuzz_errors", None) or ErrorCollector(bot.application)
    bot._fuzz_errors = errors
    before = await snapshot(bot.store)
    calls = await member.tap_data(data)
    assert any(c.method == "answerCallbackQuery" for c in calls)
    assert await snapshot(bot.store) == before
    assert errors.errors == []


@FUZZ
@given(payload=PAYLOAD)
async def test_bad_deep_link_payloads_explain_and_change_nothing(bot, api, payload):
    stranger = api.user(702, "Oli")
    before = await snapshot(bot.store)
    calls = await stranger.send(f"/start {payload}".rstrip())
    assert any(c.method == "sendMessage" for c in calls)
    assert await snapshot(bot.store) == before


@FUZZ
@given(text=st.text(min_size=1, max_size=300).filter(lambda t: t.strip() and not t.startswith("/")))
async def test_stray_text_from_a_member_gets_a_reply_and_changes_nothing(bot, api, text):
    member = api.user(703, "Pat")
    if await bot.store.member_by_user(703) is None:
        await join_as_family(bot, member, companions=())
    before = await snapshot(bot.store)
    calls = await member.send(text)
    assert any(c.method == "sendMessage" for c in calls)
    assert await snapshot(bot.store) == before


@FUZZ
@given(command=st.sampled_from(all_commands()), args=st.text(max_size=60))
async def test_every_command_with_any_arguments_from_a_stranger_is_answered(bot, api, command, args):
    stranger = api.user(704, "Quinn")
    errors = getattr(bot, "_fuzz_errors", None) or ErrorCollector(bot.application)
    bot._fuzz_errors = errors
    calls = await stranger.send(f"/{command} {args}".strip())
    assert any(c.method in ("sendMessage", "sendDocument") for c in calls)
    assert errors.errors == []
