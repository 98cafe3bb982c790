"""Zero-knowledge stark receipts (stark/zk.py) of a guest whose private input never reaches
the journal (sha256: the journal is the digest): the receipt says it is zero-knowledge,
``inspect`` shows it, and no value the verifier sees equals a piece of the private input
more often than chance — while the witness itself is full of them (the scan's control)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import pyzkvm
from pyzkvm import Program
from pyzkvm.backends import get_backend
from pyzkvm.backends.stark import build_statements, config_for_preset, decode_seal
from pyzkvm.cli import main
from pyzkvm.stark.field import P
from pyzkvm.stark.proof import decode_proof

BIN = Path(__file__).resolve().parent.parent / "guests" / "bin"
FAST_ZK = "insecure_fast_for_tests_zk"
#: the tests that use ``receipt``: one hiding proof of a 2^14-cycle run, ~50 s on two shared cores
slow = pytest.mark.slow

#: 64 private bytes: sha256.elf journals only their digest
SECRET = np.random.default_rng(21).integers(0, 256, 64, dtype=np.uint8).tobytes()


@pytest.fixture(scope="module")
def program():
    return Program.from_elf(BIN / "sha256.elf")


@pytest.fixture(scope="module")
def receipt(program):
    return get_backend("stark").prove(program, [SECRET], preset=FAST_ZK)


def secret_pieces() -> np.ndarray:
    """The input's words, little- and big-endian (SHA-256 reads its message big-endian, and the
    SHA chips keep the schedule as 16-bit halves of those words), and their 16-bit halves (the
    machine keeps words as 16-bit limbs): what a leaking proof would show."""
    le = np.frombuffer(SECRET, dtype="<u4").astype(np.int64)
    be = np.frombuffer(SECRET, dtype=">u4").astype(np.int64)
    return np.unique(np.concatenate([w for words in (le, be) for w in (words, words & 0xFFFF, words >> 16)]))


def opened_values(receipt) -> np.ndarray:
    """Every field element the verifier reads in the seal's proofs: out-of-domain values,
    queried rows (salt included), FRI leaves and final polynomial."""
    parts = []
    for *_ends, data in decode_seal(receipt.seal)["segments"]:
        proof = decode_proof(data)
        for t in proof.tables:
            parts += [np.asarray(v).ravel() for v in (*t.open_local.values(), *t.open_next.values())]
        for rows, _paths in proof.queries.values():
            parts += [np.asarray(r).ravel() for r in rows]
        parts += [np.asarray(rows).ravel() for rows, _paths in proof.fri.layer_openings]
        parts.append(np.asarray(proof.fri.final_poly).ravel())
    return np.concatenate(parts).astype(np.int64)


def test_the_default_stark_preset_is_zero_knowledge_and_zk_false_is_its_twin():
    assert config_for_preset("default").zk and config_for_preset("default").name == "default_100_bits_zk"
    assert config_for_preset("default", zk=False).name == "default_100_bits"
    assert config_for_preset("insecure_fast_for_tests", zk=True).name == FAST_ZK


def test_no_zk_is_a_stark_option(tmp_path, capsys):
    assert main(["prove", str(BIN / "fibonacci.elf"), "--input", "u32:3", "--backend", "trace", "--no-zk",
                 "-o", str(tmp_path / "r")]) == 2
    assert "--no-zk is a stark option" in capsys.readouterr().err


@slow
def test_the_receipt_says_it_is_zero_knowledge(program, receipt):
    assert receipt.params["zero_knowledge"] is True and receipt.params["preset"] == FAST_ZK
    report = pyzkvm.verify_report(receipt.to_bytes(), program.image_id, allow_insecure=True)
    assert report.claim.image_id == program.image_id  # the image ID does not depend on the mode


@slow
def test_inspect_shows_zero_knowledge(receipt, tmp_path, capsys):
    path = tmp_path / "sha.receipt"
    path.write_bytes(receipt.to_bytes())
    assert main(["inspect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "zero knowledge" in out and "yes: a hiding-format proof, which reveals nothing about private inputs if" in out


@slow
def test_no_opened_value_is_a_piece_of_the_private_input(program, receipt):
    pieces = secret_pieces()
    # the control: the witness holds the input's limbs, so the scan can find them
    traces, _pv = build_statements(program, [SECRET]).statements[0]
    # (11 cells on 2026-12-05: the SDK hashes with the SHA precompiles, so the message passes
    # through the CPU's registers only once; 27 when it was hashed in software)
    assert sum(int(np.isin(np.asarray(t), pieces).sum()) for t in traces) >= 8
    values = opened_values(receipt)
    chance = values.size * pieces.size / P  # expected matches for uniform values: ~0.003
    assert values.size > 20_000 and chance < 0.01
    assert int(np.isin(values, pieces).sum()) <= 2  # P(≥ 3 | Poisson(0.01)) < 2·10^-7
