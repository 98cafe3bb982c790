"""The RISC Zero v1-compatible profile: HALT with the output digest, SOFTWARE READ/WRITE,
the SHA ecall (checked against hashlib)."""

from __future__ import annotations

import hashlib
import struct

import pytest

from pyzkvm.errors import SyscallError, UnknownSyscall
from pyzkvm.executor import execute
from pyzkvm.executor.precompiles import SHA256_H0
from pyzkvm.executor.risc0 import output_digest
from tests.rvasm import DATA_BASE, asm, flatten, program

READ_NAME = b"risc0_zkvm_platform::syscall::nr::SYS_READ\0"
WRITE_NAME = b"risc0_zkvm_platform::syscall::nr::SYS_WRITE\0"
NAMES = DATA_BASE  # READ name at +0, WRITE name at +64
DIGEST = DATA_BASE + 0x80
BUF = DATA_BASE + 0x100


def regs(**values):
    names = {"a0": 10, "a1": 11, "a2": 12, "a3": 13, "a4": 14, "a5": 15, "t0": 5, "t6": 31}
    return flatten([asm.li(names[k], v) for k, v in values.items()])


def halt(exit_code=0, halt_type=0):
    return regs(a0=halt_type | exit_code << 8, a1=DIGEST, t0=0) + [asm.ecall()]


def data(digest=bytes(32)):
    d = READ_NAME + bytes(64 - len(READ_NAME)) + WRITE_NAME + bytes(64 - len(WRITE_NAME)) + digest
    return d + bytes(0x100 - len(d)) + bytes(256)


def run(code, inputs=(), digest=bytes(32)):
    return execute(program(flatten([code, halt()]), data=data(digest), abi="risc0"), inputs)


def test_empty_journal_output_digest_test_vector():
    # from RISC Zero's own tests (risc0-binfmt, `digests.output` of an empty-journal claim);
    # DESIGN.md §3 abbreviates it as 836f175c…b075b53d, whose tail is byte-swapped
    expected = "836f175c62c0f353831665427e8b0b34f6d1d21902764daeb406c6b83db575b0"
    assert output_digest(b"").hex() == expected


def test_halt_records_and_checks_the_output_digest():
    good = run([], digest=output_digest(b""))
    assert good.exit_code == 0 and good.halt_type == 0
    assert good.output_digest == output_digest(b"") and good.output_digest_matches is True
    bad = run([], digest=bytes(32))
    assert bad.output_digest_matches is False  # recorded, not fatal


def test_halt_exit_code_and_pause():
    e = execute(program(halt(exit_code=7, halt_type=1), data=data(), abi="risc0"))
    assert (e.exit_code, e.halt_type) == (7, 1)
    with pytest.raises(SyscallError, match="HALT type 5"):
        execute(program(halt(halt_type=5), data=data(), abi="risc0"))


@pytest.mark.parametrize("by_name", [True, False])
def test_software_read_then_write_to_the_journal(by_name):
    name = lambda n: NAMES + (0 if n == "read" else 64) if by_name else 0  # noqa: E731
    code = [
        # READ 7 bytes: 1 word into BUF, 3 bytes back in a1
        regs(a0=BUF, a1=1, a2=name("read"), a3=0, a4=7, t6=12, t0=2), asm.ecall(),
        asm.add(18, 10, 0), asm.add(19, 11, 0),
        asm.li(6, BUF), asm.sw(19, 6, 4),  # store the tail word after the first
        regs(a0=0, a1=0, a2=name("write"), a3=3, a4=BUF, a5=7, t6=16, t0=2), asm.ecall(),
    ]
    e = run(code, inputs=[b"abc", b"defg"])  # the input stream is the concatenation
    assert e.final_registers[18] == 7
    assert e.final_registers[19] == int.from_bytes(b"efg", "little")
    assert e.journal == b"abcdefg"
    assert e.report.syscalls["SYS_READ"] == 1 and e.report.syscalls["SYS_WRITE"] == 1


def test_software_read_past_the_end_returns_what_is_left():
    code = [regs(a0=BUF, a1=4, a2=NAMES, a3=0, a4=16, t0=2), asm.ecall(), asm.add(18, 10, 0)]
    assert run(code, inputs=[b"xyz"]).final_registers[18] == 3


def test_sha_ecall_matches_hashlib():
    message = bytes(range(100))
    padded = message + b"\x80" + bytes(-(len(message) + 9) % 64) + struct.pack(">Q", 8 * len(message))
    state = struct.pack(">8I", *SHA256_H0)  # digest-order bytes in memory
    d = data() + state + padded
    in_ptr = BUF + 256
    block = in_ptr + 32
    code = [regs(a0=BUF, a1=in_ptr, a2=block, a3=block + 32, a4=len(padded) // 64, t0=3), asm.ecall(),
            regs(a0=0, a1=0, a2=NAMES + 64, a3=3, a4=BUF, a5=32, t0=2), asm.ecall()]  # fmt: skip
    e = execute(program(flatten([code, halt()]), data=d, abi="risc0"))
    assert e.journal == hashlib.sha256(message).digest()


def test_unknown_calls():
    with pytest.raises(UnknownSyscall, match="t0=9"):
        run([regs(t0=9), asm.ecall()])
    with pytest.raises(UnknownSyscall, match="t6=99"):
        run([regs(a2=0, t6=99, t0=2), asm.ecall()])
