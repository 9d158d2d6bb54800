"""Run a Python module under cProfile, switched on and off by signals: for bench.tap_cpu.

    python -m bench.profiled OUT.prof -m bot --config imm.toml run

SIGUSR1 starts profiling the main thread (where the event loop runs), SIGUSR2 stops it and writes the
statistics to OUT.prof, so that start-up and the reminders' fan-out stay out of a profile of the taps.
"""

from __future__ import annotations

import cProfile
import runpy
import signal
import sys
from types import FrameType


def main() -> None:
    out, flag, module, *rest = sys.argv[1:]
    if flag != "-m":
        raise SystemExit("usage: python -m bench.profiled OUT.prof -m MODULE [ARGS...]")
    profile = cProfile.Profile()

    def start(signum: int, frame: FrameType | None) -> None:
        profile.enable()

    def stop(signum: int, frame: FrameType | None) -> None:
        profile.disable()
        profile.dump_stats(out)

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    sys.argv = [module, *rest]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
