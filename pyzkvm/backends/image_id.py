"""A program's image ID, computed in the backend layer (Program, below it, does not import the
machine): the circuit digest of the machine AIR's verifying key for the program
(machine/image_id.py), or the program's content digest for a program the machine cannot
represent (code above 0x77E00000). The package wires it into ``Program.image_id`` once
(pyzkvm/__init__.py: program.use_image_id)."""

from __future__ import annotations


def program_image_id(program) -> bytes:
    from .. import memo

    # an ID this code computed before, in any process (pyzkvm/memo.py): no machine import, no setup
    stored = memo.get(memo.IMAGE_IDS, memo.program_key(program))
    if stored is not None and len(stored) == 32:
        return stored
    from ..errors import UnsupportedProgram
    from ..machine.image_id import machine_image_id  # lazy: numba kernels load on first use

    try:
        return machine_image_id(program)
    except UnsupportedProgram:
        return program.content_digest
