"""Load skops files without running code from them: every type must be on our fixed allowlist."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from threatlens.errors import ModelError

#: Largest uncompressed entry of a model archive (the shipped model's largest, its coefficients, is 2 MB):
#: a crafted archive that inflates to gigabytes is refused from its directory, before anything is inflated.
MAX_ENTRY_BYTES = 64 << 20
#: Largest uncompressed total of a model archive.
MAX_TOTAL_BYTES = 256 << 20


def check_archive(path: Path, *, what: str) -> list[zipfile.ZipInfo]:
    """The entries of the zip archive ``path`` once their declared sizes are known to be small (``ModelError``).

    Only the archive's central directory is read: no entry is inflated. An entry whose data inflates past
    its declared size is still stopped by :mod:`zipfile`, which checks the size while reading.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (OSError, zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise ModelError(f"{path}: not a readable {what} file ({exc.__class__.__name__})") from None
    big = [i.filename for i in infos if i.file_size > MAX_ENTRY_BYTES]
    if big:
        raise ModelError(f"{path}: entry {big[0]!r} is larger than {MAX_ENTRY_BYTES >> 20} MB; refused")
    if sum(i.file_size for i in infos) > MAX_TOTAL_BYTES:
        raise ModelError(f"{path}: entries larger than {MAX_TOTAL_BYTES >> 20} MB in total; refused")
    return infos


def load_trusted(path: str | Path, trusted: Iterable[str], *, what: str) -> Any:
    """Load ``path`` with skops, refusing (``ModelError``) any type outside ``trusted``.

    ``what`` names the kind of file in messages ("model", "baseline"). Nothing is ever unpickled:
    skops rebuilds only the listed types, and the file is refused before loading if it holds others.
    """
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"{what} file not found: {p}")
    check_archive(p, what=f"skops {what}")
    import skops.io as sio  # seconds to import (scikit-learn, SciPy): only for a file that may be one
    allowed = set(trusted)
    try:
        untrusted = sio.get_untrusted_types(file=p)
    except Exception as exc:  # any parse failure of a foreign file means "not ours"
        raise ModelError(f"{p}: not a readable skops {what} file ({exc.__class__.__name__})") from exc
    refused = sorted(set(untrusted) - allowed)
    if refused:
        raise ModelError(f"{p}: refusing to load a {what} containing unexpected types: {', '.join(refused)}")
    return sio.load(p, trusted=sorted(allowed))
