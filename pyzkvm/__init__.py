"""pyzkvm: a pure-Python reference zkVM for RISC-V RV32IM with pluggable provers.

    import pyzkvm
    program = pyzkvm.Program.from_elf("guests/bin/fibonacci.elf")
    receipt = pyzkvm.prove(program, [pyzkvm.inputs.u32(10)], backend="stark")
    pyzkvm.verify(receipt, program.image_id)
"""

__version__ = "0.1.0"

from .errors import PyzkvmError, VerificationError  # noqa: E402
from .program import Program  # noqa: E402

__all__ = ["__version__", "Program", "PyzkvmError", "VerificationError"]
