"""The verifier's stored key (stark/verifier_key.py, machine/image_id.machine_verifier_airs):
views made from compiled AIRs verify exactly as the compiled AIRs do, their bytes round-trip,
damaged bytes are refused and the memo's copy is then rebuilt, and a verification runs no
numba tape kernel (point_eval.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyzkvm.errors import OodEvaluationMismatch, StarkConfigError
from pyzkvm.machine import image_id
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS as FAST, INSECURE_FAST_FOR_TESTS_ZK as FAST_ZK, setup
from pyzkvm.stark.blind import BlindedAir
from pyzkvm.stark.examples.permutation import LeftAir, RightAir, permutation_traces
from pyzkvm.stark.joint import prove_one, verify_one
from pyzkvm.stark.keys import verifying_key_from_parts
from pyzkvm.stark.proof import decode_proof, encode_proof
from pyzkvm.stark.verifier_key import MAGIC, build_views, decode_views, encode_views, with_blinded

ROOT = Path(__file__).resolve().parents[2]
VALUES = [5, 9, 9, 70]


def example(config):
    """(proving key, proof) of the permutation example (LogUp, an inactive-row selector)."""
    airs = [LeftAir(), RightAir()]
    pk = setup(config, airs)
    return pk, prove_one(pk, permutation_traces(VALUES, 8), zk_seed=1 if config.zk else None)


def stored_key(pk, config) -> tuple:
    """(bytes, verifying key rebuilt from them) for pk's AIRs."""
    vk = pk.verifying_key
    data = encode_views(build_views(vk.compiled, config))
    pairs = decode_views(data, vk.airs, BlindedAir)
    return data, pairs, verifying_key_from_parts(config, with_blinded(pairs, config), vk.prep_root, vk.prep_log_heights)


@pytest.mark.parametrize("config", [FAST, FAST_ZK], ids=["transparent", "hiding"])
def test_a_key_from_stored_views_verifies_as_the_compiled_one(config):
    pk, proof = example(config)
    data, pairs, vk = stored_key(pk, config)
    assert encode_views(pairs) == data  # decoding loses nothing
    assert (vk.digest, vk.circuit_digest) == (pk.verifying_key.digest, pk.verifying_key.circuit_digest)
    assert all(not hasattr(c, "builder") for c in vk.proved)  # no constraint DAG on this path
    report = verify_one(vk, proof)
    assert report.log_heights == verify_one(pk.verifying_key, proof).log_heights
    # a wrong value at ζ is caught by the stored tape's evaluation
    forged = decode_proof(encode_proof(proof)[0])
    forged.tables[1].open_local["main"][0, 0] ^= 1
    with pytest.raises(OodEvaluationMismatch):
        verify_one(vk, forged)


def test_damaged_or_foreign_bytes_are_refused():
    pk, _ = example(FAST)
    data, _, _ = stored_key(pk, FAST)
    airs = pk.verifying_key.airs
    flipped = bytearray(data)
    flipped[-5] ^= 1  # a byte of a tape
    with pytest.raises(StarkConfigError, match="digest"):
        decode_views(bytes(flipped), airs, BlindedAir)
    with pytest.raises(StarkConfigError, match="magic"):
        decode_views(b"x" + data[1:], airs, BlindedAir)
    with pytest.raises(StarkConfigError, match="table"):
        decode_views(data, airs[::-1], BlindedAir)
    assert data.startswith(MAGIC)


@pytest.fixture
def few_machine_tables(monkeypatch, tmp_path):
    """machine_verifier_airs on the machine's first three tables, with its own memo folder."""
    airs = image_id.machine_airs()[:3]
    monkeypatch.setattr(image_id, "machine_airs", lambda: airs)
    monkeypatch.setattr(image_id, "_compiled", lambda config: tuple(image_id.compile_for(config, a) for a in airs))
    monkeypatch.setattr(image_id, "_VIEWS", {})
    monkeypatch.setenv("PYZKVM_MEMO_DIR", str(tmp_path))
    monkeypatch.delenv("PYZKVM_NO_MEMO", raising=False)
    return tmp_path


def test_the_machine_key_is_stored_loaded_and_rebuilt_when_damaged(few_machine_tables):
    first = image_id.machine_verifier_airs(FAST_ZK)
    (path,) = [p for p in few_machine_tables.rglob("verifier-key-*")]
    good = path.read_bytes()
    assert good == encode_views(build_views(image_id._compiled(FAST_ZK), FAST_ZK))  # recomputed = stored

    image_id._VIEWS.clear()
    loaded = image_id.machine_verifier_airs(FAST_ZK)  # from the memo: the same views
    assert [v.air.name for v in loaded] == [v.air.name for v in first]
    assert encode_views([(v, v._blinded[1]) for v in loaded]) == good

    damaged = bytearray(good)
    damaged[len(good) // 2] ^= 0x40
    path.write_bytes(bytes(damaged))
    image_id._VIEWS.clear()
    rebuilt = image_id.machine_verifier_airs(FAST_ZK)
    assert path.read_bytes() == good  # not trusted: rebuilt and stored again
    assert encode_views([(v, v._blinded[1]) for v in rebuilt]) == good


CHILD = """
import sys
from pyzkvm.lazy_njit import Kernel
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS_ZK as FAST_ZK, tape
from pyzkvm.stark.examples.permutation import LeftAir, RightAir
from pyzkvm.stark.joint import verify_one
from pyzkvm.stark.keys import compile_for, verifying_key_from_parts
vk = verifying_key_from_parts(FAST_ZK, [compile_for(FAST_ZK, a) for a in (LeftAir(), RightAir())], None, [None, None])
verify_one(vk, open(sys.argv[1], "rb").read())
loaded = [name for name, f in vars(tape).items() if isinstance(f, Kernel) and f.materialized]
print(json.dumps([loaded, "numba" in sys.modules]))
"""


def test_a_verification_loads_no_tape_kernel(tmp_path):
    _, proof = example(FAST_ZK)
    (tmp_path / "proof").write_bytes(encode_proof(proof)[0])
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", "import json" + CHILD, str(tmp_path / "proof")], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True).stdout
    # tape._run_blocks & co. never called (nor loaded), nor any other kernel: numba is not even imported
    assert json.loads(out.splitlines()[-1]) == [[], False]
