"""Layering: the framework (batch scheduling, explain, the plugin API) never imports the replay; the
replay extends the pod cycle through the framework's declared hooks (framework.loop.CycleHooks)."""

from __future__ import annotations

import ast
import pathlib

import schedkit

FRAMEWORK = pathlib.Path(schedkit.__file__).parent / "framework"


def _imported_modules(path: pathlib.Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_framework_modules_never_import_the_replay():
    offenders = {}
    for path in sorted(FRAMEWORK.glob("*.py")):
        bad = {name for name in _imported_modules(path) if "replay" in name.split(".")}
        if bad:
            offenders[path.name] = sorted(bad)
    assert not offenders, f"framework modules importing the replay: {offenders}"


def test_the_check_sees_imports_at_any_depth(tmp_path):
    # The check itself must be able to fail: an import inside a function is still an import.
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from ..replay.incremental import fast_fail_lines\n")
    assert "..replay.incremental" in _imported_modules(sample)
