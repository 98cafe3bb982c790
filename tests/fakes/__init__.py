"""Fake external tools for the adapter tests: no RISC Zero or SP1 toolchain is installed here.

Each fake (r0vm.py, risc0_helper.py, sp1_runner.py in this folder) follows the command lines
and output formats the adapters document (docs/crosscheck.md) and runs pyzkvm's own executor
to produce the journal, so a successful cross-check compares two real runs of the guest.
``install_fake`` copies one into a test's tmp_path as an executable with a shebang of this
interpreter. A fake's behaviour is chosen by environment variables (inherited by the tool):

    FAKE_R0VM_MODE / FAKE_SP1_MODE = ok | crash | hang | garbage | old | tamper
    FAKE_RISC0_HELPER_MODE         = ok | garbage

``tamper`` makes the tool report a journal with one extra byte (a disagreeing zkVM).
"""

from __future__ import annotations

import os
import stat
import struct
import sys
from pathlib import Path

from tests.command_env import with_run_memo

HERE = Path(__file__).parent


def install_fake(directory: Path, template: str, name: str) -> Path:
    """Write tests/fakes/<template>.py to directory/name as an executable script."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / name
    body = (HERE / f"{template}.py").read_text()
    target.write_text(f"#!{sys.executable}\n" + body)
    target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return target


# ---- tiny hand-assembled guests (independent of the guest SDK being built elsewhere) ------

TEXT, DATA = 0x00201000, 0x00202000
A0, A1, A2, A3, A4, A5, T0, T6 = 10, 11, 12, 13, 14, 15, 5, 31


def _addi(rd: int, rs1: int, imm: int) -> int:
    return ((imm & 0xFFF) << 20) | (rs1 << 15) | (0 << 12) | (rd << 7) | 0x13


def _lui(rd: int, imm20: int) -> int:
    return ((imm20 & 0xFFFFF) << 12) | (rd << 7) | 0x37


ECALL = 0x00000073


def _li_data(rd: int, offset: int) -> list[int]:
    """rd = DATA + offset (DATA is 4 KiB aligned, offset < 2048)."""
    return [_lui(rd, DATA >> 12), _addi(rd, rd, offset)]


def echo_guest_sp1(exit_code: int = 0) -> bytes:
    """sp1 profile: read one 4-byte input element (HINT_LEN, HINT_READ), write it to the journal
    (WRITE fd 3), halt with ``exit_code``. Returns the ELF bytes."""
    code = [
        _addi(T0, 0, 0xF0), ECALL,                                 # HINT_LEN -> t0
        *_li_data(A0, 0), _addi(A1, 0, 4), _addi(T0, 0, 0xF1), ECALL,  # HINT_READ 4 bytes to DATA
        _addi(A0, 0, 3), *_li_data(A1, 0), _addi(A2, 0, 4), _addi(T0, 0, 2), ECALL,  # WRITE fd 3
        _addi(A0, 0, exit_code), _addi(T0, 0, 0), ECALL,           # HALT
    ]  # fmt: skip
    return _elf(code)


def echo_guest_risc0(exit_code: int = 0, halt_type: int = 0) -> bytes:
    """risc0 profile: SYS_READ 4 bytes from fd 0, SYS_WRITE them to the journal (fd 3), HALT
    (``halt_type``: 0 terminate, 1 pause; ``exit_code``). The syscall name pointer a2 points at an empty string, so the
    executor uses t6 (READ 12, WRITE 16)."""
    code = [
        *_li_data(A0, 0), _addi(A1, 0, 1), *_li_data(A2, 64), _addi(A3, 0, 0), _addi(A4, 0, 4),
        _addi(T6, 0, 12), _addi(T0, 0, 2), ECALL,                  # SYS_READ 4 bytes -> DATA
        _addi(A0, 0, 0), _addi(A1, 0, 0), *_li_data(A2, 64), _addi(A3, 0, 3), *_li_data(A4, 0),
        _addi(A5, 0, 4), _addi(T6, 0, 16), _addi(T0, 0, 2), ECALL,  # SYS_WRITE fd 3
        _addi(A0, 0, exit_code << 8 | halt_type), *_li_data(A1, 128), _addi(T0, 0, 0), ECALL,  # HALT
    ]  # fmt: skip
    return _elf(code)


def _elf(code: list[int]) -> bytes:
    """An ELF32 RISC-V executable: text at TEXT (r-x), 256 zero bytes of data at DATA (rw-),
    written field by field here (independent of pyzkvm's own ELF writer)."""
    text = struct.pack(f"<{len(code)}I", *code)
    data = bytes(256)
    ehsize, phsize = 52, 32
    text_off = ehsize + 2 * phsize
    data_off = text_off + len(text)
    ident = b"\x7fELF\x01\x01\x01" + bytes(9)
    header = ident + struct.pack("<HHIIIIIHHHHHH", 2, 243, 1, TEXT, ehsize, 0, 0, ehsize, phsize, 2, 40, 0, 0)
    ph_text = struct.pack("<8I", 1, text_off, TEXT, TEXT, len(text), len(text), 5, 4)
    ph_data = struct.pack("<8I", 1, data_off, DATA, DATA, len(data), len(data), 6, 4)
    return header + ph_text + ph_data + text + data


def fake_env(bin_dir: Path, **modes: str) -> dict:
    """Environment for a subprocess that should find only the fakes in ``bin_dir``."""
    env = with_run_memo(dict(os.environ))
    env["PATH"] = f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin"
    for key in ("RISC0_R0VM", "PYZKVM_RISC0_HELPER", "PYZKVM_SP1_RUNNER", "PYZKVM_DEV_MODE", "PYZKVM_TOOL_TIMEOUT"):
        env.pop(key, None)
    env.update(modes)
    return env
