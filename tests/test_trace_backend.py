"""The dev-mode ``trace`` backend: its digest, its gating, its tamper checks and replay.

Oracles: the blake3 package (the trace digest and seal binding recomputed here from the
formula in docs/receipts.md, value by value), hashlib (journal digest), and plain-Python
Fibonacci for the fibonacci guest's journal.
"""

from __future__ import annotations

import contextlib
import io
import struct
from pathlib import Path

import blake3
import numpy as np
import pytest

import pyzkvm
from pyzkvm.backends import get_backend
from pyzkvm.backends.trace import ROW_COLUMNS, SEAL_SIZE, SYSCALL_COLUMNS, digest_trace
from pyzkvm.errors import BackendError, DevModeReceiptError, ReceiptFormatError, UsageError, VerificationError
from pyzkvm.executor.result import Trace
from pyzkvm.receipt import Claim, Receipt

ROOT = Path(__file__).resolve().parent.parent
FIB_ELF = ROOT / "guests" / "bin" / "fibonacci.elf"
REFUSAL = "this is a dev-mode receipt, not a proof: set PYZKVM_DEV_MODE=1 (CLI: --dev-mode; library: dev_mode=True) to accept it"
WARNING = "WARNING: accepting a dev-mode receipt: it proves nothing"


# ---- the trace digest against the documented formula ---------------------------------------


def oracle_trace_digest(rows: dict, sys_events: dict) -> bytes:
    """docs/receipts.md's trace digest, recomputed value by value with struct and blake3."""
    n_rows = len(rows["clk"])
    n_sys = len(sys_events["sys_clk"])
    h = blake3.blake3(b"pyzkvm.trace_digest.v1")
    h.update(struct.pack("<QQ", n_rows, n_sys))
    for table, order in ((rows, ROW_COLUMNS), (sys_events, SYSCALL_COLUMNS)):
        for name in list(order) + sorted(set(table) - set(order)):
            h.update(bytes([len(name)]) + name.encode())
            h.update(b"".join(struct.pack("<I", int(v)) for v in table[name]))
    return h.digest()


def synthetic_trace(n=7, n_sys=3, seed=1, extra=True):
    rng = np.random.default_rng(seed)
    rows = {c: rng.integers(0, 1 << 32, n, dtype=np.uint64).astype(np.uint32) for c in ROW_COLUMNS}
    for c in ("rs1", "rs2", "rd"):
        rows[c] = rng.integers(0, 32, n, dtype=np.uint8)
    if extra:
        rows["zz_extra"] = np.arange(n, dtype=np.uint16)
    events = {c: rng.integers(0, 1 << 32, n_sys, dtype=np.uint64).astype(np.uint32) for c in SYSCALL_COLUMNS}
    return Trace(columns=rows, syscall_events=events)


@pytest.mark.parametrize("n, n_sys, extra", [(7, 3, True), (1, 0, False), (0, 0, False), (100, 40, True)])
def test_trace_digest_matches_the_documented_formula(n, n_sys, extra):
    trace = synthetic_trace(n, n_sys, extra=extra)
    digest, rows, events = digest_trace(trace)
    assert (rows, events) == (n, n_sys)
    assert digest == oracle_trace_digest(trace.columns, trace.syscall_events)


def test_trace_digest_changes_with_any_cell():
    trace = synthetic_trace()
    base = digest_trace(trace)[0]
    for name in ROW_COLUMNS:
        changed = synthetic_trace()
        changed.columns[name] = changed.columns[name].copy()
        changed.columns[name][3] ^= 1
        assert digest_trace(changed)[0] != base, name


def test_trace_digest_rejects_a_missing_column_or_a_bad_one():
    trace = synthetic_trace()
    del trace.columns["mem_after"]
    with pytest.raises(BackendError, match="mem_after"):
        digest_trace(trace)
    trace = synthetic_trace()
    trace.columns["pc"] = trace.columns["pc"][:-1]
    with pytest.raises(BackendError, match="'pc' has shape"):
        digest_trace(trace)
    trace = synthetic_trace()
    trace.columns["pc"] = trace.columns["pc"].astype(np.int64) - (1 << 40)
    with pytest.raises(BackendError, match="outside u32"):
        digest_trace(trace)


# ---- proving and verifying real runs -------------------------------------------------------


def fib_journal(n: int) -> bytes:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, (a + b) % (1 << 64)
    return struct.pack("<IQ", n, a)


@pytest.fixture(scope="module")
def fib():
    program = pyzkvm.Program.from_elf(FIB_ELF)
    inputs = [struct.pack("<I", 10)]
    receipt = pyzkvm.prove(program, inputs, backend="trace")
    return program, inputs, receipt


@pytest.fixture
def no_dev_env(monkeypatch):
    monkeypatch.delenv("PYZKVM_DEV_MODE", raising=False)


def quiet_verify(*args, **kwargs):
    with contextlib.redirect_stderr(io.StringIO()):
        return pyzkvm.verify(*args, **kwargs)


def test_prove_records_the_claim_of_the_run(fib):
    program, inputs, receipt = fib
    from pyzkvm.executor import execute

    run = execute(program, inputs, capture_trace=True)
    assert receipt.backend == "trace" and receipt.dev_mode
    assert receipt.journal == fib_journal(10)
    assert receipt.claim == Claim.for_execution(program.image_id, fib_journal(10), 0, run.cycles)
    assert len(receipt.seal) == SEAL_SIZE
    version, digest, n_rows, n_sys = struct.unpack_from("<H32sQQ", receipt.seal)
    assert version == 1
    assert (digest, n_rows, n_sys) == digest_trace(run.trace)
    assert digest == oracle_trace_digest(run.trace.columns, run.trace.syscall_events)


def test_progress_reaches_one(fib):
    program, inputs, _ = fib
    seen = []
    pyzkvm.prove(program, inputs, backend="trace", progress=lambda step, f: seen.append((step, f)))
    fractions = [f for _, f in seen]
    assert seen[0][0] == "execute" and fractions == sorted(fractions) and fractions[-1] == 1.0


def test_unknown_option_is_a_usage_error(fib):
    program, inputs, _ = fib
    with pytest.raises(UsageError, match="blowup"):
        pyzkvm.prove(program, inputs, backend="trace", blowup=4)


def test_refused_without_dev_mode(fib, no_dev_env, monkeypatch):
    program, _, receipt = fib
    for env in (None, "0", "true", ""):
        if env is not None:
            monkeypatch.setenv("PYZKVM_DEV_MODE", env)
        with pytest.raises(DevModeReceiptError) as info:
            pyzkvm.verify(receipt, program.image_id)
        assert str(info.value) == REFUSAL
        # The backend gates on its own too, for callers that skip pyzkvm.verify.
        with pytest.raises(DevModeReceiptError):
            get_backend("trace").verify(receipt, program.image_id)
    monkeypatch.setenv("PYZKVM_DEV_MODE", "1")
    with pytest.raises(DevModeReceiptError):
        pyzkvm.verify(receipt, program.image_id, dev_mode=False)  # the explicit flag wins


def test_accepted_with_env_var_and_warns(fib, no_dev_env, monkeypatch, capsys):
    program, _, receipt = fib
    monkeypatch.setenv("PYZKVM_DEV_MODE", "1")
    assert pyzkvm.verify(receipt, program.image_id) == receipt.claim
    assert capsys.readouterr().err.strip() == WARNING
    get_backend("trace").verify(receipt, program.image_id)
    assert capsys.readouterr().err.strip() == WARNING


def test_accepted_with_api_flag_and_warns(fib, no_dev_env, capsys):
    program, _, receipt = fib
    assert pyzkvm.verify(receipt, program.image_id, dev_mode=True) == receipt.claim
    assert capsys.readouterr().err.strip() == WARNING


def test_wrong_image_id_is_rejected(fib):
    program, _, receipt = fib
    other = bytearray(program.image_id)
    other[0] ^= 1
    with pytest.raises(VerificationError, match="image ID mismatch"):
        quiet_verify(receipt, bytes(other), dev_mode=True)
    with pytest.raises(VerificationError, match="image ID mismatch"):
        get_backend("trace").verify(receipt, bytes(other), dev_mode=True)


def _fails(data: bytes, image_id: bytes, **options) -> bool:
    try:
        receipt = Receipt.from_bytes(data)
    except ReceiptFormatError:
        return True
    try:
        pyzkvm.verify(receipt, image_id, dev_mode=True, **options)
    except VerificationError:
        return True
    return False


def test_every_single_byte_change_is_caught(fib):
    """Exhaustive: every position, every other byte value: a codec error or a failed verification."""
    program, _, receipt = fib
    data = receipt.to_bytes()
    assert not _fails(data, program.image_id)
    survivors = []
    with contextlib.redirect_stderr(io.StringIO()):
        for i in range(len(data)):
            for v in range(256):
                if v != data[i] and not _fails(data[:i] + bytes([v]) + data[i + 1 :], program.image_id):
                    survivors.append((i, v))
    assert survivors == []


def test_every_truncation_is_caught(fib):
    program, _, receipt = fib
    data = receipt.to_bytes()
    for n in range(len(data)):
        with pytest.raises(ReceiptFormatError):
            Receipt.from_bytes(data[:n])


def test_every_position_flipped_is_caught_with_replay(fib):
    program, inputs, receipt = fib
    data = receipt.to_bytes()
    with contextlib.redirect_stderr(io.StringIO()):
        assert not _fails(data, program.image_id, replay=(program, inputs))
        survivors = [
            i
            for i in range(len(data))
            if not _fails(data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1 :], program.image_id, replay=(program, inputs))
        ]
    assert survivors == []


# ---- replay catches what only re-execution can see -----------------------------------------


def forge(receipt: Receipt, *, journal=None, exit_code=None, cycles=None, trace_digest=None) -> Receipt:
    """A receipt with an altered claim whose journal digest and seal binding are recomputed,
    following docs/receipts.md with the blake3 package: only replay can tell it from a real one."""
    journal = receipt.journal if journal is None else journal
    c = receipt.claim
    claim = Claim.for_execution(
        c.image_id, journal, c.exit_code if exit_code is None else exit_code, c.cycles if cycles is None else cycles
    )
    version, digest, rows, events = struct.unpack_from("<H32sQQ", receipt.seal)
    head = struct.pack("<H32sQQ", version, digest if trace_digest is None else trace_digest, rows, events)
    unbound = Receipt(claim, journal, receipt.backend, receipt.backend_version, receipt.params, head)
    binding = blake3.blake3(b"pyzkvm.trace_seal.v1" + unbound.to_bytes()).digest()
    return Receipt(claim, journal, receipt.backend, receipt.backend_version, receipt.params, head + binding)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"journal": fib_journal(11)}, "journal differs"),
        ({"exit_code": 1}, "exit code is 0, receipt claims 1"),
        ({"cycles": 5}, "replay: the guest runs past the receipt's 5 cycles without halting: not the run"),
        ({"cycles": 10**6}, "receipt claims 1000000"),
        ({"trace_digest": bytes(32)}, "trace digest differs"),
    ],
)
def test_replay_catches_an_altered_claim(fib, change, message):
    program, inputs, receipt = fib
    forged = forge(receipt, **change)
    assert forged != receipt
    assert Receipt.from_bytes(forged.to_bytes()) == forged
    quiet_verify(forged, program.image_id, dev_mode=True)  # passes without replay: not a proof
    with pytest.raises(VerificationError, match=message):
        quiet_verify(forged, program.image_id, dev_mode=True, replay=(program, inputs))
    quiet_verify(receipt, program.image_id, dev_mode=True, replay=(program, inputs))


def test_replay_with_other_inputs_fails(fib):
    program, _, receipt = fib
    with pytest.raises(VerificationError, match="replay"):
        quiet_verify(receipt, program.image_id, dev_mode=True, replay=(program, [struct.pack("<I", 11)]))
    # a run longer than the receipt's: named as another run, not a limit to raise (verify has no --max-cycles)
    with pytest.raises(VerificationError, match="other inputs than the ones it ran on") as err:
        quiet_verify(receipt, program.image_id, dev_mode=True, replay=(program, [struct.pack("<I", 500)]))
    assert "max-cycles" not in str(err.value)


def test_forge_helper_agrees_with_the_backend(fib):
    """The forging helper recomputes the binding exactly as the backend does (no change = same bytes)."""
    _, _, receipt = fib
    assert forge(receipt).to_bytes() == receipt.to_bytes()


def test_no_warning_when_a_dev_mode_verification_fails(fib, capsys):
    program, _, receipt = fib
    with pytest.raises(VerificationError, match="image ID mismatch"):
        pyzkvm.verify(receipt, bytes(32), dev_mode=True)
    tampered = forge(receipt)
    tampered = Receipt(tampered.claim, tampered.journal, "trace", "other-version", tampered.params, tampered.seal)
    with pytest.raises(VerificationError, match="binding"):
        pyzkvm.verify(tampered, program.image_id, dev_mode=True)
    assert capsys.readouterr().err == ""


def test_replay_with_another_program_fails(fib, tmp_path):
    program, inputs, receipt = fib
    from pyzkvm.program import Program, Segment

    # one more non-zero word (a zero one would be the same initial memory, hence the same image ID)
    other = Program(entry=program.entry, segments=program.segments + (Segment(0x7000000, (1).to_bytes(4, "little"), 6),))
    with pytest.raises(VerificationError, match="replay program's image ID differs"):
        quiet_verify(receipt, program.image_id, dev_mode=True, replay=(other, inputs))
