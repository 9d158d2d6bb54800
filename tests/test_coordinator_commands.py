"""/summary and /export for a hub's coordinators; everyone else gets a polite refusal and nothing else."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from bot.reports.charts import PNG_SIGNATURE
from bot.reports.csv_export import ANSWER_COLUMNS, ATTENDANCE_COLUMNS, SESSION_COLUMNS
from tests.conftest import COORDINATOR_ID, OTHER_COORDINATOR_ID, hub_settings, make_settings
from tests.seed_term import seed_term, term_hub

ADMIN = 9500
WEDNESDAY = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
REFUSAL = "Sorry, that is not available to you."


@pytest.fixture
async def term_bot(start_bot, api, db_path, clock):
    clock.set(WEDNESDAY)
    camden = hub_settings(id="camden", name="Camden Hub", coordinators=[OTHER_COORDINATOR_ID],
                          safeguarding_lead=OTHER_COORDINATOR_ID, weekly=[{"weekday": "thursday", "start": "16:00"}])
    settings = make_settings(api, db_path, hubs=[term_hub(), camden], admins=[ADMIN])
    bot = await start_bot(settings)
    await seed_term(bot.store, settings.hubs[0])
    return bot


def read_csv(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "Excel needs the UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


async def test_summary_shows_the_week_so_far_with_its_chart(term_bot, api):
    coordinator = api.user(COORDINATOR_ID, "Cleo")
    await coordinator.send("/summary")
    texts = [c.text for c in api.sent_ok("sendMessage", COORDINATOR_ID)]
    public = next(t for t in texts if t.startswith("📊 Woking Community Hub: this week so far"))
    assert "Monday 16 November to Wednesday 18 November" in public
    assert "Came: 15 people. Came before 12, first time <5, walk-ins <5." in public
    assert "Happier leaving: 78% (7 of 9 answers)" in public
    assert "Came again the next week: 84% (102 of 121)" in public
    private = next(t for t in texts if t.startswith("🔒 For you only"))
    assert "• Ivan: missed the last two sessions" in private and "• Omar: has gone quiet" in private
    # The chart is drawn in a child process (a Python start and matplotlib): seconds on a busy machine.
    photo = await api.wait_for(lambda c: c.method == "sendPhoto" and c.chat_id == COORDINATOR_ID, timeout=60)
    assert photo.params["photo"]["content"].startswith(PNG_SIGNATURE)


@pytest.mark.parametrize("command", ["/summary", "/export", "/register"])
async def test_a_member_is_politely_refused_and_shown_nothing(term_bot, api, command):
    anna = api.user(1001, "Anna")  # a member of the hub, not a coordinator
    calls = await anna.send(command)
    sent = [c for c in calls if c.method.startswith("send")]
    assert [c.text for c in sent] == [REFUSAL]
    assert not sent[0].params.get("reply_markup")
    stranger = api.user(4242, "Stranger")
    assert [c.text for c in await stranger.send(command) if c.method.startswith("send")] == [REFUSAL]


async def test_another_hubs_coordinator_sees_only_their_own_hub(term_bot, api):
    other = api.user(OTHER_COORDINATOR_ID, "Olu")
    await other.send("/summary")
    texts = [c.text for c in api.sent_ok("sendMessage", OTHER_COORDINATOR_ID)]
    assert any(t.startswith("📊 Camden Hub") for t in texts)
    assert not any("Woking" in t for t in texts)
    for forged in ("sum:0", "exp:0", "exp:0:term", "exp:0:year", "sum:7", "exp:x:term"):
        calls = await other.tap_data(forged)
        answers = [c for c in calls if c.method == "answerCallbackQuery"]
        assert answers and answers[0].params.get("text") == REFUSAL, forged
    assert api.sent_ok("sendDocument", OTHER_COORDINATOR_ID) == []
    assert not any("Woking" in (c.text or "") for c in api.calls_to(chat_id=OTHER_COORDINATOR_ID))


async def test_an_admin_picks_the_hub(term_bot, api):
    admin = api.user(ADMIN, "Ada")
    await admin.send("/summary")
    assert admin.buttons() == [["Woking Community Hub"], ["Camden Hub"]]
    await admin.tap("Woking Community Hub")
    await api.wait_for(lambda c: c.method == "sendPhoto" and c.chat_id == ADMIN, timeout=60)
    texts = [c.text for c in api.sent_ok("sendMessage", ADMIN)]
    assert any(t.startswith("📊 Woking Community Hub: this week so far") for t in texts)


async def test_export_sends_three_csv_files_excel_can_open(term_bot, api):
    coordinator = api.user(COORDINATOR_ID, "Cleo")
    await coordinator.send("/export")
    assert coordinator.buttons() == [["This term", "Last 4 weeks"], ["Last 12 weeks", "Last 12 months"]]
    await coordinator.tap("This term")
    await api.wait_for(lambda c: c.method == "sendDocument" and c.params["document"]["filename"] == "answers.csv")
    documents = {c.params["document"]["filename"]: c.params["document"]["content"]
                 for c in api.sent_ok("sendDocument", COORDINATOR_ID)}
    assert sorted(documents) == ["answers.csv", "attendance.csv", "sessions.csv"]

    sessions = read_csv(documents["sessions.csv"])
    assert sessions[0] == list(SESSION_COLUMNS)
    assert len(sessions) == 1 + 12  # ten weeks, the sharing, the cancelled event
    by_date = {row[1]: dict(zip(SESSION_COLUMNS, row, strict=True)) for row in sessions[1:]}
    assert by_date["2026-10-31"]["status"] == "cancelled"
    week10 = by_date["2026-11-17"]
    assert (week10["attendance_from"], week10["said_yes"], week10["came"], week10["walk_ins"]) == (
        "register", "9", "15", "2")
    assert (week10["checkins_asked"], week10["checkins_answered"], week10["happier"]) == ("11", "10", "7")
    assert by_date["2026-09-15"]["answered_on_behalf"] == "1"

    attendance = read_csv(documents["attendance.csv"])
    assert attendance[0] == list(ATTENDANCE_COLUMNS)
    assert len(attendance) == 1 + 134 + 3 + 9  # people at weekly sessions, their walk-ins, the sharing
    # In coordinators' words, not stored codes; age bands named as the join buttons name them (issue 15).
    assert {"Walk-in", "Member", "Someone a member brings"} == {row[3] for row in attendance[1:]}
    assert {row[4] for row in attendance[1:]} <= {"", "Under 5", "5 to 11", "12 to 15", "16 or 17", "18 to 64",
                                                  "65 or older"}
    assert "65 or older" in {row[4] for row in attendance[1:]}
    answers = read_csv(documents["answers.csv"])
    assert answers[0] == list(ANSWER_COLUMNS)
    assert len(answers) == 1 + 92
    assert {row[3] for row in answers[1:]} <= {"", "Happier", "About the same", "Less happy"}
    assert {row[4] for row in answers[1:]} <= {"", "Yes", "A little", "Not really"}
    assert not any("_" in cell for row in [*attendance[1:], *answers[1:]] for cell in row[3:])
    names = ("Anna", "Bob", "Mia", "Priya", "Tia")
    assert not any(name in content.decode("utf-8-sig") for content in documents.values() for name in names)
