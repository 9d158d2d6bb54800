"""CSV files of a hub over a period, for /export and the funder report: sessions, attendance, answers.

UTF-8 with a byte-order mark, so Excel opens them with the right characters. Nobody is named: people are
`m<id>` (member) or `c<id>` (companion) codes; walk-ins and anonymised answers have no code.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.domain.sessions import Session
from bot.messages.catalog import load_catalogs
from bot.messages.i18n import format_clock
from bot.reports.charts import off_loop
from storage.exports import answer_row
from storage.presence import Window
from storage.snapshot import HeldSessionTally, attendance_row

if TYPE_CHECKING:
    from bot.config import HubSettings
    from storage import Store
    from storage.reports import CheckinTally

SESSION_COLUMNS = (
    "session_id", "date", "start", "kind", "title", "term", "status", "attendance_from", "said_yes",
    "yes_people", "said_maybe", "said_no", "came", "walk_ins", "new", "returning", "no_shows", "checkins_asked",
    "checkins_answered", "happier", "same", "less_happy", "could_not_come", "connected_yes", "connected_a_little",
    "connected_not_really", "answered_on_behalf",
)
ATTENDANCE_COLUMNS = ("session_id", "date", "person", "type", "age_band", "source")
ANSWER_COLUMNS = ("session_id", "date", "person", "feeling", "connected", "could_not_come", "answered_as")
FILES = ("sessions.csv", "attendance.csv", "answers.csv")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(cell: object) -> object:
    """A text cell a spreadsheet could take for a formula, made inert as OWASP advises (a leading ').

    Numbers stay numbers; only text is changed (a title such as "=HYPERLINK(...)" or "-1+1").
    """
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def value(column: str, code: str | None) -> str:
    """A stored code as coordinators say it ("a_little" -> "A little"), from the [csv_values] catalog table.

    An unknown code is written as it is, so no row is lost to a wording that is missing.
    """
    if code is None or code == "":
        return ""
    return _ENGLISH.get(f"csv_values.{column}_{code}", code)


def _band(code: str | None) -> str:
    """Age bands by the names the join buttons show ("5 to 11", "65 or older"), never "age_5_11" beside "older"."""
    if not code:
        return ""
    return _ENGLISH.get(f"age_band.{code}", code)


_ENGLISH = load_catalogs()["en"]


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralised(cell) for cell in header])
    writer.writerows([neutralised(cell) for cell in row] for row in rows)
    return buffer.getvalue().encode("utf-8-sig")


async def export_files(store: Store, hub: HubSettings, window: Window) -> dict[str, bytes]:
    """{file name: CSV bytes} for the hub's sessions starting in the window (and begun by its `now`).

    The queries run on SQLite's own thread; turning a year of rows into CSV (about 70,000 rows, seconds of
    Python for a big hub) runs in the worker thread that draws charts, so taps are answered meanwhile (issue 14).
    """
    async with store.attendance_snapshot(window) as snapshot:
        held = {t.session_id: t for t in await snapshot.session_tallies(window)}
        attendance = await snapshot.attendance_records(window)
    checkins = {c.session_id: c for c in await store.checkin_tallies(window)}
    sessions = [s for s in await store.sessions_of_hub(hub.id, window.start, window.end) if s.starts_at <= window.now]
    answers = await store.answer_records(window)
    return await off_loop(export_bytes, hub, sessions, held, checkins, attendance, answers)


def export_bytes(hub: HubSettings, sessions: Sequence[Session], held: dict[int, HeldSessionTally],
                 checkins: dict[int, CheckinTally], attendance: Sequence[Any],
                 answers: Sequence[Any]) -> dict[str, bytes]:
    """The three files from what was fetched (pure, no I/O: runs in a worker thread)."""
    return {
        "sessions.csv": _sessions_csv(hub, sessions, held, checkins),
        "attendance.csv": csv_bytes(ATTENDANCE_COLUMNS, (
            (r.session_id, r.local_date.isoformat(), r.person, value("type", r.what), _band(r.age_band),
             value("source", r.source))
            for r in map(attendance_row, attendance)
        )),
        "answers.csv": csv_bytes(ANSWER_COLUMNS, (
            (r.session_id, r.local_date.isoformat(), r.person, value("feeling", r.feeling),
             value("connected", r.connected), int(r.could_not_come), value("answered_as", r.answered_as))
            for r in map(answer_row, answers)
        )),
    }


def _sessions_csv(hub: HubSettings, sessions: Sequence[Session], held: dict[int, HeldSessionTally],
                  checkins: dict[int, CheckinTally]) -> bytes:
    rows = []
    for session in sessions:
        base: list[object] = [session.id, session.local_date.isoformat(), _clock(session.starts_at, hub),
                              session.kind, session.title, session.term or ""]
        tally, answers = held.get(session.id), checkins.get(session.id)
        if tally is None or answers is None:
            rows.append([*base, "cancelled", *[""] * (len(SESSION_COLUMNS) - len(base) - 1)])
            continue
        rows.append([
            *base, "held", "register" if tally.register_taken else "inferred", tally.yes, tally.yes_people,
            tally.maybe, tally.no, tally.attended, tally.walk_ins, tally.new, tally.returning, tally.no_shows,
            answers.asked, answers.responses, answers.happier, answers.same, answers.less_happy, answers.absent,
            answers.connected_yes, answers.connected_little, answers.connected_not, answers.on_behalf,
        ])
    return csv_bytes(SESSION_COLUMNS, rows)


def _clock(moment: datetime, hub: HubSettings) -> str:
    return format_clock(moment, hub.tz, "en")
