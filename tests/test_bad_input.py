"""Untrusted input, generated: text, commands, deep-link payloads and callback data.

Whatever arrives, the bot raises nothing unhandled, answers every callback query, replies kindly, and
writes nothing to the database from anything invalid.
"""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import COMMAND_MODULES
from tests.conftest import OTHER_COORDINATOR_ID
from tests.test_join import join_as_family

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PREFIXES = ["j", "lang", "r", "rc", "ci", "ack", "cx", "an", "reg", "ex", "ms", "fg", "cs", "co", "sx",
            "rt", "mi", "sg", "sum", "exp"]
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
    names = {name for f in COMMAND_MODULES
             for name in (*getattr(f, "COMMANDS", ()), *getattr(f, "COORDINATOR_COMMANDS", ()))}
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


# Well-formed forgeries: the right shape, real ids, but for a hub the person has nothing to do with.
MEMBER_PREFIXES = ["r", "ci", "mi", "ms", "sg"]
COORDINATOR_PREFIXES = ["sx", "an", "reg", "sum", "exp"]
ACTIONS = ["y", "n", "m", "w", "t1", "c0", "p", "r", "h", "f", "c", "x", "e", "a", "happier", "same", "less_happy",
           "yes", "a_little", "not_really", "self", "on_behalf", "talk", "ack", "change", "start", "end", "0", "1"]


def forged(prefixes: list[str], ids: list[str]) -> st.SearchStrategy[str]:
    part = st.one_of(st.sampled_from(ids), st.sampled_from(ACTIONS))
    return st.builds(lambda p, parts: ":".join([p, *parts]), st.sampled_from(prefixes),
                     st.lists(part, min_size=1, max_size=3))


async def ids_of_hub(bot, hub: str) -> list[str]:
    sessions = await bot.store.upcoming_sessions(hub, bot.services.clock.now(), 4)
    return [hub, *(str(s.id) for s in sessions), *(f"s{s.id}" for s in sessions)]


@FUZZ
@given(data=st.data())
async def test_another_hubs_coordinator_forging_buttons_for_this_hub_changes_nothing(bot, api, data):
    woking = await ids_of_hub(bot, "woking")
    forgery = data.draw(forged(MEMBER_PREFIXES + COORDINATOR_PREFIXES, woking))
    camden_coordinator = api.user(OTHER_COORDINATOR_ID, "Cam")  # coordinates Camden only, a member nowhere
    before = await snapshot(bot.store)
    calls = await camden_coordinator.tap_data(forgery)
    assert any(c.method == "answerCallbackQuery" for c in calls)
    assert await snapshot(bot.store) == before, forgery


@FUZZ
@given(data=st.data())
async def test_a_member_forging_buttons_for_another_hub_or_for_coordinators_changes_nothing(bot, api, data):
    member = api.user(705, "Rae")
    if await bot.store.member_by_user(705) is None:
        await join_as_family(bot, member, companions=())  # a member of Woking only
    camden, woking = await ids_of_hub(bot, "camden"), await ids_of_hub(bot, "woking")
    forgery = data.draw(st.one_of(forged(MEMBER_PREFIXES, camden), forged(COORDINATOR_PREFIXES, camden + woking)))
    before = await snapshot(bot.store)
    calls = await member.tap_data(forgery)
    assert any(c.method == "answerCallbackQuery" for c in calls)
    assert await snapshot(bot.store) == before, forgery
