"""What an SP1 unconstrained block may do, and which of its effects outlive EXIT (docs/abi.md,
"Unconstrained blocks").

SP1's executor (crates/core/executor/src/executor.rs, execute_ecall) refuses every syscall but
WRITE and EXIT_UNCONSTRAINED inside a block (ExecutionError::InvalidSyscallUsage), so a COMMIT,
COMMIT_DEFERRED_PROOFS, VERIFY_SP1_PROOF, hint read, HALT or precompile there is an error, not
something to roll back. What the block WRITEs lives in the executor's state, which EXIT does
not restore: stdout, hints (fd 4) and public values (fd 3) stay. Its syscalls are not counted
(the report counts only while not unconstrained).

The guest below writes stdout and a hint inside a block, then (outside it) reads the hint,
writes it to the journal and COMMITs SHA-256(journal): the trace backend's receipt and the
stark backend's proof agree on that journal and those words."""

from __future__ import annotations

import hashlib
import struct

import pytest

import pyzkvm
from pyzkvm.backends import get_backend
from pyzkvm.errors import SyscallError
from pyzkvm.executor import execute
from tests.rvasm import DATA_BASE, asm, flatten, halt, program, syscall

WRITE, ENTER, EXIT, COMMIT, DEFERRED, VERIFY = 0x02, 0x03, 0x04, 0x10, 0x1A, 0x1B
HINT_LEN, HINT_READ, SHA_EXTEND, HALT = 0xF0, 0xF1, 0x00300105, 0x00
T0 = 5
FAST = "insecure_fast_for_tests"

HINT, STDOUT = b"HINT", b"in\n"
JOURNAL_WORDS = struct.unpack("<8I", hashlib.sha256(HINT).digest())  # the SDK's COMMIT at exit
DATA = HINT + bytes(4) + STDOUT + bytes(128)


def block_program(block, after=()):
    """ENTER; if t0 == 1 run ``block`` (which ends with EXIT); then ``after``; HALT 0."""
    block = flatten([block, syscall(EXIT)])
    code = [syscall(ENTER), asm.addi(6, 0, 1), asm.bne(T0, 6, 4 * (len(block) + 1)), block, after, halt(0)]
    return program(flatten(code), data=DATA)


GUEST = block_program(
    [syscall(WRITE, 1, DATA_BASE + 8, len(STDOUT)), syscall(WRITE, 4, DATA_BASE, 4)],  # stdout, the hint
    [syscall(HINT_LEN), syscall(HINT_READ, DATA_BASE + 64, 4),
     syscall(WRITE, 3, DATA_BASE + 64, 4),                                   # journal = the hint
     [syscall(COMMIT, i, w) for i, w in enumerate(JOURNAL_WORDS)]],
)


def test_block_keeps_its_writes_and_the_commits_after_it_count():
    e = execute(GUEST)
    assert (e.stdout, e.journal, e.exit_code) == (STDOUT, HINT, 0)
    assert e.commit_words == JOURNAL_WORDS and e.commit_matches is True
    # SP1's report counts no syscall made inside the block: not its two WRITEs, not its EXIT
    assert e.report.syscalls["WRITE"] == 1 and e.report.syscalls["ENTER_UNCONSTRAINED"] == 1
    assert "EXIT_UNCONSTRAINED" not in e.report.syscalls


def test_trace_and_stark_receipts_agree_on_the_journal():
    dev = pyzkvm.prove(GUEST, [], backend="trace")
    stark = get_backend("stark")
    proved = stark.prove(GUEST, [], preset=FAST)
    stark.verify(proved, GUEST.image_id, allow_insecure=True)
    assert dev.journal == proved.journal == HINT
    assert dev.claim == proved.claim  # same image, exit code, journal digest, cycles (the block's not counted)


@pytest.mark.parametrize("call, name", [
    (syscall(COMMIT, 0, 7), "COMMIT"),
    (syscall(DEFERRED, 0, 7), "COMMIT_DEFERRED_PROOFS"),
    (syscall(VERIFY, DATA_BASE, DATA_BASE + 32), "VERIFY_SP1_PROOF"),
    (syscall(HINT_LEN), "HINT_LEN"),
    (syscall(HINT_READ, DATA_BASE + 64, 4), "HINT_READ"),
    (syscall(SHA_EXTEND, DATA_BASE + 64, 0), "SHA_EXTEND"),
    (syscall(ENTER), "ENTER_UNCONSTRAINED"),
    (syscall(HALT, 0), "HALT"),
])
def test_any_other_syscall_inside_a_block_is_an_error(call, name):
    """execute_ecall: `if unconstrained && syscall != EXIT_UNCONSTRAINED && syscall != WRITE`
    → InvalidSyscallUsage, before the syscall runs."""
    with pytest.raises(SyscallError, match=f": {name} inside an unconstrained block: SP1 stops with InvalidSyscallUsage"):
        execute(block_program(call), [b"abcd"])


def test_journal_bytes_written_inside_a_block_are_kept_with_a_warning():
    """SP1 appends fd-3 bytes to its public-values stream, which EXIT does not restore; the
    proved run never wrote them, so we keep them (as SP1 does) and say why no proof will verify."""
    e = execute(block_program(syscall(WRITE, 3, DATA_BASE, 4)))
    assert e.journal == HINT
    assert len(e.warnings) == 1 and "inside an unconstrained block" in e.warnings[0]
