"""What the machine AIR can prove, checked up front with a clear UnsupportedProgram.

Two levels:
  * PROVABLE_SYSCALLS: the SP1 syscalls the AIR covers (issue 5, unconstrained blocks issue 16);
    PROVABLE_RISC0_SYSCALLS the RISC Zero profile's: every SP1 precompile has its chip. Anything
    else — WRITE to a hint fd outside an unconstrained block, an unknown call — is refused by name,
    as are the calls a chip cannot prove (check_provable's callers: an ED_ADD whose denominator is 0,
    buffers that overlap, …: docs/machine.md §8).
  * CONSTRAINED (program_table.py): the instructions with constraints — all of RV32IM but
    EBREAK (which faults in the executor anyway). An execution using another instruction is
    refused, naming it, rather than producing rows nothing constrains.
"""

from __future__ import annotations

from ..errors import UnsupportedProgram
from ..executor.result import Execution
from .program_table import CONSTRAINED

PROVABLE_SYSCALLS = ("HALT", "WRITE", "HINT_LEN", "HINT_READ", "COMMIT", "COMMIT_DEFERRED_PROOFS", "VERIFY_SP1_PROOF",
                     "ENTER_UNCONSTRAINED", "EXIT_UNCONSTRAINED", "KECCAK_PERMUTE", "SHA_EXTEND", "SHA_COMPRESS",
                     "ED_ADD", "ED_DECOMPRESS", "SECP256K1_ADD", "SECP256K1_DOUBLE", "SECP256R1_ADD", "SECP256R1_DOUBLE",
                     "BN254_ADD", "BN254_DOUBLE", "BLS12381_ADD", "BLS12381_DOUBLE", "UINT256_MUL", "U256XU2048_MUL",
                     "SECP256K1_DECOMPRESS", "SECP256R1_DECOMPRESS", "BLS12381_DECOMPRESS",
                     *(f"{f}_{op}" for f in ("BN254", "BLS12381") for op in ("FP_ADD", "FP_SUB", "FP_MUL", "FP2_ADD", "FP2_SUB", "FP2_MUL")))
#: the RISC Zero profile's (executor/risc0.py names): HALT, the SOFTWARE calls and the SHA ecall
PROVABLE_RISC0_SYSCALLS = ("HALT", "SYS_READ", "SYS_WRITE", "SHA")
#: syscalls whose constraints exist (all the provable ones)
CONSTRAINED_SYSCALLS = PROVABLE_SYSCALLS + PROVABLE_RISC0_SYSCALLS
#: the longest run the machine AIR proves (in segments): timestamps 4·clk + 4 + k stay below
#: 2^28 + 8, which the 4-byte timestamp differences rely on (cpu.D_WEIGHTS)
MAX_CYCLES = 1 << 26
#: the most cycles one proof (a whole run or one segment) covers: 2^22 CPU rows
MAX_SEGMENT_CYCLES = 1 << 22


def check_provable(execution: Execution) -> None:
    """Refuse an execution the finished machine AIR cannot prove (UnsupportedProgram).

    Checks the ABI profile and that only its provable syscalls were used."""
    if execution.abi == "risc0":
        bad = sorted(set(execution.report.syscalls) - set(PROVABLE_RISC0_SYSCALLS))
        if bad:
            raise UnsupportedProgram(f"RISC Zero syscall {', '.join(bad)} cannot be proved by the stark backend")
        return
    if execution.abi != "sp1":
        raise UnsupportedProgram(f"the machine AIR proves the sp1 and risc0 ABI profiles, not {execution.abi!r}")
    if execution.halted and "HALT" not in execution.report.syscalls:
        raise UnsupportedProgram(f"the run ended at pc 0x{execution.final_pc:08x}, outside the program (SP1's end of run), "
                                 "not at HALT: the stark backend proves runs that end with HALT")
    bad = sorted(set(execution.report.syscalls) - set(PROVABLE_SYSCALLS))
    if bad:
        raise UnsupportedProgram(
            f"syscall {', '.join(bad)} cannot be proved by the stark backend (it proves "
            f"{', '.join(PROVABLE_SYSCALLS)}): the trace backend runs every SP1 syscall (--backend trace, "
            "dev mode), or remove it from the guest")


def check_output_digest(execution: Execution) -> None:
    """Refuse (UnsupportedProgram) a run whose proof could bind no receipt of its journal: a risc0
    run whose HALT output digest is not RISC Zero's digest of the journal it wrote to fd 3, an sp1
    run whose COMMIT words are not SHA-256 of its journal. The proof binds the journal only
    through that digest, so the prover proved it and handed out a receipt every verifier refused
    (red-team reviews: risc0 session 25, sp1's `blake3` feature session 26). The tables of such
    a run can still be built (the machine tests check what the AIR makes of them)."""
    if execution.abi == "risc0" and execution.output_digest_matches is False:
        raise UnsupportedProgram("the output digest at HALT's a1 is not RISC Zero's output digest of the journal the "
                                 "guest wrote to fd 3, and the proof binds the journal only through that digest: "
                                 "hash what the guest writes (the SDK's env::commit does)")
    # sp1: the verifier rebuilds the COMMIT words as SHA-256(journal) (statement.from_claim); sp1-zkvm's
    # `blake3` feature commits BLAKE3(public values), which no receipt of this journal could show
    if execution.abi == "sp1" and execution.commit_matches is False:
        raise UnsupportedProgram("the guest's COMMIT words are not SHA-256 of its journal (sp1-zkvm's `blake3` feature "
                                 "commits a BLAKE3 digest), and pyzkvm's proofs bind the journal through its SHA-256 "
                                 "digest: build the guest without that feature")


def check_constrained(execution: Execution) -> None:
    """Refuse an execution the machine tables cannot represent: check_provable, plus an
    instruction without constraints, a missing trace, or more cycles than timestamps allow."""
    check_provable(execution)
    ops = sorted(set(execution.report.instructions) - set(CONSTRAINED))
    if ops:
        raise UnsupportedProgram(f"instruction(s) {', '.join(ops)} are not constrained by the machine AIR yet "
                                 f"(constrained: {', '.join(sorted(CONSTRAINED))})")
    sys_ = sorted(set(execution.report.syscalls) - set(CONSTRAINED_SYSCALLS))
    if sys_:
        raise UnsupportedProgram(f"syscall(s) {', '.join(sys_)} are not constrained by the machine AIR yet")
    if execution.trace is None:
        raise UnsupportedProgram("the execution has no trace: run execute(..., capture_trace=True)")
    if execution.cycles > MAX_SEGMENT_CYCLES:
        raise UnsupportedProgram(f"{execution.cycles} cycles is more than one proof covers ({MAX_SEGMENT_CYCLES}): "
                                 "prove in segments (--segment-cycles)")
    if int(execution.trace.columns["clk"][-1]) >= MAX_CYCLES:
        raise UnsupportedProgram(f"the run is longer than the machine AIR's limit of {MAX_CYCLES} cycles")
