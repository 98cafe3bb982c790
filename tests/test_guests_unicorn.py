"""The prebuilt guests, run on unicorn (an independent RV32 CPU) with a minimal SP1-profile
syscall layer written here from DESIGN.md section 3 — no pyzkvm executor involved.

This checks the guests and the SDK themselves (journals against hashlib and Python
references, the COMMIT words against SHA-256 of the journal) and gives the executor tests
a second opinion on cycle counts. ``run_on_unicorn`` is imported by tests/test_guests.py.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyzkvm.program import Program
from tests import sha_reference

unicorn = pytest.importorskip("unicorn")
from unicorn import UC_ARCH_RISCV, UC_HOOK_BLOCK, UC_HOOK_INTR, UC_MODE_RISCV32, Uc, UcError  # noqa: E402
from unicorn import riscv_const as rv  # noqa: E402

BIN = Path(__file__).resolve().parents[1] / "guests" / "bin"

_MAPPED = 0x0400_0000  # 64 MiB from address 0: stack, image and a heap far larger than any test needs
_ECALL_CAUSES = (8, 11)  # environment call from U-mode / M-mode


@dataclass
class UnicornRun:
    journal: bytes = b""
    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int | None = None
    commit_words: list = field(default_factory=lambda: [None] * 8)
    deferred_words: list = field(default_factory=lambda: [None] * 8)
    instructions: int = 0
    syscalls: list = field(default_factory=list)
    #: (image_id, journal_digest) pairs asserted with VERIFY_SP1_PROOF, in order
    assumptions: list = field(default_factory=list)

    @property
    def commit_digest(self) -> bytes:
        """The 8 COMMIT words as bytes: word i little-endian is digest bytes 4i..4i+4."""
        return b"".join(struct.pack("<I", w) for w in self.commit_words)


def sha_precompile_on_unicorn(uc_, code: int, a0: int, a1: int) -> bool:
    """SHA_EXTEND / SHA_COMPRESS (the SDK's SHA-256 blocks) done on unicorn's memory with the
    test's own FIPS 180-4 reference; False for any other code."""
    if code == 0x00300105:  # SHA_EXTEND: a0 -> w[64]; w[16..64] from w[0..16]; a1 = 0
        assert a0 % 4 == 0 and a1 == 0, f"SHA_EXTEND a0=0x{a0:x} a1=0x{a1:x}"
        w = sha_reference.schedule(struct.unpack("<16I", uc_.mem_read(a0, 64)))
        uc_.mem_write(a0 + 64, struct.pack("<48I", *w[16:]))
        return True
    if code == 0x00010106:  # SHA_COMPRESS: a0 -> w[64], a1 -> h[8]; h = h + rounds(h, w)
        assert a0 % 4 == 0 and a1 % 4 == 0, f"SHA_COMPRESS pointers 0x{a0:x}, 0x{a1:x} not word-aligned"
        w, h = struct.unpack("<64I", uc_.mem_read(a0, 256)), struct.unpack("<8I", uc_.mem_read(a1, 32))
        uc_.mem_write(a1, struct.pack("<8I", *sha_reference.compress_words(h, w)))
        return True
    return False


def run_on_unicorn(elf: str | Path | bytes, inputs=(), max_instructions: int = 50_000_000) -> UnicornRun:
    """Run a guest ELF on unicorn with the SP1 syscalls HALT, WRITE, HINT_LEN, HINT_READ,
    COMMIT, COMMIT_DEFERRED_PROOFS, VERIFY_SP1_PROOF, SHA_EXTEND and SHA_COMPRESS (the SDK's
    SHA-256; tests/sha_reference.py); anything else fails the test."""
    program = Program.from_elf(elf)
    uc = Uc(UC_ARCH_RISCV, UC_MODE_RISCV32)
    uc.mem_map(0, _MAPPED)
    for seg in program.segments:
        uc.mem_write(seg.vaddr, seg.data)
    run = UnicornRun()
    pending = [bytes(x) for x in inputs]

    def on_block(uc_, address, size, _):
        run.instructions += size // 4

    def on_ecall(uc_, intno, _):
        if intno not in _ECALL_CAUSES:
            pc = uc_.reg_read(rv.UC_RISCV_REG_PC)
            raise AssertionError(f"guest trapped (cause {intno}) near pc=0x{pc:08x}")
        code = uc_.reg_read(rv.UC_RISCV_REG_T0)
        a0, a1, a2 = (uc_.reg_read(r) for r in (rv.UC_RISCV_REG_A0, rv.UC_RISCV_REG_A1, rv.UC_RISCV_REG_A2))
        run.syscalls.append(code)
        ret = code  # t0 keeps the code when the call returns nothing
        if code == 0x00:  # HALT
            run.exit_code = a0
            uc_.emu_stop()
        elif code == 0x02:  # WRITE fd, buf, len
            data = bytes(uc_.mem_read(a1, a2))
            if a0 == 1:
                run.stdout += data
            elif a0 == 2:
                run.stderr += data
            elif a0 in (3, 13):
                run.journal += data
            else:
                raise AssertionError(f"WRITE to unexpected fd {a0}")
        elif code == 0xF0:  # HINT_LEN
            ret = len(pending[0]) if pending else 0xFFFFFFFF
        elif code == 0xF1:  # HINT_READ dest, len: whole words, the last one zero-padded
            assert pending, "HINT_READ with no input left"
            assert a0 % 4 == 0, f"HINT_READ destination 0x{a0:x} not word-aligned"
            element = pending.pop(0)
            assert a1 == len(element), f"HINT_READ length {a1} != element length {len(element)}"
            uc_.mem_write(a0, element + bytes(-len(element) % 4))
        elif code == 0x10:  # COMMIT index, word
            run.commit_words[a0] = a1
        elif code == 0x1A:  # COMMIT_DEFERRED_PROOFS index, word
            run.deferred_words[a0] = a1
        elif code == 0x1B:  # VERIFY_SP1_PROOF: a0 -> image ID (8 words), a1 -> journal digest (8 words)
            assert a0 % 4 == 0 and a1 % 4 == 0, f"VERIFY_SP1_PROOF pointers 0x{a0:x}, 0x{a1:x} not word-aligned"
            run.assumptions.append((bytes(uc_.mem_read(a0, 32)), bytes(uc_.mem_read(a1, 32))))
        elif sha_precompile_on_unicorn(uc_, code, a0, a1):
            pass
        else:
            raise AssertionError(f"unexpected syscall 0x{code:x}")
        uc_.reg_write(rv.UC_RISCV_REG_T0, ret)

    uc.hook_add(UC_HOOK_BLOCK, on_block)
    uc.hook_add(UC_HOOK_INTR, on_ecall)
    try:
        uc.emu_start(program.entry, 0xFFFF_FFFF, count=max_instructions)
    except UcError as exc:  # pragma: no cover - a broken guest
        pc = uc.reg_read(rv.UC_RISCV_REG_PC)
        raise AssertionError(f"unicorn stopped with {exc} at pc=0x{pc:08x}") from None
    assert run.exit_code is not None, f"guest did not HALT within {max_instructions} instructions"
    return run


def fib_reference(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, (a + b) % (1 << 64)
    return a


def u32(n: int) -> bytes:
    return struct.pack("<I", n)


def assert_committed(run: UnicornRun) -> None:
    """COMMIT x8 = SHA-256(journal), COMMIT_DEFERRED_PROOFS x8 = 0, HALT last."""
    assert run.commit_digest == hashlib.sha256(run.journal).digest()
    assert run.deferred_words == [0] * 8
    assert run.syscalls[-17:] == [0x10] * 8 + [0x1A] * 8 + [0x00]


@pytest.mark.parametrize("n", [0, 1, 2, 10, 93, 100, 1000])
def test_fibonacci_on_unicorn(n):
    run = run_on_unicorn(BIN / "fibonacci.elf", [u32(n)])
    assert run.exit_code == 0
    assert run.journal == u32(n) + struct.pack("<Q", fib_reference(n))
    assert_committed(run)


SHA_MESSAGES = [b"", b"abc", bytes(range(256)) * 2 + b"tail", b"x" * 55, b"y" * 56, b"z" * 64, b"w" * 119]


@pytest.mark.parametrize("message", SHA_MESSAGES, ids=lambda m: f"{len(m)}B")
def test_sha256_on_unicorn(message):
    run = run_on_unicorn(BIN / "sha256.elf", [message])
    assert run.exit_code == 0
    assert run.journal == hashlib.sha256(message).digest()
    assert_committed(run)


def claims(n: int) -> list[bytes]:
    return [hashlib.sha256(b"image %d" % i).digest() + hashlib.sha256(b"journal %d" % i).digest() for i in range(n)]


@pytest.mark.parametrize("n", [0, 1, 3])
def test_aggregator_on_unicorn(n):
    cs = claims(n)
    run = run_on_unicorn(BIN / "aggregator.elf", [u32(n), *cs])
    assert run.exit_code == 0
    assert run.journal == u32(n) + hashlib.sha256(b"".join(cs)).digest()
    assert run.assumptions == [(c[:32], c[32:]) for c in cs]  # one VERIFY_SP1_PROOF per claim, in order
    assert_committed(run)


def test_aggregator_rejects_a_short_claim_on_unicorn():
    run = run_on_unicorn(BIN / "aggregator.elf", [u32(1), b"\x01" * 63])
    assert run.exit_code == 1
    assert b"64 bytes" in run.stderr


@pytest.mark.parametrize(
    "values",
    [[], [7], [3, 1, 2], [0xFFFFFFFF, 0, 0x80000000, 5, 5, 1], list(range(100, 0, -3)) + [2**31 + 1, 17]],
    ids=lambda v: f"{len(v)}values",
)
def test_sort_on_unicorn(values):
    run = run_on_unicorn(BIN / "sort.elf", [struct.pack(f"<{len(values)}I", *values)])
    assert run.exit_code == 0
    assert run.journal == struct.pack(f"<{len(values)}I", *sorted(values))
    assert_committed(run)


def test_panic_on_unicorn():
    run = run_on_unicorn(BIN / "panic.elf")
    assert run.exit_code == 1
    assert run.stdout == b"panic guest: about to panic\n"
    assert run.stderr == b"panic guest: this guest always panics\n"
    assert run.journal == b""
    assert_committed(run)  # even a failing guest commits SHA-256 of its (empty) journal


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_sha256_random_messages_on_unicorn(message):
    run = run_on_unicorn(BIN / "sha256.elf", [message])
    assert run.journal == hashlib.sha256(message).digest()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 2**32 - 1), max_size=80))
def test_sort_random_lists_on_unicorn(values):
    run = run_on_unicorn(BIN / "sort.elf", [struct.pack(f"<{len(values)}I", *values)])
    assert run.journal == struct.pack(f"<{len(values)}I", *sorted(values))
