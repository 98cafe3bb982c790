"""The guest build tool behind ``pyzkvm build``: C guest + SDK -> RV32IM ELF.

    from pyzkvm.guests import build_guest
    result = build_guest("guests/fibonacci", "fib.elf")        # first compiler found
    result = build_guest("guests/fibonacci", "fib.elf", "gcc")  # or a named one
    result = build_guest("guests/fibonacci", "fib-r0.elf", abi="risc0")  # RISC Zero profile

The SDK (``pyzkvm.h``, start-up code, linker script, runtime) lives in ``pyzkvm/guests/sdk``
so a pip-installed pyzkvm can build guests; ``python -m pyzkvm.guests.build_all`` rebuilds the
prebuilt ELFs in ``guests/bin``.
"""

from .build import ABIS, SDK_DIR, BuildResult, build_guest, check_guest_elf
from .toolchain import COMPILERS, Compiler, available_compilers, find_compiler

__all__ = [
    "ABIS",
    "COMPILERS",
    "SDK_DIR",
    "BuildResult",
    "Compiler",
    "available_compilers",
    "build_guest",
    "check_guest_elf",
    "find_compiler",
]
