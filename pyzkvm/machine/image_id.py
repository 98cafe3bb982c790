"""The machine's verifying key and the image ID derived from it.

The STARK backend's image ID is the digest of the verifying key of the machine AIR for the
program: it covers the STARK parameters, every table's layout, and the Merkle root of the
preprocessed columns — the program table (decoded instructions and the entry point), the
memory image and the byte table. A verifier holding only the ID therefore checks a proof
against exactly this program. Two consequences the backends must share (docs/machine.md §8):
the ID depends on the STARK parameters (a proof under another preset has another ID), and it
does not yet cover the constraints themselves (docs/machine.md §9.2).
"""

from __future__ import annotations

from ..program import Program
from ..stark import DEFAULT, StarkConfig, VerifyingKey, setup
from .tables import build_chips


def machine_verifying_key(program: Program, config: StarkConfig = DEFAULT) -> VerifyingKey:
    """Set up the machine AIR for ``program`` (commits the preprocessed tables) and return
    the verifying key."""
    return setup(config, build_chips(program).airs).verifying_key


def machine_image_id(program: Program, config: StarkConfig = DEFAULT) -> bytes:
    """The 32-byte image ID: the digest of the machine's verifying key for ``program``."""
    return machine_verifying_key(program, config).digest
