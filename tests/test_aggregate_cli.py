"""``pyzkvm aggregate``, ``pyzkvm prove --assume``, and ``verify``/``inspect`` of composed
receipts, through a subprocess: exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest

from pyzkvm.program import Program
from pyzkvm.receipt import Receipt

try:  # tests/ is a package when it has __init__.py, a plain folder on sys.path otherwise
    from .test_cli_prove import REFUSAL, WARNING, pyzkvm_cli
except ImportError:
    from test_cli_prove import REFUSAL, WARNING, pyzkvm_cli

BIN = Path(__file__).resolve().parents[1] / "guests" / "bin"
FIB_ELF, SHA_ELF, AGG_ELF = BIN / "fibonacci.elf", BIN / "sha256.elf", BIN / "aggregator.elf"


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """Three trace receipts (fibonacci 10 and 20, sha256 of 'abc') and their trace aggregate."""
    work = tmp_path_factory.mktemp("aggregate")
    for args, name in [(("-i", "u32:10"), "f10"), (("-i", "u32:20"), "f20")]:
        assert pyzkvm_cli("prove", FIB_ELF, *args, "-b", "trace", "-o", f"{name}.r", cwd=work).returncode == 0
    assert pyzkvm_cli("prove", SHA_ELF, "-i", "str:abc", "-b", "trace", "-o", "sha.r", cwd=work).returncode == 0
    # the outer receipt is a trace one here (fast; these tests are about the CLI's composition
    # plumbing): the stark outer receipt is tested in tests/test_composition.py
    out = pyzkvm_cli("aggregate", "f10.r", "sha.r", "f20.r", "-b", "trace", "-o", "agg.r", cwd=work)
    assert out.returncode == 0, out.stderr
    return work, out


def read(path: Path) -> Receipt:
    return Receipt.from_bytes(path.read_bytes())


def test_aggregate_writes_a_composed_receipt(work):
    work, out = work
    agg = read(work / "agg.r")
    parts = [read(work / n) for n in ("f10.r", "sha.r", "f20.r")]
    claims = [r.claim.image_id + hashlib.sha256(r.journal).digest() for r in parts]
    assert agg.claim.image_id == Program.from_elf(AGG_ELF).image_id
    assert agg.journal == struct.pack("<I", 3) + hashlib.sha256(b"".join(claims)).digest()
    assert agg.claim.assumptions == tuple((c[:32], c[32:]) for c in claims)
    assert agg.inner == tuple(parts)
    assert agg.backend == "trace" and agg.dev_mode
    assert "assumes:    3 inner receipt(s)" in out.stdout
    assert f"pyzkvm verify agg.r --elf {AGG_ELF} --dev-mode" in out.stdout


def test_verify_checks_the_whole_composed_receipt(work):
    work, _ = work
    image_id = Program.from_elf(AGG_ELF).image_id.hex()
    refused = pyzkvm_cli("verify", "agg.r", "--elf", AGG_ELF, cwd=work)
    assert refused.returncode == 1 and REFUSAL in refused.stderr
    ok = pyzkvm_cli("verify", "agg.r", "--image-id", image_id, "--dev-mode", cwd=work)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(f"verified: trace dev-mode receipt (NOT a proof) for image {image_id}")
    assert ok.stderr.count(WARNING) == 1  # one warning for the outer receipt and its three inner ones
    wrong = pyzkvm_cli("verify", "agg.r", "--elf", FIB_ELF, "--dev-mode", cwd=work)
    assert wrong.returncode == 1 and "image ID mismatch" in wrong.stderr


def test_replaying_a_composed_trace_receipt_says_it_replayed_the_outer_run_only(work):
    """--replay runs the aggregator again; the inner receipts carry no program or inputs, so
    their runs are not replayed, and the line says so (it said ", replayed": red-team review,
    session 26)."""
    work, _ = work
    parts = [read(work / n) for n in ("f10.r", "sha.r", "f20.r")]
    claims = [r.claim.image_id + hashlib.sha256(r.journal).digest() for r in parts]
    inputs = ["-i", "u32:3"] + [a for c in claims for a in ("-i", f"hex:{c.hex()}")]
    ok = pyzkvm_cli("verify", "agg.r", "--elf", AGG_ELF, "--dev-mode", "--replay", *inputs, cwd=work)
    assert ok.returncode == 0, ok.stderr
    assert "replayed (the outer run only: its 3 inner receipt(s) were not)" in ok.stdout


def test_verify_rejects_a_flipped_byte_in_an_inner_seal(work):
    work, _ = work
    agg = read(work / "agg.r")
    data = bytearray(agg.to_bytes())
    at = data.find(agg.inner[1].seal) + 5  # inside inner receipt 1's trace digest
    data[at] ^= 0x40
    (work / "tampered.r").write_bytes(bytes(data))
    out = pyzkvm_cli("verify", "tampered.r", "--elf", AGG_ELF, "--dev-mode", cwd=work)
    assert out.returncode == 1
    assert "pyzkvm: verification failed: inner receipt 1: trace seal binding does not match" in out.stderr


def test_inspect_lists_assumptions_and_inner_receipts(work):
    work, _ = work
    agg = read(work / "agg.r")
    out = pyzkvm_cli("inspect", "agg.r", cwd=work)
    assert out.returncode == 0, out.stderr
    assert "assumptions:" in out.stdout and "inner receipts:" in out.stdout
    for i, (image_id, digest) in enumerate(agg.claim.assumptions):
        assert f"assumption {i}: image {image_id.hex()}, journal digest {digest.hex()}" in out.stdout
        assert f"inner receipt {i}: trace" in out.stdout
    assert out.stdout.count("matches the assumption") == 3
    assert "'abc'" not in out.stdout  # sha256's journal is binary: shown as hex
    assert hashlib.sha256(b"abc").hexdigest() in out.stdout


def test_prove_with_assume_equals_aggregate(work):
    work, _ = work
    parts = [read(work / n) for n in ("f10.r", "sha.r", "f20.r")]
    inputs = ["-i", "u32:3"] + [x for r in parts for x in ("-i", f"hex:{(r.claim.image_id + r.claim.journal_digest).hex()}")]
    assumes = [x for n in ("f10.r", "sha.r", "f20.r") for x in ("--assume", n)]
    out = pyzkvm_cli("prove", AGG_ELF, *inputs, *assumes, "-b", "trace", "-o", "byhand.r", cwd=work)
    assert out.returncode == 0, out.stderr
    byhand, agg = read(work / "byhand.r"), read(work / "agg.r")
    assert (byhand.claim, byhand.journal, byhand.inner) == (agg.claim, agg.journal, agg.inner)


def test_prove_with_mismatched_assume_names_the_problem(work):
    work, _ = work
    f10 = read(work / "f10.r")
    claim = ["-i", "u32:1", "-i", f"hex:{(f10.claim.image_id + f10.claim.journal_digest).hex()}"]
    missing = pyzkvm_cli("prove", AGG_ELF, *claim, "-b", "trace", "-o", "x.r", cwd=work)
    assert missing.returncode == 2
    assert missing.stderr.startswith("pyzkvm: error: missing receipt for assumption 0 (image ")
    extra = pyzkvm_cli("prove", AGG_ELF, *claim, "--assume", "f10.r", "--assume", "f20.r", "-b", "trace", "-o", "x.r", cwd=work)
    assert extra.returncode == 2 and "pyzkvm: error: extra receipt 1" in extra.stderr
    wrong = pyzkvm_cli("prove", AGG_ELF, *claim, "--assume", "sha.r", "-b", "trace", "-o", "x.r", cwd=work)
    assert wrong.returncode == 2 and "pyzkvm: error: assumption 0 is (image" in wrong.stderr
    assert not (work / "x.r").exists()


def test_aggregate_bad_input_is_a_one_line_error(work):
    work, _ = work
    (work / "junk.r").write_bytes(b"not a receipt")
    for args, message in [
        (("no-such.r",), "no-such.r: no such file"),
        (("junk.r",), "junk.r: not a pyzkvm receipt"),
        (("f10.r", "--elf", "missing.elf"), "no aggregator guest ELF here"),
    ]:
        out = pyzkvm_cli("aggregate", *args, "-o", "bad.r", cwd=work)
        assert out.returncode != 0
        assert out.stderr.startswith("pyzkvm: error: ") and message in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1
    assert not (work / "bad.r").exists()


def test_aggregate_defaults_to_the_stark_backend():
    """stark (the default backend) proves composition, so aggregate's outer receipt is a proof by default."""
    from pyzkvm.backends import get_backend
    from pyzkvm.cli.aggregate import composition_backend

    assert get_backend("stark").supports_assumptions
    assert composition_backend(None) == "stark"
    assert composition_backend("trace") == "trace"


def test_more_receipts_than_one_receipt_carries_are_refused_before_proving(tmp_path, monkeypatch, capsys):
    """A receipt carries at most MAX_INNER inner receipts: aggregate says so before reading or
    proving anything (it used to prove, then fail; a review, session 25). The cap is lowered here."""
    from pyzkvm import receipt as receipt_module
    from pyzkvm.cli import main

    monkeypatch.setattr(receipt_module, "MAX_INNER", 2)
    assert main(["aggregate", "a.r", "b.r", "c.r", "-b", "trace", "-o", str(tmp_path / "agg.r")]) == 2
    assert "3 receipts to aggregate, more than the 2 one receipt carries" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_prove_with_more_assumption_receipts_than_one_receipt_carries_is_refused_before_proving(work, monkeypatch):
    """The library's prove (and `prove --assume`) says so before any work: the receipt could not
    carry them, and it failed after proving (a review, session 26). The cap is lowered here."""
    import pyzkvm
    from pyzkvm import receipt as receipt_module
    from pyzkvm.errors import UsageError

    work, _ = work
    parts = [read(work / n) for n in ("f10.r", "sha.r", "f20.r")]
    monkeypatch.setattr(receipt_module, "MAX_INNER", 2)
    monkeypatch.setattr("pyzkvm.backends.trace.TraceBackend.prove", lambda *a, **k: pytest.fail("proving started"))
    with pytest.raises(UsageError, match="3 assumption receipts, more than the 2 one receipt carries"):
        pyzkvm.prove(AGG_ELF, [struct.pack("<I", 3)], backend="trace", assumptions=parts)
