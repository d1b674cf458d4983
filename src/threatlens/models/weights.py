"""The payload model's weights as plain NumPy arrays: a ``.npz`` beside the skops file that loads in milliseconds.

Loading the skops file rebuilds a scikit-learn ``LogisticRegression``, which means importing scikit-learn
and SciPy (seconds). The scorer only needs the coefficients and the intercept, so training also writes
``<model>.npz`` next to ``<model>.skops``: the arrays, the thresholds and the SHA-256 of the skops file
they came from. The ``.npz`` is read with ``allow_pickle=False`` (object arrays are refused, nothing is
executed) and every entry is checked for name, type and shape; it is used only while that hash matches
the skops file beside it, so a retrained or replaced skops file never runs with stale weights.
"""

from __future__ import annotations

import hashlib
import math
import zipfile
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from threatlens.errors import ModelError
from threatlens.models.safe_load import check_archive

#: Entries of a weights file and the dtype kind each must have (f float, i integer, U text).
_ENTRIES = {"format": "i", "coef": "f", "intercept": "f", "raw_threshold": "f", "threshold": "f",
            "version": "U", "skops_sha256": "U"}


class LinearWeights(NamedTuple):
    """What the scorer reads of a logistic regression (named like scikit-learn's attributes)."""

    coef_: np.ndarray
    intercept_: np.ndarray


def weights_path(model: Path) -> Path:
    """The ``.npz`` that goes with the skops file ``model``."""
    return model.with_suffix(".npz")


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_weights(model: dict[str, Any], skops_file: Path) -> Path:
    """Write the ``.npz`` for the model dict saved in ``skops_file``; return its path."""
    payload = model["payload"]
    out = weights_path(skops_file)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("wb") as fh:  # np.savez on a path would append ".npz" to the temporary name
        np.savez(
            fh,
            format=np.int64(model["format"]),
            coef=np.asarray(payload.coef_, dtype=np.float64).ravel(),
            intercept=np.asarray(payload.intercept_, dtype=np.float64).ravel(),
            raw_threshold=np.float64(model["raw_threshold"]),
            threshold=np.float64(model.get("threshold", 0.5)),
            version=np.str_(str(model.get("version", "unknown"))),
            skops_sha256=np.str_(file_sha256(skops_file)),
        )
    tmp.replace(out)
    return out


def load_weights(path: Path, *, skops_file: Path | None = None) -> dict[str, Any] | None:
    """The model dict of a weights file, with ``payload`` a :class:`LinearWeights`.

    With ``skops_file``: ``None`` when the weights are not those of that file (absent, or saved from
    other bytes), so the caller loads the skops file instead. A file that is not a well-formed weights
    file raises :class:`~threatlens.errors.ModelError`.
    """
    if skops_file is not None and not path.is_file():
        return None
    infos = check_archive(path, what="weights")
    _check_headers(path, infos)
    try:
        with np.load(path, allow_pickle=False) as npz:
            if set(npz.files) != set(_ENTRIES):
                raise ModelError(f"{path}: not a ThreatLens weights file (entries {', '.join(sorted(npz.files))})")
            arrays = {name: npz[name] for name in _ENTRIES}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise ModelError(f"{path}: not a readable weights file ({exc.__class__.__name__})") from exc
    for name, kind in _ENTRIES.items():
        array = arrays[name]
        if array.dtype.kind != kind or array.ndim != (1 if name in ("coef", "intercept") else 0):
            raise ModelError(f"{path}: entry {name!r} has an unexpected type ({array.dtype}, {array.ndim}-d)")
    if skops_file is not None and str(arrays["skops_sha256"]) != file_sha256(skops_file):
        return None
    if arrays["intercept"].shape != (1,) or not np.isfinite(arrays["coef"]).all():
        raise ModelError(f"{path}: malformed weights")
    return {
        "format": int(arrays["format"]),
        "payload": LinearWeights(arrays["coef"].reshape(1, -1), arrays["intercept"]),
        "raw_threshold": float(arrays["raw_threshold"]),
        "threshold": float(arrays["threshold"]),
        "version": str(arrays["version"]),
    }


def _check_headers(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    """Read every ``.npy`` header (nothing else) and refuse one that is malformed or declares more data than it holds.

    NumPy allocates the array its header declares before reading the data, so a header that claims
    10^11 elements must be refused here, and a malformed one must give a ``ModelError``, not whatever
    NumPy's header tokenizer raises.
    """
    fmt = np.lib.format
    try:
        with zipfile.ZipFile(path) as archive:
            for info in infos:
                if not info.filename.endswith(".npy"):
                    continue
                with archive.open(info) as fh:
                    try:
                        version = fmt.read_magic(fh)
                        read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
                        shape, _fortran, dtype = read(fh)
                        declared = math.prod(shape) * dtype.itemsize
                    except Exception as exc:  # NumPy's header parser raises many kinds
                        raise ModelError(f"{path}: entry {info.filename!r} has a malformed .npy header "
                                         f"({exc.__class__.__name__})") from None
                if declared > info.file_size:
                    raise ModelError(f"{path}: entry {info.filename!r} declares {declared:,} bytes of data "
                                     f"but holds {info.file_size:,}; refused")
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ModelError(f"{path}: not a readable weights file ({exc.__class__.__name__})") from None
