"""Every benchmark in bench/ runs end to end at toy sizes, so none of them rots between real runs.

The figures themselves are not checked here (docs/benchmarks.md has the real runs); only that each script
still drives the real bot and produces its report.
"""

from __future__ import annotations

from pathlib import Path

from bench import chart_taps, memory, reminder_fanout, summary_bench, taps


async def test_the_taps_benchmark_runs_both_bots_and_reports_the_ratio(tmp_path: Path):
    args = taps.parse_args(["--members", "8", "--seconds", "0.4", "--levels", "1,4", "--delays", "0,0.02",
                            "--rates", "20", "--bots", "imm,bare-default,bare-aiohttp",
                            "--output", str(tmp_path / "taps.md")])
    text = await taps.run(args, log=lambda _line: None)
    assert "| in flight | imm | bare-default | bare-aiohttp |" in text
    assert "Ratio imm / bare-default" in text and "Ratio imm / bare-aiohttp" in text
    assert (tmp_path / "taps.md").read_text() == text
    # Each open-loop row splits a tap's time: its delivery and the bot's share are each part of the whole.
    rows = [line.split("|")[1:-1] for line in text.splitlines() if line.startswith("| imm | 20 |")]
    assert len(rows) == 2  # one per delay
    for row in rows:
        p99, delivery, share = (float(cell) for cell in row[4:7])
        assert 0 <= delivery <= p99 and 0 < share <= p99


async def test_the_memory_benchmark_measures_the_bot_process(tmp_path: Path):
    # The fan-out window ends as soon as all 60 are sent; it is long because on a Monday the coordinator's weekly
    # summary goes first, and its chart (a child process that loads matplotlib) takes seconds on a busy machine.
    report = await memory.measure(60, fanout_seconds=60, taps=30, workdir=tmp_path, log=lambda _line: None)
    assert report.sent == 60 and report.taps >= 30
    assert 20 < report.after_start_mb <= report.peak_mb
    assert report.summary_mb >= report.after_start_mb and "goal 120 MB" in report.markdown()


async def test_the_summary_benchmark_times_the_summary_and_the_bare_aggregate():
    figures = await summary_bench.run(members=40, repeat=1)
    assert figures


def test_the_reminder_fanout_benchmark_runs_at_toy_sizes(tmp_path: Path):
    output = tmp_path / "fanout.md"
    assert reminder_fanout.main(["--members", "40", "--paced", "40", "--ptb-limiter", "40", "--round-trip", "10",
                                 "--output", str(output)]) == 0
    assert output.read_text().strip()


async def test_the_chart_taps_benchmark_times_taps_with_and_without_charts(tmp_path: Path):
    args = chart_taps.parse_args(["--members", "8", "--history", "20", "--rate", "10", "--seconds", "2",
                                  "--rounds", "1", "--charts", "2", "--bots", "process,loop",
                                  "--output", str(tmp_path / "c.md")])
    text = await chart_taps.run(args, log=lambda _line: None)
    assert "| process | charts |" in text and "| loop | charts |" in text
    assert "charts drawn during the chart phases: process 2, loop 2 (2 a round)" in text
    assert (tmp_path / "c.md").read_text() == text
async def test_the_codesign_benchmark_times_each_path_beside_its_yardstick():
    from bench import codesign_bench

    times = await codesign_bench.one_run(12)
    assert len(times) == 6 and all(seconds > 0 for seconds in times.values())
