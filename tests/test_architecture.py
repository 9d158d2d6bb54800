"""The folders show the architecture, and tools keep it so (docs/architecture.md).

- import-linter's contracts in pyproject.toml hold, and breaking one (Telegram in the domain) is caught;
- no import cycle among the project's modules, imports inside functions included;
- what `imm-bot run` imports loads no simulator module;
- bot/ keeps at most a dozen modules at its top level.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "storage")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})


def test_the_import_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_telegram_imported_by_the_domain_breaks_a_contract(tmp_path: Path):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    calendar = tmp_path / "bot" / "domain" / "calendar.py"
    calendar.write_text(calendar.read_text() + "\n\ndef _sneaky():\n    import telegram  # noqa: F401\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1
    assert "The domain is pure" in result.stdout and "BROKEN" in result.stdout
    assert "bot.domain.calendar -> telegram" in result.stdout


def strongly_connected(graph: grimp.ImportGraph) -> list[set[str]]:
    """Tarjan's algorithm over the module graph: every group of modules that import each other in a ring."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == module:
                    break
            if len(group) > 1:
                groups.append(group)

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 5000))
    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return groups


def test_no_import_cycles_even_through_imports_inside_functions():
    # grimp reads every import statement, inside functions too; imports only for type checkers never run.
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    assert "bot.domain.calendar" in graph.modules
    assert strongly_connected(graph) == []


def test_the_cycle_finder_finds_a_ring():
    graph = grimp.ImportGraph()
    for name in ("a", "b", "c"):
        graph.add_module(name)
    graph.add_import(importer="a", imported="b")
    graph.add_import(importer="b", imported="c")
    graph.add_import(importer="c", imported="a")
    assert strongly_connected(graph) == [{"a", "b", "c"}]


def test_what_run_needs_loads_no_simulator_module(tmp_path: Path):
    script = """
import sys
from bot import cli
from bot.config import load_settings
parser = cli.build_parser()
args = parser.parse_args(["run"])
settings = load_settings(None)
from bot.app import build_application
from bot.runtime import serve
build_application(settings, token="123:abc")
loaded = sorted(name for name in sys.modules if name.startswith("bot.simulator"))
print("LOADED", loaded)
"""
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                                 "IMM_STORAGE__PATH": str(tmp_path / "bot.sqlite3")})
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stdout, result.stdout


def test_bot_has_at_most_a_dozen_top_level_modules():
    modules = sorted(path.name for path in (ROOT / "bot").glob("*.py"))
    assert len(modules) <= 12, modules
    rooms = {path.name for path in (ROOT / "bot").iterdir() if (path / "__init__.py").exists()}
    assert {"domain", "delivery", "messages", "reports", "transport", "simulator", "jobs"} <= rooms
