"""`imm-bot report`: the funder report of the hand-made term, every figure as worked out by hand, and its files."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta

from babel.dates import format_date

from bot.cli import main
from bot.reports.charts import PNG_SIGNATURE
from bot.reports.csv_export import SESSION_COLUMNS
from storage import Store
from tests.seed_term import JOINED, seed_term, term_hub

# Worked out by hand from tests/seed_term.py (see tests/test_summary_figures.py for the weekly figures):
# reach: 13 members + Mia, Leo, Rose, Sam, Ravi = 18 people, 7 walk-in visits (Priya; Tia, Nell; Joe, Ama, Kit,
# Bea); directly 17 people + 3 visits = 20, indirectly Lin + 4 visits = 5; returning: the 6 people of 7 July.
# Bands: under 5 Leo + Kit = 2, 5-11 Mia, Ravi + Tia = 3, 12-15 Sam = 1, 18-64 Priya, Ama = 2, 65+ Rose, Joe = 2,
# members 13, no age 2 (Nell, Bea); children 6, adults 17 (children "not shown": with the age-not-given cell
# hidden alone, the total 25 would give it away). Term measures on matched pairs, carers' proxy pairs apart:
# life satisfaction 32/6 = 5.3 -> 40/6 = 6.7, better 5; anxiety 30/7 = 4.3 -> 26/7 = 3.7, better 3 same 2
# worse 2; UCLA total 33/6 = 5.5 -> 26/6 = 4.3, lower for 5. Alerts: 4 raised, 3 acknowledged.
# Co-design (tests/seed_codesign.py): two questions closed in the dates, answered by 13 different members; the
# sharing songs 6 / 1 / 5 of 12 (the 1 hidden, and with it the smallest other count, 5: "not shown"), the party
# day 5 / 2 of 7 (the 2 hidden, so the 5 too); the drumming question is still open on 22 November, so not here.
# Ideas: 3, from Eve (2) and Hana.
# Volunteers (issue 17): Jo, Eve, Hana, Ivan, Omar = 5. Saved registers: week 5 (90 minutes) ticks all five,
# week 10 ticks Jo, Eve, Hana (Ivan could not come, Omar did not answer), the sharing none of them: 8 x 90 = 720
# minutes = 12 hours; active 5. Steps by 22 November: induction 5, co-led 2 (Hana's is 25 November), led 1.
# Referrals: surgery 6 (Anna, Bob, Lin, Kemi, Finn, Gita), all on a saved register at least once (Anna and Bob at
# weeks 5, 10 and the sharing: 3 times; Lin sharing; Kemi week 10; Finn week 5; Gita weeks 5 and 10); mental health
# team 2 (Omar week 5; Hana weeks 5 and 10), neither three times.
EXPECTED = """# Woking Community Hub: report for 1 September 2026 to 22 November 2026

Prepared by imm-bot on {today}. Numbers under 5 show as <5, to protect people's privacy.

## Sessions
- Sessions held: 11 (weekly 10, sharing 1)
- Sessions cancelled: 1

## People reached
- People reached: 25 (18 people we know, 7 walk-in visits)
- Directly, at weekly sessions and other activities: 20
- Indirectly, only at sharing and celebration events: 5
- New: 12. Returning (came before 1 September 2026): 6.

| Age band | People |
|---|---|
| Under 5 | <5 |
| 5 to 11 | <5 |
| 12 to 15 | <5 |
| 16 or 17 | 0 |
| 18 to 64 | <5 |
| 65 or older | <5 |
| Members, 16 or older | 13 |
| Walk-ins, age not given | <5 |
| All children (under 18) | not shown |
| All adults | 17 |

Walk-ins have no account, so each visit counts once. Members are 16 or older; we do not ask their age band.

## How people felt after sessions
- Response rate: 93% (92 of 99 asked)
- Happier leaving: 89% (79 of 89 answers)
- More connected (Yes or A little): 97% (85 of 88 answers)
- Answers a carer gave on someone's behalf: <5

The check-in is one quick question after each session. It is not a validated wellbeing scale.

## Coming back
- Came again the next week: 84% (102 of 121)
- Week 1 starters who came in week 10: 79% (11 of 14)
- Came to at least 8 of 10 weeks: 65% (11 of 17 people)

Counted for members and the companions they bring. Walk-ins cannot be followed week to week.

## Term measures: start and end of term
Only people who answered at both the start and the end are counted (matched pairs).

| Question | Pairs | Average at start | Average at end | Better | Same | Worse |
|---|---|---|---|---|---|---|
| Life satisfaction (ONS, 0 to 10, higher is better) | 6 | 5.3 | 6.7 | 5 (83%) | <5 | <5 |
| Anxious yesterday (ONS, 0 to 10, lower is better) | 7 | 4.3 | 3.7 | <5 | <5 | <5 |
| Lack companionship (UCLA, 1 to 3, lower is better) | 6 | 2.0 | 1.3 | <5 | <5 | 0 (0%) |
| Feel left out (UCLA, 1 to 3, lower is better) | 6 | 1.8 | 1.5 | <5 | <5 | 0 (0%) |
| Feel isolated (UCLA, 1 to 3, lower is better) | 6 | 1.7 | 1.5 | <5 | 5 (83%) | <5 |
| UCLA loneliness score (3 to 9, lower is better) | 6 | 5.5 | 4.3 | 5 (83%) | <5 | <5 |

- More connected: loneliness score lower at the end for 83% (5 of 6 people)

### Answered on someone's behalf
A carer answered for the person. These are shown apart and left out of the ONS4 figures above.

| Question | Pairs | Average at start | Average at end | Better | Same | Worse |
|---|---|---|---|---|---|---|
| Life satisfaction (ONS, 0 to 10, higher is better) | <5 | – | – | – | – | – |
| Anxious yesterday (ONS, 0 to 10, lower is better) | <5 | – | – | – | – | – |

ONS4: the ONS personal wellbeing questions, 0 to 10. Loneliness: ONS direct question and UCLA 3-item scale.

## Co-design
- Questions asked and closed: 2. Members who answered at least one: 13.
- What shall we sing at the sharing? (12 answered of 13 asked)
  - Beatles songs: 6
  - Sea shanties: <5
  - Songs from home: not shown
- Which day suits you for the winter party? (7 answered of 13 asked)
  - Saturday: not shown
  - Sunday: <5
- Ideas members sent in their own words: <5, from <5 members.

Members answer the hub's questions with one tap. Ideas go straight to the coordinators.

## Volunteers (IMM Activators)
- Volunteers now: 5
- Active in this period (took a task or came): 5
- Volunteer hours, from saved registers: 12

Pathway: people who have done each step by 22 November 2026

| Step | People |
|---|---|
| Induction | 5 |
| Co-led a session | <5 |
| Led a session | <5 |

A volunteer ticked as present on a saved register gets the session's whole length.

## Referrals
| Referred by | People referred | Came at least once | Came 3 times or more |
|---|---|---|---|
| Community mental health team | <5 | <5 | 0 |
| Woking Surgery link worker | 6 | 6 | <5 |

Referred: joined through the link by 22 November 2026. Came: ticked on saved registers in this period.

## Safeguarding
- Alerts raised: <5. Acknowledged: <5.

## City of London
- This hub is set up for people who live or work in the City of London. People reached: 25.
The bot does not ask each person where they live or work. The hub's setting applies to everyone it reaches.

## Files
- sessions.csv, attendance.csv and answers.csv: one row per session, per person at a session, and per check-in.
- People appear as codes, never names. Keep the CSV files inside the charity.
- chart.png: people who came, and % happier leaving, week by week.
"""
CONFIG = """
[storage]
path = "{db}"

[[hubs]]
id = "woking"
name = "Woking Community Hub"
city_of_london = true

[hubs.volunteers]
tasks = [{{ id = "welcome", name = "Welcome desk" }}, {{ id = "tea", name = "Tea and biscuits" }}]
steps = [{{ id = "induction", name = "Induction" }}, {{ id = "co_led", name = "Co-led a session" }},
         {{ id = "led", name = "Led a session" }}]
"""


def seed(db) -> None:
    async def write() -> None:
        hub = term_hub()
        async with Store(db) as store:
            await store.sync_hubs([hub], JOINED)
            await seed_term(store, hub)

    asyncio.run(write())


def test_the_report_command_writes_the_report_csvs_and_chart(tmp_path, capsys):
    db, out, config = tmp_path / "imm.sqlite3", tmp_path / "report", tmp_path / "config.toml"
    seed(db)
    config.write_text(CONFIG.format(db=db), encoding="utf-8")
    code = main(["--config", str(config), "report", "--hub", "woking", "--from", "2026-09-01", "--to", "2026-11-22",
                 "--out", str(out)])
    assert code == 0
    names = ("report.md", "sessions.csv", "attendance.csv", "answers.csv", "chart.png")
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    assert capsys.readouterr().out.split() == [str(out / name) for name in names]

    # The report is dated the day it is written: its zone's date, either side of midnight (issue 14).
    days = {datetime.now(UTC).date() - timedelta(days=d) for d in (-1, 0, 1)}
    written = (out / "report.md").read_text(encoding="utf-8")
    assert written in {EXPECTED.format(today=format_date(day, "d MMMM y", locale="en")) for day in days}
    chart = (out / "chart.png").read_bytes()
    assert chart.startswith(PNG_SIGNATURE) and len(chart) > 10_000
    sessions = (out / "sessions.csv").read_bytes()
    assert sessions.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(sessions.decode("utf-8-sig"))))
    assert rows[0] == list(SESSION_COLUMNS) and len(rows) == 1 + 12


def test_the_report_command_refuses_what_it_cannot_do(tmp_path, capsys):
    db, config = tmp_path / "imm.sqlite3", tmp_path / "config.toml"
    config.write_text(CONFIG.format(db=db), encoding="utf-8")
    base = ["--config", str(config), "report", "--out", str(tmp_path / "out")]
    assert main([*base, "--hub", "woking", "--from", "2026-09-01", "--to", "2026-11-22"]) == 2
    assert "no database" in capsys.readouterr().err
    seed(db)
    assert main([*base, "--hub", "nowhere", "--from", "2026-09-01", "--to", "2026-11-22"]) == 2
    assert "no hub 'nowhere'" in capsys.readouterr().err
    assert main([*base, "--hub", "woking", "--from", "2026-11-22", "--to", "2026-09-01"]) == 2
    assert not (tmp_path / "out").exists()


def test_csv_cells_a_spreadsheet_could_run_are_neutralised(tmp_path, capsys):
    """OWASP's CSV injection advice: a text cell starting with = + - @ tab or CR gets a leading quote."""
    db, out, config = tmp_path / "imm.sqlite3", tmp_path / "report", tmp_path / "config.toml"

    async def write() -> None:
        hub = term_hub(events=[{"date": "2026-11-14", "start": "14:00", "kind": "sharing",
                                "title": '=HYPERLINK("http://x","y")'},
                               {"date": "2026-10-31", "start": "11:00", "kind": "event", "title": "Halloween songs"}])
        async with Store(db) as store:
            await store.sync_hubs([hub], JOINED)
            await seed_term(store, hub)

    asyncio.run(write())
    config.write_text(CONFIG.format(db=db), encoding="utf-8")
    assert main(["--config", str(config), "report", "--hub", "woking", "--from", "2026-09-01", "--to", "2026-11-22",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    rows = list(csv.reader(io.StringIO((out / "sessions.csv").read_bytes().decode("utf-8-sig"))))
    titles = [row[SESSION_COLUMNS.index("title")] for row in rows[1:]]
    assert "'=HYPERLINK(\"http://x\",\"y\")" in titles and not any(t.startswith("=") for t in titles)

    from bot.reports.csv_export import csv_bytes

    cells = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "fine", "a=b", -3, 2.5]
    text = csv_bytes(["h"] * len(cells), [cells]).decode("utf-8-sig")
    written = list(csv.reader(io.StringIO(text, newline="")))[1]
    assert written == ["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "fine", "a=b", "-3", "2.5"]


def test_a_period_with_no_sessions_held_says_so_at_the_top(tmp_path, capsys):
    """Issue 15 item 10: not "Sessions held: 0 (0)" and "Came to at least 0 of 0 weeks" with no warning."""
    db, out, config = tmp_path / "imm.sqlite3", tmp_path / "report", tmp_path / "config.toml"
    seed(db)
    config.write_text(CONFIG.format(db=db), encoding="utf-8")
    code = main(["--config", str(config), "report", "--hub", "woking", "--from", "2026-08-01", "--to", "2026-08-31",
                 "--out", str(out)])
    assert code == 0
    lines = (out / "report.md").read_text(encoding="utf-8").split("\n")
    assert lines[2].startswith("> **No sessions were held in this period**")
    assert "- Sessions held: none" in lines and "(0)" not in "\n".join(lines)
    assert not any("0 of 0 weeks" in line for line in lines)
    assert "- No weekly sessions were held in this period, so there is nothing to measure yet." in lines


def test_as_of_counts_what_had_happened_by_the_end_of_that_day(tmp_path, capsys):
    db, out, config = tmp_path / "imm.sqlite3", tmp_path / "report", tmp_path / "config.toml"
    seed(db)
    config.write_text(CONFIG.format(db=db), encoding="utf-8")
    base = ["--config", str(config), "report", "--hub", "woking", "--from", "2026-09-01", "--to", "2026-11-22"]
    assert main([*base, "--out", str(out), "--as-of", "2026-08-31"]) == 0
    assert "No sessions were held" in (out / "report.md").read_text(encoding="utf-8")
    assert main([*base, "--out", str(tmp_path / "later"), "--as-of", "2026-11-22"]) == 0
    later = (tmp_path / "later" / "report.md").read_text(encoding="utf-8")
    assert "- Sessions held: 11 (weekly 10, sharing 1)" in later and "Prepared by imm-bot on 22 November 2026" in later
