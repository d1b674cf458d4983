"""Load skops files without running code from them: every type must be on our fixed allowlist."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from threatlens.errors import ModelError


def load_trusted(path: str | Path, trusted: Iterable[str], *, what: str) -> Any:
    """Load ``path`` with skops, refusing (``ModelError``) any type outside ``trusted``.

    ``what`` names the kind of file in messages ("model", "baseline"). Nothing is ever unpickled:
    skops rebuilds only the listed types, and the file is refused before loading if it holds others.
    """
    import skops.io as sio

    p = Path(path)
    if not p.is_file():
        raise ModelError(f"{what} file not found: {p}")
    allowed = set(trusted)
    try:
        untrusted = sio.get_untrusted_types(file=p)
    except Exception as exc:  # any parse failure of a foreign file means "not ours"
        raise ModelError(f"{p}: not a readable skops {what} file ({exc.__class__.__name__})") from exc
    refused = sorted(set(untrusted) - allowed)
    if refused:
        raise ModelError(f"{p}: refusing to load a {what} containing unexpected types: {', '.join(refused)}")
    return sio.load(p, trusted=sorted(allowed))
