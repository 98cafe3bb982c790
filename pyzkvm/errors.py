"""Typed exceptions, one family per layer.

Every error a user can cause carries a one-line message that says what is wrong and what to
do about it. The CLI prints ``str(error)`` and exits with ``error.exit_status`` (2 for usage
errors, 1 for everything else); it never shows a traceback for these.
"""

from __future__ import annotations


class PyzkvmError(Exception):
    """Base of every error pyzkvm raises on purpose."""

    exit_status = 1


class UsageError(PyzkvmError):
    """The command line or an API argument is malformed (bad --input spec, bad hex, ...)."""

    exit_status = 2


class FileReadError(PyzkvmError):
    """A file named on the command line or to the API cannot be read: missing, a folder, not a
    regular file, unreadable, or over its size limit (pyzkvm/limits.py). Exit status 1, the
    same rule for every command: a file that is not there is not a malformed command line."""


# --- programs (ELF loading) --------------------------------------------------------------


class ProgramError(PyzkvmError):
    """The ELF file cannot be loaded as an RV32IM guest program."""


# --- guest execution -----------------------------------------------------------------------


class GuestError(PyzkvmError):
    """The guest program did something the machine does not allow."""


class GuestFault(GuestError):
    """A fault raised by one instruction: carries where and when it happened."""

    kind = "fault"

    def __init__(self, reason: str, *, pc: int, word: int, disassembly: str, cycle: int):
        self.reason = reason
        self.pc = pc
        self.word = word
        self.disassembly = disassembly
        self.cycle = cycle
        super().__init__(
            f"{self.kind} at pc=0x{pc:08x} (0x{word:08x}: {disassembly}) cycle {cycle}: {reason}"
        )


class IllegalInstruction(GuestFault):
    kind = "illegal instruction"


class MisalignedAccess(GuestFault):
    kind = "misaligned access"


class MemoryOutOfRange(GuestFault):
    kind = "memory access out of range"


class UnknownSyscall(GuestFault):
    kind = "unknown syscall"


class SyscallError(GuestFault):
    kind = "bad syscall arguments"


class Breakpoint(GuestFault):
    """EBREAK: SP1's executor stops with a breakpoint error; pyzkvm makes it a guest fault."""

    kind = "breakpoint"


class CycleLimitExceeded(GuestFault):
    kind = "cycle limit exceeded"


class GuestExitFailure(GuestError):
    """The guest halted with a non-zero exit code (a guest failure, not a crash)."""

    def __init__(self, exit_code: int, stderr: bytes = b""):
        self.exit_code = exit_code
        self.stderr = stderr
        tail = stderr.decode("utf-8", "replace").strip().splitlines()
        msg = f"guest exited with code {exit_code}"
        if tail:
            msg += f": {tail[-1]}"
        super().__init__(msg)


# --- receipts -------------------------------------------------------------------------------


class ReceiptFormatError(PyzkvmError):
    """Receipt bytes are malformed: bad magic, unknown version, truncation, trailing bytes."""


class VerificationError(PyzkvmError):
    """A receipt does not verify. The message says which check failed."""


class DevModeReceiptError(VerificationError):
    """A dev-mode (trace) receipt, or a receipt with one inside, was presented for verification
    without dev mode on, or where only a proof is accepted (StarkBackend.verify)."""


# --- backends and toolchains -------------------------------------------------------------


class BackendError(PyzkvmError):
    """A prover backend failed or cannot be used."""


class BackendUnavailable(BackendError):
    """The backend's toolchain is missing; the message says how to install it."""


class UnsupportedProgram(BackendError):
    """The backend cannot prove this program (e.g. it uses a syscall the AIR does not cover)."""


class ToolchainError(PyzkvmError):
    """An external tool (compiler, r0vm, cargo) is missing, crashed, hung or printed garbage."""


# --- the proof system --------------------------------------------------------------------


class ProofFormatError(VerificationError):
    """STARK proof bytes are malformed (a proof that does not decode does not verify)."""


class ConstraintNotSatisfied(PyzkvmError):
    """The prover's debug check found a trace row that breaks an AIR constraint (or a bus that does not balance)."""


class StarkConfigError(UsageError):
    """STARK parameters or an AIR/trace shape cannot be used (bad blowup, trace height not a power of two, ...)."""


# STARK verifier failures: each names the check that failed (Plonky3-style typed errors).


class MerklePathError(VerificationError):
    """An opened row or FRI leaf does not hash to the committed Merkle root."""


class OodEvaluationMismatch(VerificationError):
    """The AIR constraints evaluated at the out-of-domain point ζ do not equal Z_H(ζ)·Q(ζ)."""


class FriQueryError(VerificationError):
    """A FRI query is inconsistent: a fold does not match the next layer or the final polynomial."""


class PowError(VerificationError):
    """The proof-of-work (grinding) nonce does not have the required number of leading zero bits."""


class PublicValueMismatch(VerificationError):
    """The public values given to the verifier do not fit the statement (count or range)."""


class BusImbalance(VerificationError):
    """The LogUp buses do not balance: Σ of every table's LogUp total ≠ the public term."""


class ProofShapeError(VerificationError):
    """The proof's shape (tables, heights, widths, query count) does not match the verifying key."""
