"""The import rules: storage and classifiers stand alone; nothing headless loads Textual."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def imported_packages(package: str) -> set[str]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("storage", {"monitor", "classifiers"}), ("classifiers", {"monitor", "storage"})],
)
def test_lower_layers_do_not_import_upwards(package: str, forbidden: set[str]) -> None:
    assert imported_packages(package) & forbidden == set()


def test_headless_modules_load_neither_textual_nor_scikit_learn() -> None:
    """The daemon starts without Textual; scikit-learn waits until an article needs scoring,
    so a cycle of 304s (and every parse worker) starts fast and small."""
    code = (
        "import sys, monitor.cli, monitor.daemon, monitor.runner, monitor.export, monitor.demo\n"
        "import monitor.parse_pool, monitor.models, classifiers\n"
        "from monitor.cli import cli\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'sklearn'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
