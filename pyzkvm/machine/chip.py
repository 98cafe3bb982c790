"""A machine chip: an AIR (its columns and constraints) that also builds its own main trace.

    class MyAir(Chip):
        name, width = "my chip", MY.width
        def constraints(self, b): ...        # what the rows must satisfy, what they send/receive
        def generate(self, w): ...           # the rows, from w (witness.Witness): the execution's
                                             # events and what the other chips send this one

A chip is one module and one line in the registration list (tables.CHIPS); docs/machine.md
"Adding a chip". A chip most programs never use sets ``optional = True`` (stark/optional.py:
its empty table is left out of the proof; setup refuses the flag unless an all-zero table of
the chip satisfies every constraint and puts nothing on a bus). Nothing else keeps a copy of what a chip sends: the byte-table multiplicities
and the rows of the chips that receive from it are derived from its constraints (witness.py).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..stark.air import Air


class Chip(Air):
    #: the one shared instance of each class (for_program), set in the class's own __dict__ on first use
    _shared: ClassVar[Chip]

    def generate(self, w) -> np.ndarray:
        """This chip's main trace for one segment: (height, width) integers, height a power of two."""
        raise NotImplementedError(f"chip {self.name!r} has no generate(w)")

    def stored_compiled(self, max_degree: int):
        """The chip's compiled AIR from the machine's stored prover key (prover_key.py; None
        when the memo is off or this class's constraints are not the registered chip's)."""
        from .prover_key import stored_for

        return stored_for(self, max_degree)

    @classmethod
    def for_program(cls, program, image) -> "Chip":
        """The chip for one program (ProgramTable, ImageTable; both None for the verifier's
        program-independent AIRs). Most chips do not depend on the program: one shared instance
        per class (a subclass gets its own), so that the compiled AIR and tapes cached on it
        (stark/keys.compile_for) are built once per process, not for every build_chips, image ID
        and setup. Chips built from the program (program and image tables) override this. The
        instance is shared: give a variant its own subclass rather than setting attributes on it."""
        shared = cls.__dict__.get("_shared")
        if shared is None:
            shared = cls._shared = cls()
        return shared
