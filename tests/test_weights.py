"""The payload model's weights as a NumPy ``.npz`` beside the skops file (#10 start-up).

The scan and the monitor load the ``.npz`` (no scikit-learn, no SciPy, nothing executed); it must hold
exactly the skops model's numbers, be ignored when it is not the skops file's, and be refused when malformed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from behaviour_support import parse
from threatlens.errors import ModelError
from threatlens.models.classifier import TRUSTED_TYPES, RequestScorer, load_model_file, shipped_model_path
from threatlens.models.features import N_HASH, gram_dot, murmur3_32, unit_parts
from threatlens.models.safe_load import load_trusted
from threatlens.models.weights import LinearWeights, file_sha256, load_weights, save_weights, weights_path

SAMPLE = Path(__file__).resolve().parents[1] / "sample_logs" / "combined.log"
WEIGHTS = np.random.default_rng(3).normal(size=N_HASH)


def test_murmurhash_matches_scikit_learn() -> None:
    from sklearn.utils import murmurhash3_32

    keys = [b"", b"a", b"ab", b"abc", b"abcd", b"abcde", "é日本".encode(), b"\x00", b"a\x00\x00", b"0123456789abcdef"]
    assert murmur3_32(keys).tolist() == [murmurhash3_32(k, seed=0) for k in keys]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=80), min_size=1, max_size=12))
def test_gram_dot_is_the_sparse_product_bit_for_bit(texts: list[str]) -> None:
    grams, _ = unit_parts(texts, ["query"] * len(texts))
    assert gram_dot(texts, WEIGHTS).tolist() == (grams @ WEIGHTS).tolist()


def test_shipped_weights_are_the_shipped_skops_model() -> None:
    skops = shipped_model_path()
    fast = load_weights(weights_path(skops), skops_file=skops)
    assert fast is not None, "src/threatlens/models/threatlens-model.npz is stale: rebuild it (make train)"
    slow = load_trusted(skops, TRUSTED_TYPES, what="model")
    assert np.array_equal(fast["payload"].coef_, slow["payload"].coef_)
    assert np.array_equal(fast["payload"].intercept_, slow["payload"].intercept_)
    assert fast["raw_threshold"] == slow["raw_threshold"] and fast["format"] == slow["format"]
    assert isinstance(load_model_file(skops)["payload"], LinearWeights)


def test_scores_are_identical_from_either_file() -> None:
    records = parse(SAMPLE.read_bytes().splitlines(), fmt="combined")
    skops = shipped_model_path()
    fast = RequestScorer(load_model_file(skops)).score(records)
    slow = RequestScorer(load_trusted(skops, TRUSTED_TYPES, what="model")).score(records)
    assert len(records) > 100 and fast == slow


def test_stale_weights_are_ignored(tmp_path: Path) -> None:
    skops = tmp_path / "m.skops"
    shutil.copyfile(shipped_model_path(), skops)
    model = load_trusted(skops, TRUSTED_TYPES, what="model")
    save_weights({**model, "raw_threshold": 0.01}, skops)
    assert load_model_file(skops)["raw_threshold"] == 0.01  # the npz is used while it matches
    skops.write_bytes(skops.read_bytes())  # same bytes: still used
    assert load_model_file(skops)["raw_threshold"] == 0.01
    shutil.copyfile(shipped_model_path(), skops)
    with skops.open("ab") as fh:  # other bytes (a retrained file): the npz no longer speaks for it
        fh.write(b"\0")
    assert load_weights(weights_path(skops), skops_file=skops) is None


@pytest.mark.parametrize("change", ["object", "extra", "shape", "not-zip"])
def test_malformed_weights_are_refused(tmp_path: Path, change: str) -> None:
    skops = tmp_path / "m.skops"
    shutil.copyfile(shipped_model_path(), skops)
    npz = weights_path(skops)
    entries = {"format": np.int64(1), "coef": np.zeros(N_HASH + 60), "intercept": np.zeros(1),
               "raw_threshold": np.float64(0.5), "threshold": np.float64(0.5), "version": np.str_("x"),
               "skops_sha256": np.str_(file_sha256(skops))}
    if change == "object":
        entries["version"] = np.array([print], dtype=object)
    elif change == "extra":
        entries["more"] = np.zeros(1)
    elif change == "shape":
        entries["coef"] = np.zeros((2, 3))
    with npz.open("wb") as fh:
        np.savez(fh, **entries)
    if change == "not-zip":
        npz.write_bytes(b"import os\n")
    with pytest.raises(ModelError):
        load_model_file(skops)
    with pytest.raises(ModelError):
        load_model_file(npz)


def test_scan_of_a_small_file_imports_no_heavy_library(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from threatlens.cli import main\n"
        f"main(['scan', '--output', 'jsonl', {str(SAMPLE)!r}])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'sklearn', 'scipy', 'pandas', 'skops'})\n"
        "print('HEAVY', ','.join(heavy), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert '"flagged": true' in out.stdout
    assert "HEAVY \n" in out.stderr, out.stderr


def _npz_with_coef_header(path: Path, header: str, skops: Path) -> None:
    """A weights file whose ``coef.npy`` header is replaced by ``header`` (padded as NumPy pads it)."""
    import io
    import zipfile

    buf = io.BytesIO()
    np.savez(buf, format=np.int64(1), coef=np.zeros(N_HASH + 60), intercept=np.zeros(1),
             raw_threshold=np.float64(0.5), threshold=np.float64(0.5), version=np.str_("x"),
             skops_sha256=np.str_(file_sha256(skops)))
    with zipfile.ZipFile(buf) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "coef.npy":
                size = int.from_bytes(data[8:10], "little")
                new = header.ljust(size - 1).encode() + b"\n"
                data = data[:8] + len(new).to_bytes(2, "little") + new + data[10 + size:]
            zout.writestr(info, data)


@pytest.mark.parametrize("header", [
    "{'descr': '<f8', 'fortran_order': False, 'shape': (",  # cut inside the dict: NumPy's tokenizer fails
    "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999,), }",  # 745 GiB declared
    "garbage",
])
def test_malformed_npy_header_is_one_model_error(tmp_path: Path, header: str) -> None:
    skops = tmp_path / "m.skops"
    shutil.copyfile(shipped_model_path(), skops)
    _npz_with_coef_header(weights_path(skops), header, skops)
    with pytest.raises(ModelError, match=r"coef\.npy"):
        load_model_file(weights_path(skops))
    with pytest.raises(ModelError):
        load_model_file(skops)


@pytest.mark.parametrize("payload", ["x", 5, {"coef_": [1.0]}, [1.0, 2.0]])
def test_wrong_payload_type_is_one_model_error(tmp_path: Path, payload: object) -> None:
    import skops.io as sio

    bad = tmp_path / "bad.skops"
    sio.dump({"format": 1, "payload": payload, "raw_threshold": 0.5}, bad)
    with pytest.raises(ModelError, match="not a ThreatLens model"):
        RequestScorer.load(bad)
    if payload != "x":
        return  # the command line once: it imports scikit-learn to read the skops file (seconds)
    out = subprocess.run([sys.executable, "-m", "threatlens", "scan", "--model", str(bad), str(SAMPLE)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "not a ThreatLens model" in out.stderr


@pytest.mark.parametrize("suffix,entry", [(".skops", "schema.json"), (".npz", "coef.npy")])
def test_zip_bomb_is_refused_from_its_directory_before_inflating(tmp_path: Path, suffix: str, entry: str) -> None:
    """A 100 MB entry of zeros (100 KB compressed) is refused from the sizes in the zip directory: the
    loading process never grows by anything near the entry's size."""
    import zipfile

    bomb = tmp_path / f"bomb{suffix}"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive, archive.open(entry, "w", force_zip64=True) as fh:
        block = b"\0" * (1 << 20)
        for _ in range(100):
            fh.write(block)
    assert bomb.stat().st_size < 1 << 20
    code = ("import resource, sys\n"
            "from threatlens.errors import ModelError\n"
            "from threatlens.models.classifier import load_model_file\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            f"try: load_model_file({str(bomb)!r})\n"
            "except ModelError as exc: print(exc)\n"
            "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    message, grew_mb = out.stdout.strip().splitlines()
    assert "larger than 64 MB; refused" in message, out.stdout + out.stderr
    assert int(grew_mb) < 40, f"grew by {grew_mb} MB while refusing"
