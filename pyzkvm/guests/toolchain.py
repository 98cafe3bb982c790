"""Finding a RISC-V C compiler and the flags that make it emit pyzkvm guests.

Three compilers can build a guest, tried in this order:

``zig``    ``python -m ziglang cc`` from the ``guests`` extra (``pip install 'pyzkvm[guests]'``):
           ``-target riscv32-freestanding-none -mcpu=generic_rv32+m -mabi=ilp32``. The
           ``generic_rv32`` CPU has no extensions, ``+m`` adds multiply/divide, and no ``+c``
           means no compressed instructions. A freestanding target links no libc, only zig's
           compiler_rt (64-bit division helpers), so ``-nostdlib`` is not passed.
``gcc``    ``riscv64-unknown-elf-gcc -march=rv32im -mabi=ilp32`` (Debian's
           gcc-riscv64-unknown-elf has the rv32im/ilp32 multilib); ``-nostdlib`` plus ``-lgcc``
           for the 64-bit division helpers.
``clang``  ``clang --target=riscv32-unknown-elf -march=rv32im -mabi=ilp32 -fuse-ld=lld``.

Every compiler also gets the flags that make the output deterministic and freestanding:
``-O2 -g0 -ffreestanding``, no build-id, sources given by relative paths from a staging
directory plus ``-ffile-prefix-map`` so no absolute path reaches the ELF.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from ..errors import ToolchainError, UsageError

COMPILERS = ("zig", "gcc", "clang")

NO_COMPILER_MESSAGE = (
    "no RISC-V C compiler found: pip install 'pyzkvm[guests]' (ziglang) "
    "or apt-get install gcc-riscv64-unknown-elf"
)

#: Flags every compiler gets: optimised, no debug info, freestanding, no strict-aliasing
#: surprises in the SDK's word-at-a-time memcpy, unused functions dropped at link time.
COMMON_FLAGS = (
    "-O2",
    "-g0",
    "-ffreestanding",
    "-fno-strict-aliasing",
    "-fomit-frame-pointer",
    "-ffunction-sections",
    "-fdata-sections",
    "-static",
    "-Wall",
    "-Wl,--gc-sections",
    "-Wl,--build-id=none",
)


@dataclass(frozen=True)
class Compiler:
    """A RISC-V C compiler found on this machine: how to call it and what it is."""

    name: str                  # "zig", "gcc" or "clang"
    command: tuple[str, ...]   # the driver, e.g. (python, "-m", "ziglang", "cc")
    target_flags: tuple[str, ...]
    link_tail: tuple[str, ...] = ()  # libraries after the sources (gcc: -lgcc)
    runtime: tuple[str, ...] = ()    # SDK files standing in for a runtime library it lacks (clang: div64.c)

    def version(self) -> str:
        """The compiler's self-reported version, one line (recorded in guests/bin/BUILD_INFO)."""
        if self.name == "zig":
            args = list(self.command[:-1]) + ["version"]  # python -m ziglang version
            prefix = "zig "
        else:
            args = list(self.command) + ["--version"]
            prefix = ""
        try:
            out = subprocess.run(args, capture_output=True, text=True, timeout=60, env=compiler_env())
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ToolchainError(f"{self.name}: cannot run {' '.join(args)}: {exc}") from None
        first = (out.stdout or out.stderr).strip().splitlines()
        return prefix + (first[0].strip() if first else "unknown version")


def compiler_env() -> dict[str, str]:
    """The environment for compiler runs: the caller's, with a stable locale (messages) and
    SOURCE_DATE_EPOCH pinned so nothing time-dependent can enter the output."""
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    env["SOURCE_DATE_EPOCH"] = "0"
    if "ZIG_GLOBAL_CACHE_DIR" not in env:
        home = env.get("HOME", "")
        if not home or not os.access(home, os.W_OK):  # zig caches under ~/.cache/zig by default
            env["ZIG_GLOBAL_CACHE_DIR"] = os.path.join(tempfile.gettempdir(), "pyzkvm-zig-cache")
    return env


def _zig() -> Compiler | None:
    if importlib.util.find_spec("ziglang") is None:
        return None
    return Compiler(
        "zig",
        (sys.executable, "-m", "ziglang", "cc"),
        ("-target", "riscv32-freestanding-none", "-mcpu=generic_rv32+m", "-mabi=ilp32"),
    )


def _gcc() -> Compiler | None:
    path = shutil.which("riscv64-unknown-elf-gcc") or shutil.which("riscv32-unknown-elf-gcc")
    if path is None:
        return None
    return Compiler(
        "gcc",
        (path,),
        ("-march=rv32im", "-mabi=ilp32", "-mcmodel=medlow", "-nostdlib", "-fno-ident"),
        ("-lgcc",),
    )


def _clang() -> Compiler | None:
    path = shutil.which("clang")
    if path is None or shutil.which("ld.lld") is None:
        return None
    return Compiler(
        "clang",
        (path,),
        ("--target=riscv32-unknown-elf", "-march=rv32im", "-mabi=ilp32", "-fuse-ld=lld", "-nostdlib"),
        runtime=("div64.c",),  # (no riscv32 compiler-rt: a 64-bit / or % calls __udivdi3 & co.)
    )


_FINDERS = {"zig": _zig, "gcc": _gcc, "clang": _clang}


def available_compilers() -> list[Compiler]:
    """Every RISC-V C compiler found here, in preference order (zig, gcc, clang)."""
    return [c for c in (_FINDERS[name]() for name in COMPILERS) if c is not None]


def find_compiler(name: str | None = None) -> Compiler:
    """The compiler called ``name``, or the first one found when ``name`` is None.

    Raises UsageError for an unknown name and ToolchainError when it is not installed.
    """
    if name is None:
        found = available_compilers()
        if not found:
            raise ToolchainError(NO_COMPILER_MESSAGE)
        return found[0]
    if name not in _FINDERS:
        raise UsageError(f"unknown compiler {name!r}: use one of {', '.join(COMPILERS)}")
    compiler = _FINDERS[name]()
    if compiler is None:
        how = {
            "zig": "pip install 'pyzkvm[guests]' (ziglang)",
            "gcc": "apt-get install gcc-riscv64-unknown-elf",
            "clang": "install clang and lld",
        }[name]
        raise ToolchainError(f"compiler {name!r} not found: {how}")
    return compiler
