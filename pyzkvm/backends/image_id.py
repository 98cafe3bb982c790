"""A program's image ID, computed in the backend layer (Program, below it, does not import the
machine): the circuit digest of the machine AIR's verifying key for the program
(machine/image_id.py), or the program's content digest for a program the machine cannot
represent (code above 0x77E00000). The package wires it into ``Program.image_id`` once
(pyzkvm/__init__.py: program.use_image_id)."""

from __future__ import annotations


def program_image_id(program) -> bytes:
    from ..errors import UnsupportedProgram
    from ..machine.image_id import machine_image_id  # lazy: numba kernels load on first use

    try:
        return machine_image_id(program)
    except UnsupportedProgram:
        return program.content_digest
