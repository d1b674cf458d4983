"""The core never imports textual or rich (dependencies point one way: tui/cli -> core)."""

from __future__ import annotations

import subprocess
import sys

import pytest

CORE = [
    "threatlens.parsers",
    "threatlens.tail",
    "threatlens.models",
    "threatlens.stats",
    "threatlens.export",
    "threatlens.pipeline",
    "threatlens.sources",
    "threatlens.serialize",
    "threatlens.config",
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


def test_models_package_imports_every_submodule_without_ui() -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        "import threatlens.models as m, threatlens.stats as s, threatlens.tail as t, threatlens.parsers as p\n"
        "for pkg in (m, s, t, p):\n"
        "    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(info.name)\n"
        "print(','.join(sorted(x for x in sys.modules if x.split('.')[0] in ('textual', 'rich'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
