"""Build a C guest into an RV32IM ELF: ``build_guest(directory) -> BuildResult``.

A guest is a directory of C files (``*.c``, optionally ``*.S``; headers, and sources a top-level
file includes, there or in its subfolders). The build

1. stages the guest's files under ``<tmp>/guest/`` and the SDK (``pyzkvm.h``, ``start.S``,
   the runtime, SHA-256, heap, libc subset, linker scripts) under ``<tmp>/sdk/``;
2. runs one compiler command from ``<tmp>`` with relative paths, so the ELF holds no path of
   the machine that built it (same sources + same compiler = same bytes);
3. checks the result: an RV32IM executable without the RVC flag whose functions hold only
   32-bit instructions, and which ``Program.from_elf`` loads;
4. writes it atomically to the output path.

The ABI profile picks the runtime and the memory map (same pyzkvm.h API for both):

``sp1``    runtime.c + link.ld (text at 0x00201000; HINT_LEN/HINT_READ, WRITE, COMMIT, HALT)
``risc0``  runtime_risc0.c + link_risc0.ld, compiled with ``-DPYZKVM_ABI_RISC0`` (text at
           0x00200800; SOFTWARE SYS_READ/SYS_WRITE, HALT with RISC Zero's Output digest)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import FileReadError, ProgramError, PyzkvmError, ToolchainError, UsageError
from ..program import Program
from .toolchain import COMMON_FLAGS, Compiler, compiler_env, find_compiler

#: The SDK shipped inside the package (pyproject declares it as package data).
SDK_DIR = Path(__file__).resolve().parent / "sdk"

#: SDK sources compiled into every sp1-profile guest, in link order (start.S first: _start
#: is the first instruction of .text).
SDK_SOURCES = ("start.S", "runtime.c", "sha256.c", "alloc.c", "libc.c")


@dataclass(frozen=True)
class AbiFlavour:
    """What the SDK compiles for one ABI profile: its sources, linker script and defines."""

    sources: tuple[str, ...]
    linker_script: str
    defines: tuple[str, ...] = ()


#: The SDK per ABI profile (the executor's ``abi=`` names).
ABI_FLAVOURS = {
    "sp1": AbiFlavour(SDK_SOURCES, "link.ld"),
    "risc0": AbiFlavour(
        ("start.S", "runtime_risc0.c", "sha256.c", "alloc.c", "libc.c"), "link_risc0.ld", ("-DPYZKVM_ABI_RISC0=1",)
    ),
}
ABIS = tuple(ABI_FLAVOURS)

_SOURCE_SUFFIXES = (".c", ".S")
_HEADER_SUFFIXES = (".h",)
_COMPILE_TIMEOUT_S = 300


@dataclass(frozen=True)
class BuildResult:
    """What ``build_guest`` produced: where, with which compiler, and the ELF itself."""

    output: Path
    compiler: str
    elf: bytes
    program: Program
    abi: str = "sp1"


def guest_sources(directory: Path) -> list[Path]:
    """The guest's own source files (``*.c`` and ``*.S``), sorted by name for a stable order."""
    try:
        return sorted(p for p in directory.iterdir() if p.suffix in _SOURCE_SUFFIXES and p.is_file())
    except OSError as exc:
        raise _unreadable(exc, directory) from None


def guest_staged(directory: Path) -> list[Path]:
    """Every file staged for a build: the guest's sources and headers (``*.c``, ``*.S``,
    ``*.h``) in its folder and any folder below it, so that ``#include "inc/v.h"`` and
    ``#include "lib/util.c"`` find them; only the top-level sources are compiled (a subfolder may
    hold another program). Hidden folders (``.git``, ``.venv``) are not walked, nor linked ones.
    A folder that cannot be read is a FileReadError, not a traceback."""
    found = []

    def unreadable(exc: OSError) -> None:
        raise _unreadable(exc, directory)

    try:
        for folder, subfolders, files in os.walk(directory, onerror=unreadable):
            subfolders[:] = [d for d in subfolders if not d.startswith(".")]
            found += [p for p in (Path(folder) / f for f in files)
                      if p.suffix in _SOURCE_SUFFIXES + _HEADER_SUFFIXES and p.is_file()]
    except OSError as exc:  # (a file that cannot be looked at)
        raise _unreadable(exc, directory) from None
    return sorted(found)


def _unreadable(exc: OSError, where: Path) -> FileReadError:
    return FileReadError(f"{exc.filename or where}: cannot read the guest's files: {exc.strerror or exc} "
                         "(a build copies the .c, .S and .h files of the guest's folder and its subfolders)")


def build_guest(
    directory: str | Path,
    output: str | Path | None = None,
    compiler: str | Compiler | None = None,
    abi: str = "sp1",
) -> BuildResult:
    """Compile the guest in ``directory`` with the SDK for ABI profile ``abi`` (sp1 or risc0)
    into an RV32IM ELF at ``output`` (default ``./<directory name>.elf``) and return it,
    verified and loaded as a Program of that profile."""
    result = compile_guest(directory, output, compiler, abi)
    write_guest(result)
    return result


def write_guest(result: BuildResult) -> None:
    """Write a compiled guest's ELF to its output, atomically."""
    from ..fileio import write_atomically

    try:
        write_atomically(result.output, result.elf)
    except IsADirectoryError:  # (made a folder since compile_guest checked it)
        raise _a_folder(result.output) from None
    except OSError as exc:  # a read-only file system, no permission, a full disk: exit 1, not a usage error
        raise PyzkvmError(f"{result.output}: cannot write the ELF: {exc.strerror or exc}") from None


def _a_folder(output: Path) -> UsageError:
    return UsageError(f"{output}: is a directory: give the output ELF's file name with -o")


def compile_guest(
    directory: str | Path,
    output: str | Path | None = None,
    compiler: str | Compiler | None = None,
    abi: str = "sp1",
) -> BuildResult:
    """build_guest without writing the ELF (``write_guest`` does): for a build of several
    guests that writes none until all have built (guests.build_all)."""
    if abi not in ABI_FLAVOURS:
        raise UsageError(f"unknown ABI profile {abi!r}: use one of {', '.join(ABIS)}")
    from ..fileio import names_a_folder

    flavour = ABI_FLAVOURS[abi]
    directory = Path(directory)
    if not directory.exists():  # (a file that is not there: exit 1, as in every command)
        raise FileReadError(f"{directory}: no such directory: give the folder holding the guest's .c files")
    if not directory.is_dir():
        raise UsageError(f"{directory}: not a directory: give the folder holding the guest's .c files")
    sources = guest_sources(directory)
    if not any(p.suffix == ".c" for p in sources):
        raise UsageError(f"{directory}: no .c files to build")
    name = directory.resolve().name
    if names_a_folder(output):
        raise UsageError(f"{output}: names a directory: give the output ELF's file name with -o")
    output = Path(output) if output is not None else Path.cwd() / f"{name}.elf"
    if output.is_dir():
        raise _a_folder(output)
    if not output.parent.is_dir():
        why = "is not a directory" if output.parent.exists() else "does not exist (no such directory)"
        raise PyzkvmError(f"cannot write the ELF to {output}: {output.parent} {why}")
    staged = guest_staged(directory)
    if any(output.resolve() == p.resolve() for p in staged):  # (-o main.c, or a link to it, replaced the source)
        raise UsageError(f"{output}: is one of the guest's own source files: give the ELF another name with -o")
    cc = compiler if isinstance(compiler, Compiler) else find_compiler(compiler)

    with tempfile.TemporaryDirectory(prefix="pyzkvm-build-") as tmp:
        stage = Path(tmp)
        rel_sources = _stage(directory, sources, staged, stage, flavour, cc)
        elf = _compile(cc, stage, rel_sources, name, flavour)
    program = check_guest_elf(elf, name, abi)
    return BuildResult(output=output, compiler=cc.name, elf=elf, program=program, abi=abi)


def _stage(directory: Path, sources: list[Path], staged: list[Path], stage: Path, flavour: AbiFlavour,
           cc: Compiler) -> list[str]:
    """Copy the SDK to ``stage/sdk`` and the guest's ``staged`` files to ``stage/guest``; return
    the sources to compile as paths relative to ``stage`` (the SDK's for this profile and
    compiler first, then the guest's top-level ``sources``, sorted)."""
    (stage / "sdk").mkdir()
    (stage / "guest").mkdir()
    for path in sorted(SDK_DIR.iterdir()):
        if path.is_file():
            shutil.copyfile(path, stage / "sdk" / path.name)
    for path in staged:
        at = stage / "guest" / path.relative_to(directory)  # (a file in a subfolder keeps its path there)
        at.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(path, at)
        except OSError as exc:  # (an unreadable file: one line, not a traceback)
            raise _unreadable(exc, path) from None
    sdk = [f"sdk/{name}" for name in flavour.sources + cc.runtime]
    guest = [f"guest/{p.name}" for p in sources]
    return sdk + guest


def _compile(cc: Compiler, stage: Path, sources: list[str], name: str, flavour: AbiFlavour) -> bytes:
    out = "out.elf"
    args = [
        *cc.command,
        *cc.target_flags,
        *COMMON_FLAGS,
        f"-ffile-prefix-map={stage}=.",
        *flavour.defines,
        "-Isdk",
        "-Iguest",
        f"-Tsdk/{flavour.linker_script}",
        "-o",
        out,
        *sources,
        *cc.link_tail,
    ]
    try:
        proc = subprocess.run(
            args, cwd=stage, capture_output=True, text=True, timeout=_COMPILE_TIMEOUT_S, env=compiler_env()
        )
    except OSError as exc:
        raise ToolchainError(f"{cc.name}: cannot run the compiler {args[0]}: {exc.strerror}") from None
    except subprocess.TimeoutExpired:
        raise ToolchainError(f"{cc.name}: compiling {name} took longer than {_COMPILE_TIMEOUT_S} s; aborted") from None
    if proc.returncode != 0:
        output = (proc.stderr or proc.stdout).replace(str(stage) + "/", "").strip().splitlines()
        first = next((line for line in output if "error" in line), output[0] if output else "(no output)")
        error = ToolchainError(f"{cc.name} failed to build guest {name!r} (exit {proc.returncode}): {first.strip()[:300]}")
        error.details = output  # type: ignore[attr-defined]  # (the compiler's diagnostics, which `pyzkvm build` prints above the one-line error)
        raise error
    path = stage / out
    if not path.is_file():
        raise ToolchainError(f"{cc.name} reported success but wrote no ELF for guest {name!r}")
    return path.read_bytes()


def check_guest_elf(elf: bytes, name: str = "guest", abi: str = "sp1") -> Program:
    """Check that ``elf`` is a pyzkvm guest: it loads with Program.from_elf (which refuses
    the RVC flag and addresses outside guest memory), and every word of every function
    symbol is a 32-bit instruction (low two bits 0b11; compressed ones are not)."""
    try:
        program = Program.from_elf(elf, abi=abi)
    except ProgramError as exc:
        raise ToolchainError(f"the compiler produced an ELF pyzkvm cannot load: {exc}") from None
    program = Program(
        entry=program.entry, segments=program.segments, symbols=program.symbols, abi=program.abi, name=name
    )
    for sym in program.symbols:
        if sym.kind != "func" or sym.size == 0:
            continue
        code = np.frombuffer(program.read_bytes(sym.address, sym.size & ~3), dtype="<u4")
        bad = np.nonzero((code & 3) != 3)[0]
        if len(bad):
            addr = sym.address + 4 * int(bad[0])
            raise ToolchainError(
                f"{name}: 0x{addr:08x} in {sym.name} holds 0x{int(code[bad[0]]):08x}, not a 32-bit "
                "instruction: build the guest for rv32im without the C extension"
            )
    return program
