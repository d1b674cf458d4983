"""The core never imports textual or rich (dependencies point one way: tui/cli -> core).

scikit-learn 1.9 itself imports ``rich`` (optionally, for its progress-bar callback) when
``sklearn.linear_model`` loads. So: the core packages must load no UI module at all; no core source
file may import one; and when every core submodule is loaded, ``textual`` stays out and the only
importer of ``rich`` is scikit-learn.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "threatlens"
UI_PACKAGES = ("textual", "rich")
CORE = [
    "threatlens.parsers",
    "threatlens.tail",
    "threatlens.models",
    "threatlens.models.detection",
    "threatlens.stats",
    "threatlens.export",
    "threatlens.pipeline",
    "threatlens.sources",
    "threatlens.serialize",
    "threatlens.config",
    "threatlens.textsafe",
]


@pytest.mark.parametrize("module", CORE)
def test_core_module_loads_no_ui_library(module: str) -> None:
    code = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"{module} pulled in UI modules: {out.stdout.strip()}"


def core_files() -> list[Path]:
    ui_side = ("tui", "commands", "cli.py", "demo.py", "__main__.py")
    return [p for p in SRC.rglob("*.py") if p.relative_to(SRC).parts[0] not in ui_side]


def test_no_core_source_imports_a_ui_library() -> None:
    offenders = []
    for path in core_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path.relative_to(SRC)}:{node.lineno} {n}" for n in names
                          if n.split(".")[0] in UI_PACKAGES]
    assert len(core_files()) > 30
    assert offenders == []


def test_only_scikit_learn_brings_rich_when_every_core_module_loads() -> None:
    code = """
import importlib, sys
importers = []
class Spy:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('rich', 'textual') and '.' not in name:
            frame = sys._getframe(1)
            while frame and (frame.f_globals.get('__name__', '').startswith(('importlib', '_frozen'))
                             or frame.f_code.co_filename.startswith('<frozen')):
                frame = frame.f_back
            importers.append((name, frame.f_globals.get('__name__') if frame else '?'))
        return None
sys.meta_path.insert(0, Spy())
for name in sys.argv[1:]:
    importlib.import_module(name)
print(repr(importers))
"""
    modules = []
    for path in core_files():
        parts = ["threatlens", *path.relative_to(SRC).with_suffix("").parts]
        if parts[-1] == "__main__":
            continue
        modules.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    out = subprocess.run([sys.executable, "-c", code, *modules], capture_output=True, text=True, check=True)
    importers = ast.literal_eval(out.stdout.strip())
    assert all(name == "rich" and who.startswith("sklearn.") for name, who in importers), importers
