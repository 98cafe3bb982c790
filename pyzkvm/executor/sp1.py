"""The SP1 ABI profile (pyzkvm's native ABI; DESIGN.md §3, docs/abi.md).

``ecall`` with t0 = syscall code, arguments in a0, a1 (a2 for WRITE). After the call t0 holds
the return value, or the code itself when the call returns nothing (SP1's executor writes
``t0 ← syscall_impl(...).unwrap_or(code)``).

Trace row of an SP1 ecall: rs1 = t0 (x5, the code), rs2 = a0 (x10), rd = t0 with its new
value. Other registers a syscall reads (a1, a2) and every memory word it reads or writes are
syscall events (see docs/trace.md).
"""

from __future__ import annotations

import bisect
import hashlib

import numpy as np

from ..errors import SyscallError, UnknownSyscall
from .host import HostIO
from .machine import Machine
from .curves import Sp1Panic
from .precompiles import keccak_f1600, sha256_compress, sha256_extend
from .sp1_hooks import HOOK_NAMES, HOOKS
from .sp1_hooks_v3 import HOOK_NAMES_V3, HOOKS_V3
from .sp1_precompiles import PRECOMPILES
from .sp1_versions import VERSIONS, Sp1Version

T0, A0, A1, A2 = 5, 10, 11, 12

HALT = 0x00
WRITE = 0x02
ENTER_UNCONSTRAINED = 0x03
EXIT_UNCONSTRAINED = 0x04
COMMIT = 0x10
COMMIT_DEFERRED_PROOFS = 0x1A
VERIFY_SP1_PROOF = 0x1B
HINT_LEN = 0xF0
HINT_READ = 0xF1
SHA_EXTEND = 0x00300105
SHA_COMPRESS = 0x00010106
KECCAK_PERMUTE = 0x00010109

SYSCALL_NAMES = {
    HALT: "HALT", WRITE: "WRITE", ENTER_UNCONSTRAINED: "ENTER_UNCONSTRAINED",
    EXIT_UNCONSTRAINED: "EXIT_UNCONSTRAINED", COMMIT: "COMMIT",
    COMMIT_DEFERRED_PROOFS: "COMMIT_DEFERRED_PROOFS", VERIFY_SP1_PROOF: "VERIFY_SP1_PROOF", HINT_LEN: "HINT_LEN", HINT_READ: "HINT_READ",
    SHA_EXTEND: "SHA_EXTEND", SHA_COMPRESS: "SHA_COMPRESS", KECCAK_PERMUTE: "KECCAK_PERMUTE",
    **{code: name for code, (name, _) in PRECOMPILES.items()},
}  # fmt: skip

FD_STDOUT, FD_STDERR = 1, 2
FD_PUBLIC_VALUES = (3, 13)
FD_HINT = (4, 14)
#: which host cap (executor/host.OutputCaps) each writable fd counts against: a hook's input and
#: its answers (pushed onto the input stream) count as hint bytes, like a WRITE to fd 4
_CHANNEL_OF_FD = {FD_STDOUT: "output", FD_STDERR: "output", **dict.fromkeys(FD_PUBLIC_VALUES, "journal"),
                  **dict.fromkeys((*FD_HINT, *HOOKS, *HOOKS_V3), "hint")}  # fmt: skip
#: v4+: every fd up to LOWEST_ALLOWED_FD = 10 but stdout/stderr panics (write.rs), fd 0 included;
#: 3 and 4 stay the public values and hints here, as they were before v4 (docs/abi.md)
FD_RESERVED = (0, *range(5, 11))
#: SP1's execute_ecall refuses every other syscall inside an unconstrained block with
#: InvalidSyscallUsage (v3 to v5; docs/abi.md): COMMIT, VERIFY_SP1_PROOF, hints, precompiles, HALT…
_ALLOWED_IN_BLOCK = (WRITE, EXIT_UNCONSTRAINED)


class Sp1Abi:
    """Handles one SP1 ecall at a time; holds the commits and the unconstrained snapshot."""

    name = "sp1"

    def __init__(self, machine: Machine, io: HostIO, version: Sp1Version = VERSIONS["sp1"]):
        self.m = machine
        self.io = io
        self.version = version
        machine.fixed_code = True  # SP1 fetches from the program as loaded (interpreter.py)
        self.commit_words: list[int | None] = [None] * 8  # None: index not committed
        self.deferred_words: list[int | None] = [None] * 8
        self.exit_code: int | None = None
        self._unconstrained: dict | None = None
        #: (image_id, journal_digest) pairs the guest asserted with VERIFY_SP1_PROOF, in order
        self.assumptions: list[tuple[bytes, bytes]] = []
        #: the byte ranges [lo, hi) HINT_READs have filled so far, disjoint and sorted (_hint_rule)
        self._hinted: list[tuple[int, int]] = []

    def handle_ecall(self) -> bool:
        """Run the ecall at pc; return True when the guest halted."""
        m = self.m
        code, a0 = m.reg(T0), m.reg(A0)
        name = SYSCALL_NAMES.get(code)
        if name is None:
            raise m.fault(UnknownSyscall, f"syscall code 0x{code:08x} is not an SP1 syscall (t0); see docs/abi.md")
        if self._unconstrained is not None:
            if code not in _ALLOWED_IN_BLOCK:
                raise m.fault(SyscallError, f"{name} inside an unconstrained block: SP1 stops with InvalidSyscallUsage "
                                            "(only WRITE and EXIT_UNCONSTRAINED may run there); move it after the block")
        else:  # SP1's report counts no call made inside a block (its EXIT included)
            self.io.syscalls[name] += 1
        ret, next_pc = code, m.pc + 4  # no return value: t0 keeps the code
        if code == HALT:
            self.exit_code = a0
            next_pc = 0  # SP1 sets next_pc = 0 at HALT
        elif code == WRITE:
            self._write(a0)
        elif code == HINT_LEN:
            if not self.io.inputs and self.version.hint_len_empty_panics:
                raise m.fault(SyscallError, f"HINT_LEN with no input left: SP1 before v4.2 panics here "
                                            f"(profile {self.version.profile}); pass the guest's inputs with --input")
            ret = len(self.io.inputs[0]) if self.io.inputs else 0xFFFFFFFF
        elif code == HINT_READ:
            self._hint_read(a0)
        elif code in (COMMIT, COMMIT_DEFERRED_PROOFS):
            a1 = self._arg(A1)
            if a0 >= 8:
                raise m.fault(SyscallError, f"{name} index a0={a0} is not in 0..7")
            (self.commit_words if code == COMMIT else self.deferred_words)[a0] = a1
        elif code == VERIFY_SP1_PROOF:
            self._verify_proof(a0)
        elif code == ENTER_UNCONSTRAINED:  # (a second ENTER inside a block was refused above)
            self._unconstrained = m.snapshot()
            ret = 1  # the guest's `if syscall_enter_unconstrained()` branch runs
        elif code == EXIT_UNCONSTRAINED:
            if self._unconstrained is not None:
                return self._exit_unconstrained()
            ret = 0  # SP1 returns Some(0) from EXIT, inside a block or not
        elif code == SHA_EXTEND:
            if self._arg(A1) != 0:
                raise m.fault(SyscallError, f"SHA_EXTEND with a1={m.reg(A1)}: SP1 asserts a1 == 0")
            w = m.read_words(a0, 16, "SHA_EXTEND w[0..16]")
            full = sha256_extend([int(x) for x in w])
            m.write_words(a0 + 64, full[16:], "SHA_EXTEND w[16..64]")
        elif code == SHA_COMPRESS:
            a1 = self._arg(A1)
            if a1 == a0:
                raise m.fault(SyscallError, f"SHA_COMPRESS with a0 = a1 = 0x{a0:08x}: SP1 asserts w_ptr != h_ptr")
            w = m.read_words(a0, 64, "SHA_COMPRESS w")
            h = m.read_words(a1, 8, "SHA_COMPRESS h")
            m.write_words(a1, sha256_compress([int(x) for x in h], [int(x) for x in w]), "SHA_COMPRESS h")
        elif code == KECCAK_PERMUTE:
            if self._arg(A1) != 0:
                raise m.fault(SyscallError, f"KECCAK_PERMUTE with a1={m.reg(A1)}: SP1 asserts a1 == 0")
            words = m.read_words(a0, 50, "KECCAK_PERMUTE state")
            lanes = [int(words[2 * i]) | int(words[2 * i + 1]) << 32 for i in range(25)]
            out = keccak_f1600(lanes)
            m.write_words(a0, [x for lane in out for x in (lane & 0xFFFFFFFF, lane >> 32)], "KECCAK_PERMUTE state")
        elif code in PRECOMPILES:
            self._precompile(name, PRECOMPILES[code][1], a0)
        m.finish_ecall(rs1=T0, rs2=A0, rd=T0, rd_val=ret, next_pc=next_pc, rs1_val=code, rs2_val=a0)
        return code == HALT

    def end_of_program(self) -> bool:
        """pc left the program: SP1 ends the run there as if it had halted with exit code 0
        (its executor's ``done`` test), except inside an unconstrained block (an error)."""
        if self._unconstrained is not None:
            raise self.m.fault(SyscallError, f"pc 0x{self.m.pc:08x} left the program inside an unconstrained block "
                                             "(SP1: EndInUnconstrained)")
        self.exit_code = 0
        return True

    def _precompile(self, name: str, handler, a0: int) -> None:
        """A curve/field/big-integer precompile (sp1_precompiles.py); SP1's panics are faults."""
        try:
            handler(self.m, name, a0, self._arg(A1), self._arg)
        except Sp1Panic as e:
            raise self.m.fault(SyscallError, f"{name}: {e}") from None

    def _arg(self, index: int) -> int:
        value = self.m.reg(index)
        self.m.log_register(index, value)
        return value

    def _write(self, fd: int) -> None:
        m = self.m
        ptr, length = self._arg(A1), self._arg(A2)
        channel = _CHANNEL_OF_FD.get(fd)
        if channel and (over := self.io.over_cap(channel, length)):
            raise m.fault(SyscallError, f"WRITE of {length} bytes to fd {fd}: {over}")
        data = m.read_bytes(ptr, length, "WRITE buffer")
        if fd == FD_STDOUT:
            self.io.write_stdout(data, m.cycle)
        elif fd == FD_STDERR:
            self.io.stderr += data
        elif fd in FD_PUBLIC_VALUES and (fd == 3 or self.version.reserved_low_fds):
            self.io.journal += data  # v3 knows only fd 3 (13 came with v4): under sp1@3 fd 13 is unknown
            if self._unconstrained is not None:  # SP1 keeps them too (its public-values stream is not rolled back)
                self.io.warn(f"WRITE of {length} bytes to fd {fd} inside an unconstrained block: kept in the journal "
                             "as SP1 does, but the proved run never wrote them, so no proof of this run verifies")
        elif fd in FD_HINT and (fd == 4 or self.version.reserved_low_fds):  # likewise fd 4 / 14
            if self.version.hints_to_front:
                self.io.inputs.appendleft(data)  # v4+: the next HINT_READ gets it
            else:
                self.io.inputs.append(data)  # v3: after the inputs not read yet
            self.io.hint_bytes += len(data)
        elif fd in HOOKS and self.version.reserved_low_fds:  # the v4+ hooks
            self._hook(fd, data, HOOKS, HOOK_NAMES)
        elif fd in HOOKS_V3 and not self.version.reserved_low_fds:  # v3's hooks (sp1@3)
            self._hook(fd, data, HOOKS_V3, HOOK_NAMES_V3)
        elif fd in FD_RESERVED and self.version.reserved_low_fds:
            raise m.fault(SyscallError, f"WRITE to reserved fd {fd}: SP1 v4+ panics on fds 0 and 5..10 "
                                        f"(profile {self.version.profile}; use sp1@3 for v3 guests)")
        else:  # SP1 logs "tried to write to unknown file descriptor" and goes on
            self.io.warn(f"WRITE to unknown fd {fd} ({length} bytes) ignored, as SP1 does")

    def _hook(self, fd: int, data: bytes, hooks: dict, names: dict) -> None:
        """A hook (sp1_hooks.py, v3's in sp1_hooks_v3.py): its answers go to the front of the
        input queue, in order — in v3 too (write.rs splices them in at ``input_stream_ptr``)."""
        try:
            answers = hooks[fd](data)
        except Sp1Panic as e:
            raise self.m.fault(SyscallError, f"hook {names[fd]} (WRITE to fd {fd}): {e}") from None
        held = len(data) + sum(len(a) for a in answers)
        if over := self.io.over_cap("hint", held):
            raise self.m.fault(SyscallError, f"hook {names[fd]} (WRITE to fd {fd}): {over}")
        self.io.hint_bytes += held
        for answer in reversed(answers):
            self.io.inputs.appendleft(answer)

    def _hint_read(self, ptr: int) -> None:
        m = self.m
        length = self._arg(A1)
        if not self.io.inputs:
            raise m.fault(SyscallError, "HINT_READ with no input left: pass the guest's inputs with --input")
        element = self.io.inputs[0]
        if length != len(element):
            raise m.fault(SyscallError, f"HINT_READ length a1={length} but the next input element has {len(element)} bytes")
        self.io.inputs.popleft()
        # Whole words, the last one zero-padded (as SP1 does: the destination is fresh memory).
        padded = element + bytes(-len(element) % 4)
        m.write_words(ptr, np.frombuffer(padded, dtype="<u4"), "HINT_READ destination")
        self._hint_rule(ptr, len(padded))

    def _hint_rule(self, ptr: int, size: int) -> None:
        """Warn where SP1 would not show this hint (docs/abi.md, "Where pyzkvm differs"): SP1
        keeps hint words for memory nothing has touched, so over the ELF's words (its .bss
        included: SP1 loads them as zeros) the guest reads the image, and a second HINT_READ to a
        word panics. (A word a load or store touched first is the rule's third case: only the
        proof's memory trace sees that, tests/test_sp1_hint_rule.py.)"""
        if size == 0:
            return
        lo, hi = ptr, ptr + size
        where = f"HINT_READ into [0x{lo:08x}, +{size})"
        fix = "pyzkvm writes the hint there (docs/abi.md); read hints into fresh memory (pyzkvm_read_bytes)"
        if any(a < hi and lo < b for a, b in (seg.words for seg in self.m.program.segments)):
            self.io.warn(f"{where} lands on the program's own data (its ELF image): SP1 would leave the image's "
                         f"words there; {fix}")
        k = bisect.bisect_right(self._hinted, (lo, hi))
        if any(a < hi and lo < b for a, b in self._hinted[max(0, k - 1):k + 1]):
            self.io.warn(f"{where} lands on words an earlier HINT_READ filled: SP1 would panic ('hint read address "
                         f"is initialized already'); {fix}")
        # keep the ranges disjoint: merge this one with those it overlaps or touches
        i = bisect.bisect_left(self._hinted, (lo, lo))
        while i > 0 and self._hinted[i - 1][1] >= lo:
            i -= 1
        j = i
        while j < len(self._hinted) and self._hinted[j][0] <= hi:
            lo, hi = min(lo, self._hinted[j][0]), max(hi, self._hinted[j][1])
            j += 1
        self._hinted[i:j] = [(lo, hi)]

    def _verify_proof(self, image_id_ptr: int) -> None:
        """VERIFY_SP1_PROOF: the guest asserts "a receipt exists for image ID X whose journal
        has SHA-256 D". a0 -> X as 8 words, a1 -> D as 8 words (both word-aligned, as SP1
        asserts); the 32 bytes in memory are the digests' bytes in order. Nothing is checked
        here: the pair becomes an assumption of the run's claim, and whoever proves the run
        must attach a receipt for it (pyzkvm/composition.py). Returns nothing (t0 keeps 0x1B).
        """
        digest_ptr = self._arg(A1)
        image_id = self.m.read_words(image_id_ptr, 8, "VERIFY_SP1_PROOF image ID").astype("<u4").tobytes()
        journal_digest = self.m.read_words(digest_ptr, 8, "VERIFY_SP1_PROOF journal digest").astype("<u4").tobytes()
        self.assumptions.append((image_id, journal_digest))

    def _exit_unconstrained(self) -> bool:
        """EXIT_UNCONSTRAINED inside a block: put back registers and memory as they were at
        ENTER (SP1 replays its memory diff), resume after the ENTER ecall with t0 = 0 (EXIT's
        return value, ≠ 1, so the guest skips the block), and forget the block's cycles. The
        ENTER ecall's trace row is kept, with its rd_val/next_pc patched to that outcome.
        Nothing else needs undoing: a block can only WRITE (handle_ecall refuses the rest), and
        what it wrote (stdout, stderr, fd 3, hints) SP1 keeps, since it lives in the executor's
        state, which EXIT does not restore."""
        m = self.m
        snap, self._unconstrained = self._unconstrained, None
        assert snap is not None  # the caller checked that a block is open
        enter_pc = snap["pc"]
        m.restore(snap)
        m.finish_ecall(rs1=T0, rs2=A0, rd=T0, rd_val=0, next_pc=enter_pc + 4,
                       rs1_val=ENTER_UNCONSTRAINED, rs2_val=m.reg(A0))  # fmt: skip
        return False

    def finish(self, execution_fields: dict) -> None:
        """Fill the SP1-specific fields of the Execution."""
        execution_fields["assumptions"] = tuple(self.assumptions)
        if any(w is not None for w in self.commit_words):
            words = tuple(w or 0 for w in self.commit_words)
            digest = b"".join(w.to_bytes(4, "little") for w in words)
            execution_fields["commit_words"] = words
            execution_fields["commit_matches"] = digest == hashlib.sha256(bytes(self.io.journal)).digest()
        if any(w is not None for w in self.deferred_words):
            execution_fields["deferred_proofs_digest"] = tuple(w or 0 for w in self.deferred_words)
