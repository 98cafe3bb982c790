"""pyzkvm.machine: the RV32IM AIR — chips, buses, and trace generation from an Execution.

    chips = build_chips(program)                 # the AIRs (tables.CHIPS); program/image are preprocessed
    tables = generate_tables(chips, execution)   # each chip's main trace (its own generate) + the Statement
    check_machine(chips, tables)                 # debug check: constraints and buses

See docs/machine.md for every chip's columns, constraints, buses and the soundness argument.
Status: every RV32IM instruction (EBREAK faults), registers and memory, the program image and
the SP1 syscalls HALT, WRITE, HINT_LEN, HINT_READ, COMMIT, COMMIT_DEFERRED_PROOFS and
VERIFY_SP1_PROOF are constrained (the journal and the assumptions are the proof's public
data: ``MachinePublicData``, ``tables.public_data``); anything else is refused with
UnsupportedProgram. Gaps: docs/machine.md §8.
The image ID of an sp1 program is the circuit digest of this AIR's verifying key (image_id.py).
"""

from .debug import check_machine
from .image_id import IMAGE_ID_LOG_BLOWUP, IMAGE_ID_LOG_BLOWUPS, machine_image_id, machine_key_from_parts, machine_verifying_key
from .public_data import MachinePublicData
from .statement import Statement
from .support import PROVABLE_SYSCALLS, check_constrained, check_provable
from .tables import Chips, MachineTables, build_chips, generate_tables, machine_airs

__all__ = ["Chips", "MachineTables", "build_chips", "generate_tables", "check_machine", "check_provable",
           "check_constrained", "PROVABLE_SYSCALLS", "machine_image_id", "machine_verifying_key", "machine_key_from_parts",
           "machine_airs", "IMAGE_ID_LOG_BLOWUP", "IMAGE_ID_LOG_BLOWUPS", "MachinePublicData", "Statement"]
