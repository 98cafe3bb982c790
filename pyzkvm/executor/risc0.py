"""The RISC Zero v1-compatible ABI profile (DESIGN.md §3, docs/abi.md).

``ecall`` with t0 selecting the call:

  HALT = 0      a0 = halt type | exit code << 8 (type 0 terminate, 1 pause); a1 → the 8-word
                output digest, recorded and compared with RISC Zero's formula (never fatal)
  SOFTWARE = 2  a2 → the syscall's NUL-terminated name ("risc0_zkvm_platform::syscall::nr::
                SYS_READ"), t6 = pyzkvm's syscall number (READ 12, WRITE 16) when the name
                is not recognised; a0 = host→guest buffer, a1 = its length in words;
                args a3, a4, a5; results in a0, a1
  SHA = 3       a0 = out state, a1 = in state, a2/a3 = first/second half of block 0,
                a4 = block count (risc0 v1 ``ecall_sha``)

Registers are not changed except the results listed; t0 is left as is. Trace rows of a
RISC Zero ecall: rs1 = t0, rs2 = a0, rd = 0; every other register read or written and every
memory word touched is a syscall event (docs/trace.md).
"""

from __future__ import annotations

import hashlib

import numpy as np

from ..errors import MemoryOutOfRange, SyscallError, UnknownSyscall
from .host import HostIO
from .machine import Machine
from .precompiles import sha256_compress_block

T0, A0, A1, A2, A3, A4, A5, T6 = 5, 10, 11, 12, 13, 14, 15, 31

HALT, SOFTWARE, SHA = 0, 2, 3
HALT_TERMINATE, HALT_PAUSE = 0, 1
SYS_READ, SYS_WRITE = 12, 16
_SYS_BY_NAME = {b"SYS_READ": SYS_READ, b"SYS_WRITE": SYS_WRITE}
FD_STDIN, FD_STDOUT, FD_STDERR, FD_JOURNAL = 0, 1, 2, 3

#: SHA-256 of b"risc0.Output" (RISC Zero's tagged-struct tag for the Output claim).
_OUTPUT_TAG = hashlib.sha256(b"risc0.Output").digest()


def output_digest(journal: bytes, assumptions_digest: bytes = bytes(32)) -> bytes:
    """RISC Zero's Output digest: SHA256(SHA256("risc0.Output") ‖ SHA256(journal) ‖
    assumptions ‖ u16le(2)) — a tagged struct of two digests."""
    return hashlib.sha256(_OUTPUT_TAG + hashlib.sha256(journal).digest() + assumptions_digest + (2).to_bytes(2, "little")).digest()


class Risc0Abi:
    """Handles one RISC Zero ecall at a time; the input is one byte stream (fd 0)."""

    name = "risc0"

    def __init__(self, machine: Machine, io: HostIO):
        self.m = machine
        self.io = io
        # pyzkvm's one fetch model (interpreter.py, docs/abi.md): the program as loaded, which is
        # what the proof's program table holds. RISC Zero's own zkVM fetches from memory (a store
        # into code changes what runs there); RV32IM without Zifencei (FENCE.I is illegal here)
        # allows both, and a fetch from memory would let a self-modifying guest's run differ
        # from the run the proof shows.
        machine.fixed_code = True
        self.stdin = b"".join(io.inputs)
        io.inputs.clear()
        self.stdin_pos = 0
        self.exit_code: int | None = None
        self.halt_type: int | None = None
        self.output_digest: bytes | None = None

    def _arg(self, index: int) -> int:
        value = self.m.reg(index)
        self.m.log_register(index, value)
        return value

    def end_of_program(self) -> bool:
        """pc left the program's code (the span of its executable segments): a fault, as only
        the program as loaded is fetched."""
        m = self.m
        raise m.fault(MemoryOutOfRange, f"instruction fetch from 0x{m.pc:08x}, outside the program's code "
                                        f"[0x{m.code_lo:x}, 0x{m.code_lo + 4 * len(m.code_words):x})")

    def handle_ecall(self) -> bool:
        m = self.m
        call, a0 = m.reg(T0), m.reg(A0)
        next_pc = m.pc + 4
        if call == HALT:
            self.io.syscalls["HALT"] += 1
            halt_type = a0 & 0xFF
            if halt_type not in (HALT_TERMINATE, HALT_PAUSE):
                raise m.fault(SyscallError, f"HALT type {halt_type} in a0: use 0 (terminate) or 1 (pause)")
            self.halt_type, self.exit_code = halt_type, a0 >> 8
            words = m.read_words(self._arg(A1), 8, "HALT output digest")
            self.output_digest = words.astype("<u4").tobytes()
            next_pc = 0
        elif call == SOFTWARE:
            self._software()
        elif call == SHA:
            self.io.syscalls["SHA"] += 1
            self._sha()
        else:
            raise m.fault(UnknownSyscall, f"ecall t0={call} is not a RISC Zero call (0 HALT, 2 SOFTWARE, 3 SHA)")
        m.finish_ecall(rs1=T0, rs2=A0, rd=0, rd_val=0, next_pc=next_pc, rs1_val=call, rs2_val=a0)
        return call == HALT

    def _software(self) -> None:
        m = self.m
        name = m.read_cstring(self._arg(A2))
        nr = None
        if name is not None:
            nr = _SYS_BY_NAME.get(name.rsplit(b"::", 1)[-1])
        if nr is None:
            nr = self._arg(T6)
        if nr == SYS_READ:
            self.io.syscalls["SYS_READ"] += 1
            self._sys_read()
        elif nr == SYS_WRITE:
            self.io.syscalls["SYS_WRITE"] += 1
            self._sys_write()
        else:
            shown = name.decode("utf-8", "replace") if name else "?"
            raise m.fault(UnknownSyscall, f"SOFTWARE syscall t6={nr} (name {shown!r}) is not supported: use SYS_READ (12) or SYS_WRITE (16)")

    def _sys_read(self) -> None:
        """READ: up to a4 bytes from fd a3; the first a1 words go to the buffer at a0 (zero
        padded), the 0–3 bytes after them come back in a1; a0 ← bytes read."""
        m = self.m
        buf, nwords, fd, nbytes = m.reg(A0), self._arg(A1), self._arg(A3), self._arg(A4)
        if fd != FD_STDIN:
            raise m.fault(SyscallError, f"SYS_READ from fd {fd}: only fd 0 (the input stream) can be read")
        if nbytes > 4 * nwords + 4:
            raise m.fault(SyscallError, f"SYS_READ of {nbytes} bytes into a {nwords}-word buffer")
        data = self.stdin[self.stdin_pos : self.stdin_pos + nbytes]
        self.stdin_pos += len(data)
        main = data[: 4 * nwords]
        if nwords:
            padded = main + bytes(4 * nwords - len(main))
            m.write_words(buf, np.frombuffer(padded, dtype="<u4"), "SYS_READ buffer")
        last = int.from_bytes(data[4 * nwords :], "little")
        m.set_register(A0, len(data))
        m.set_register(A1, last)

    def _sys_write(self) -> None:
        m = self.m
        fd, ptr, length = self._arg(A3), self._arg(A4), self._arg(A5)
        channel = {FD_STDOUT: "output", FD_STDERR: "output", FD_JOURNAL: "journal"}.get(fd)
        if channel and (over := self.io.over_cap(channel, length)):
            raise m.fault(SyscallError, f"SYS_WRITE of {length} bytes to fd {fd}: {over}")
        data = m.read_bytes(ptr, length, "SYS_WRITE buffer")
        if fd == FD_STDOUT:
            self.io.write_stdout(data, m.cycle)
        elif fd == FD_STDERR:
            self.io.stderr += data
        elif fd == FD_JOURNAL:
            self.io.journal += data
        else:
            raise m.fault(SyscallError, f"SYS_WRITE to fd {fd}: use 1 (stdout), 2 (stderr) or 3 (journal)")
        m.set_register(A0, 0)
        m.set_register(A1, 0)

    def _sha(self) -> None:
        """out = SHA-256 compression of ``count`` blocks into the in state. States are the
        digest's bytes in memory (big-endian words); each block is 8 words at a2 then 8
        words at a3, both pointers advancing 64 bytes per block (risc0 v1 ecall_sha)."""
        m = self.m
        out_ptr, in_ptr = m.reg(A0), self._arg(A1)
        b1, b2, count = self._arg(A2), self._arg(A3), self._arg(A4)
        state = [int.from_bytes(m.read_bytes(in_ptr + 4 * i, 4, "SHA in state"), "big") for i in range(8)]
        for k in range(count):
            block = m.read_bytes(b1 + 64 * k, 32, "SHA block") + m.read_bytes(b2 + 64 * k, 32, "SHA block")
            state = sha256_compress_block(state, block)
        out = b"".join(x.to_bytes(4, "big") for x in state)
        m.write_words(out_ptr, np.frombuffer(out, dtype="<u4"), "SHA out state")

    def finish(self, fields: dict) -> None:
        if self.output_digest is not None:
            fields["output_digest"] = self.output_digest
            fields["output_digest_matches"] = self.output_digest == output_digest(bytes(self.io.journal))
        fields["halt_type"] = self.halt_type
