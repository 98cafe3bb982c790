"""pyzkvm: a pure-Python reference zkVM for RISC-V RV32IM with pluggable provers.

    import pyzkvm
    program = pyzkvm.Program.from_elf("guests/bin/fibonacci.elf")
    receipt = pyzkvm.prove(program, [pyzkvm.inputs.u32(10)], backend="stark")
    pyzkvm.verify(receipt, program.image_id)
"""

__version__ = "0.1.0"

from . import _numba_cache  # noqa: E402  (before any numba kernel module: chooses the cache folder)

_numba_cache.configure()

from .errors import PyzkvmError, VerificationError  # noqa: E402
from .program import Program, use_image_id  # noqa: E402
from .receipt import Claim, Receipt  # noqa: E402
from .backends import get_backend, list_backends  # noqa: E402
from .api import Verified, prove, verify, verify_report  # noqa: E402
from .backends.image_id import program_image_id  # noqa: E402

use_image_id(program_image_id)  # Program.image_id, computed in the backend layer (arrows point down)

__all__ = [
    "__version__", "Program", "PyzkvmError", "VerificationError",
    "Claim", "Receipt", "get_backend", "list_backends", "prove", "verify", "verify_report", "Verified", "execute", "inputs",
]  # fmt: skip


def __getattr__(name):
    # Imported on first use: the executor (numba) and the input encoders are not needed to
    # read or verify a receipt.
    if name == "inputs":
        import importlib

        return importlib.import_module(".inputs", __name__)
    if name == "execute":
        from .api import execute

        return execute
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
