"""The stark backend on an unconstrained block and on the RISC Zero profile (issue 16 §3, §5).

* guests/isqrt-hint searches floor(sqrt(n)) in an unconstrained block, hands it out as a hint
  and checks it in the proved run; its receipt's journal is checked against math.isqrt.
* a risc0-profile program (SYS_READ, SYS_WRITE to the journal, HALT with the output digest):
  its receipt verifies, says its profile, and a changed journal, exit code, halt type or
  profile is rejected.
The risc0 receipt uses the insecure fast preset; the slow tests prove the prebuilt guests with
the default preset through the command line, as a user would (the machine-level tests,
tests/machine/test_machine_unconstrained.py and test_machine_risc0.py, are the quick ones)."""

from __future__ import annotations

import dataclasses
import hashlib
import math
import subprocess
import sys
from pathlib import Path

import pytest

from pyzkvm import Program
from pyzkvm.backends import get_backend
from pyzkvm.errors import VerificationError
from pyzkvm.executor import execute
from pyzkvm.cli.common import printable_text
from pyzkvm.inputs import parse_input_spec
from tests.machine.test_machine_risc0 import CODE as R0_CODE, DATA as R0_DATA, JOURNAL as R0_JOURNAL
from tests.rvasm import flatten, program

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "guests" / "bin"
FAST = "insecure_fast_for_tests"


def u32(n: int) -> bytes:
    return n.to_bytes(4, "little")


def isqrt_journal(n: int) -> bytes:
    return u32(n) + u32(math.isqrt(n)) + u32(0)


@pytest.fixture(scope="module")
def stark():
    return get_backend("stark")


@pytest.fixture(scope="module")
def r0(stark):
    prog = program(flatten(R0_CODE), data=R0_DATA, abi="risc0")
    return prog, stark.prove(prog, [b"abcdefgh"], preset=FAST)


def test_risc0_receipt_verifies_and_says_its_profile(stark, r0):
    prog, receipt = r0
    assert receipt.journal == R0_JOURNAL and receipt.claim.exit_code == 5
    assert (receipt.params["abi"], receipt.params["halt_type"]) == ("risc0", 0)
    verified = stark.verify(receipt, prog.image_id, allow_insecure=True)
    # inspect's view rebuilds the statement as verify does (its journal is not on the bus): the same estimate
    from pyzkvm.backends.stark_seal import describe_seal

    assert describe_seal(receipt)["security"] == verified.security


def _with_params(receipt, **changes):
    params = {k: v for k, v in {**receipt.params, **changes}.items() if v is not None}
    return dataclasses.replace(receipt, params=params)


@pytest.mark.parametrize("forge", [
    "journal", "exit code", "halt type", "halt type 0.0", "read as sp1",
])
def test_risc0_receipt_forgeries_are_rejected(stark, r0, forge):
    prog, receipt = r0
    if forge == "journal":  # journal and its digest changed together: the output digest differs
        journal = b"hi!?"
        claim = dataclasses.replace(receipt.claim, journal_digest=hashlib.sha256(journal).digest())
        bad = dataclasses.replace(receipt, claim=claim, journal=journal)
    elif forge == "exit code":
        bad = dataclasses.replace(receipt, claim=dataclasses.replace(receipt.claim, exit_code=6))
    elif forge == "halt type":
        bad = _with_params(receipt, halt_type=1)
    elif forge == "halt type 0.0":  # equal to 0, but another receipt of the same proof (malleable bytes)
        bad = _with_params(receipt, halt_type=0.0)
    else:
        bad = _with_params(receipt, abi=None, halt_type=None)
    with pytest.raises(VerificationError):
        stark.verify(bad, prog.image_id, allow_insecure=True)


def _cli(*args, cwd):
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "pyzkvm", *args], cwd=cwd, env=env, capture_output=True, text=True)


@pytest.mark.slow
@pytest.mark.parametrize("elf, abi, spec, journal, exit_code", [
    ("isqrt-hint.elf", "sp1", "u32:4000000", isqrt_journal(4_000_000), 0),
    ("risc0/fibonacci.elf", "risc0", "u32:10", None, 0),
    # the other guests in guests/bin/risc0 (the SDK hashes with RISC Zero's SHA ecall)
    ("risc0/sha256.elf", "risc0", "hex:0300000061626300", hashlib.sha256(b"abc").digest(), 0),  # serde bytes "abc"
    ("risc0/sort.elf", "risc0", "hex:080000000200000001000000", None, 0),  # serde bytes of the u32s 2, 1
    ("risc0/panic.elf", "risc0", None, None, 1),  # a receipt of the failing run (prove says so, exit status 1)
    ("risc0/rv32im-selftest.elf", "risc0", None, None, 0),
], ids=["isqrt-hint", "risc0-fibonacci", "risc0-sha256", "risc0-sort", "risc0-panic", "risc0-rv32im-selftest"])
def test_cli_proves_and_verifies_with_the_default_backend(tmp_path, elf, abi, spec, journal, exit_code):
    """`pyzkvm prove` / `pyzkvm verify` with the default backend and preset."""
    path = BIN / elf
    out = tmp_path / "r.receipt"
    prove = _cli("prove", str(path), "--abi", abi, *(["--input", spec] if spec else []), "-o", str(out), cwd=tmp_path)
    assert prove.returncode == int(exit_code != 0), prove.stderr
    ok = _cli("verify", str(out), "--elf", str(path), "--abi", abi, cwd=tmp_path)
    assert ok.returncode == 0 and "verified" in ok.stdout and f"exit code {exit_code}," in ok.stdout, ok.stderr
    run = execute(Program.from_elf(path, abi=abi), [parse_input_spec(spec)] if spec else [])
    assert run.exit_code == exit_code
    if journal is None:  # the run's journal (executor, no proof) is the receipt's
        journal = run.journal
    text = printable_text(journal)  # how `verify` shows it: as text when printable, else hex
    assert f"journal {repr(text) if text is not None else (journal.hex() or '(empty)')}," in ok.stdout


def test_a_risc0_run_whose_halt_digest_is_not_its_journals_is_refused_before_proving(stark):
    """The proof binds a risc0 journal only through HALT's output digest (docs/abi.md): a guest that
    writes b"AAAA" and halts with the digest of b"BBBB" has no verifying receipt of its journal,
    so prove refuses it (it used to prove, and hand out a receipt every verifier refused)."""
    from pyzkvm.errors import UnsupportedProgram
    from pyzkvm.executor.risc0 import output_digest
    from tests.machine.test_machine_risc0 import WRITE_NAME, r0_halt, software
    from tests.rvasm import DATA_BASE

    data = b"AAAA" + bytes(28) + output_digest(b"BBBB") + WRITE_NAME
    prog = program(flatten([software(0, 0, DATA_BASE + 64, 3, DATA_BASE, 4), r0_halt(0, DATA_BASE + 32)]), data=data,
                   abi="risc0")
    assert execute(prog, []).output_digest_matches is False
    with pytest.raises(UnsupportedProgram, match="output digest"):
        stark.prove(prog, [], preset=FAST)


def test_an_sp1_run_whose_commit_is_not_its_journals_sha256_is_refused_before_proving(stark):
    """The verifier rebuilds an sp1 run's COMMIT words as SHA-256(journal). A guest built with
    sp1-zkvm's `blake3` feature commits BLAKE3(public values): no receipt of its journal could
    verify, so prove refuses it (it proved, and wrote a receipt every verifier refused: a review
    against SP1's source, session 26). Here the guest writes b"AAAA" and commits BLAKE3 of it."""
    import blake3

    from pyzkvm.errors import UnsupportedProgram
    from tests.rvasm import DATA_BASE, halt, syscall

    digest = blake3.blake3(b"AAAA").digest()
    commit = [syscall(0x10, i, int.from_bytes(digest[4 * i:4 * i + 4], "little")) for i in range(8)]
    prog = program(flatten([syscall(0x02, 3, DATA_BASE, 4), commit, halt(0)]), data=b"AAAA")
    run = execute(prog, [])
    assert run.journal == b"AAAA" and run.commit_matches is False
    with pytest.raises(UnsupportedProgram, match="COMMIT words are not SHA-256 of its journal"):
        stark.prove(prog, [], preset=FAST)
