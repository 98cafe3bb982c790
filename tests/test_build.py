"""``pyzkvm build`` and the guest build tool: deterministic ELFs, typed errors, and rebuilt
guests that behave like the prebuilt ones in guests/bin (byte-identical with the compiler
version recorded in guests/bin/BUILD_INFO)."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import struct
from pathlib import Path

import pytest

from pyzkvm.cli import main as cli_main
from pyzkvm.errors import ToolchainError, UsageError
from pyzkvm.guests import available_compilers, build_guest, check_guest_elf, find_compiler
from pyzkvm.guests import build, toolchain
from pyzkvm.guests.build_all import build_all, guest_dirs
from pyzkvm.program import Program

try:  # tests/ is a package when it has __init__.py, a plain folder on sys.path otherwise
    from .test_guests_unicorn import BIN, claims, fib_reference, run_on_unicorn, u32
except ImportError:
    from test_guests_unicorn import BIN, claims, fib_reference, run_on_unicorn, u32

GUESTS_DIR = BIN.parent
COMPILERS = [c.name for c in available_compilers()]
needs_compiler = pytest.mark.skipif(
    not COMPILERS,
    reason="no RISC-V C compiler found: pip install 'pyzkvm[guests]' or apt-get install gcc-riscv64-unknown-elf",
)

#: Inputs that exercise each guest (success and failure paths).
SCENARIOS = {
    "fibonacci": [[u32(0)], [u32(93)], [u32(500)]],
    "sha256": [[b""], [bytes(range(200))]],
    "aggregator": [[u32(3), *claims(3)], [u32(1), b"short"]],
    "rv32im-selftest": [[]],
    "sort": [[struct.pack("<5I", 9, 0xFFFFFFFF, 0, 7, 7)], [b"\x01\x02\x03"]],
    "panic": [[]],
    # SP1 precompiles, which unicorn does not have: its journal is checked against ecdsa,
    # py-ecc, PyNaCl and hashlib in tests/test_sp1_precompiles.py (here: the bytes only)
    "precompiles": [],
    "ed25519-verify": [],  # the same: checked against PyNaCl in tests/test_sp1_precompiles.py
    "keccak256": [],  # KECCAK_PERMUTE: checked against a FIPS 202 reference in tests/machine/test_keccak_guest.py
    "isqrt-hint": [],  # an unconstrained block: tests/test_unicorn_diff.py models blocks on unicorn
}


def outcome(elf, inputs):
    r = run_on_unicorn(elf, inputs)
    return r.journal, r.exit_code, r.stdout, r.stderr, r.commit_digest


def build_info() -> dict[str, str]:
    info = {}
    for line in (BIN / "BUILD_INFO").read_text().splitlines():
        if line and not line.startswith("#"):
            key, sep, value = line.partition(": ")
            if sep:
                info[key] = value
            else:
                digest, _, name = line.partition("  ")
                info[name] = digest
    return info


def test_prebuilt_elfs_are_recorded_in_build_info():
    info = build_info()
    assert info["compiler"] in ("zig", "gcc", "clang") and info["version"]
    names = {d.name for d in guest_dirs(GUESTS_DIR)}
    assert names == set(SCENARIOS)
    for name in names:
        elf = (BIN / f"{name}.elf").read_bytes()
        assert hashlib.sha256(elf).hexdigest() == info[f"{name}.elf"], f"{name}.elf differs from BUILD_INFO"
        check_guest_elf(elf, name)


@needs_compiler
def test_pyzkvm_build_cli(tmp_path, capsys):
    out = tmp_path / "fib.elf"
    assert cli_main(["build", str(GUESTS_DIR / "fibonacci"), "-o", str(out)]) == 0
    assert f"built {out}" in capsys.readouterr().out
    elf = out.read_bytes()
    assert int.from_bytes(elf[36:40], "little") & 1 == 0  # e_flags: no RVC
    program = Program.from_elf(out)
    assert program.entry == 0x00201000
    assert all(0x20 <= s.vaddr and s.end <= 0x78000000 for s in program.segments)
    journal, code, *_ = outcome(elf, [u32(90)])
    assert (journal, code) == (u32(90) + struct.pack("<Q", fib_reference(90)), 0)


@needs_compiler
@pytest.mark.parametrize("compiler", COMPILERS)
def test_build_is_deterministic_and_path_independent(tmp_path, compiler):
    first = build_guest(GUESTS_DIR / "sha256", tmp_path / "a.elf", compiler).elf
    copy = tmp_path / "somewhere" / "else" / "sha256"
    shutil.copytree(GUESTS_DIR / "sha256", copy)
    second = build_guest(copy, tmp_path / "b.elf", compiler).elf
    assert first == second
    assert str(tmp_path).encode() not in first


@needs_compiler
@pytest.mark.parametrize("compiler", COMPILERS)
def test_rebuilt_guests_behave_like_the_prebuilt_ones(tmp_path, compiler):
    built = build_all(GUESTS_DIR, compiler, out_dir=tmp_path)
    assert sorted(p.name for p in built) == sorted(f"{n}.elf" for n in SCENARIOS)
    info = build_info()
    same_compiler = info["compiler"] == compiler and find_compiler(compiler).version() == info["version"]
    for name, cases in SCENARIOS.items():
        fresh = (tmp_path / f"{name}.elf").read_bytes()
        prebuilt = (BIN / f"{name}.elf").read_bytes()
        if same_compiler:
            assert fresh == prebuilt, f"{name}.elf: {compiler} {info['version']} rebuilt different bytes"
        for inputs in cases:
            assert outcome(fresh, inputs) == outcome(prebuilt, inputs), f"{name} on {inputs!r}"


def test_no_compiler_is_a_typed_error(monkeypatch, capsys, tmp_path):
    for name in toolchain.COMPILERS:  # as if neither ziglang nor any compiler on PATH existed
        monkeypatch.setitem(toolchain._FINDERS, name, lambda: None)
    with pytest.raises(ToolchainError) as err:
        find_compiler()
    assert str(err.value) == (
        "no RISC-V C compiler found: pip install 'pyzkvm[guests]' (ziglang) "
        "or apt-get install gcc-riscv64-unknown-elf"
    )
    assert cli_main(["build", str(GUESTS_DIR / "fibonacci"), "-o", str(tmp_path / "x.elf")]) == 1
    err_text = capsys.readouterr().err
    assert err_text.startswith("pyzkvm: error: no RISC-V C compiler found") and err_text.count("\n") == 1
    assert not (tmp_path / "x.elf").exists()


def test_unknown_or_missing_named_compiler(monkeypatch):
    with pytest.raises(UsageError, match="unknown compiler 'tcc'"):
        find_compiler("tcc")
    monkeypatch.setattr(toolchain.shutil, "which", lambda name: None)
    with pytest.raises(ToolchainError, match="compiler 'gcc' not found: apt-get install gcc-riscv64-unknown-elf"):
        find_compiler("gcc")


@needs_compiler
def test_compiler_errors_carry_the_compilers_stderr(tmp_path, capsys):
    src = tmp_path / "broken"
    src.mkdir()
    (src / "main.c").write_text('#include "pyzkvm.h"\nint main(void) { return undefined_name; }\n')
    out = tmp_path / "broken.elf"
    with pytest.raises(ToolchainError) as err:
        build_guest(src, out)
    message = str(err.value)
    assert message.startswith(f"{COMPILERS[0]} failed to build guest 'broken'") and "\n" not in message
    assert "undefined_name" in message and "guest/main.c" in message  # (its first error line)
    details = "\n".join(err.value.details)  # the compiler's whole diagnostics
    assert "undefined_name" in details and "tmp" not in details.replace(str(src), "")  # staging paths shortened
    assert not out.exists()
    assert cli_main(["build", str(src), "-o", str(out)]) == 1
    lines = capsys.readouterr().err.splitlines()  # the diagnostics as the compiler printed them, then one error line
    assert lines[-1].startswith("pyzkvm: error: ") and len(lines) > 2 and "undefined_name" in lines[0]


@needs_compiler
def test_the_output_may_not_be_one_of_the_guests_sources(tmp_path):
    src = tmp_path / "g"
    src.mkdir()
    (src / "main.c").write_text('#include "pyzkvm.h"\nint main(void) { return 0; }\n')
    (tmp_path / "link.elf").symlink_to(src / "main.c")
    for out in (src / "main.c", tmp_path / "link.elf"):
        with pytest.raises(UsageError, match="is one of the guest's own source files"):
            build_guest(src, out)
    assert (src / "main.c").read_text().startswith("#include")



@needs_compiler
def test_headers_in_subfolders_are_found_and_only_top_level_sources_compiled(tmp_path):
    """`#include "inc/answer.h"` finds the header below the guest's folder; a subfolder's own
    program (its main would clash, its source does not even compile) is left alone."""
    from pyzkvm import execute

    src = tmp_path / "nested"
    (src / "inc").mkdir(parents=True)
    (src / "other").mkdir()
    (src / "inc" / "answer.h").write_text("#define ANSWER 42\n")
    (src / "main.c").write_text('#include "pyzkvm.h"\n#include "inc/answer.h"\nint main(void) { return ANSWER; }\n')
    (src / "other" / "main.c").write_text("int main(void) { this is not C }\n")
    (src / ".venv" / "include").mkdir(parents=True)  # a hidden folder is not walked: its broken header is not staged
    (src / ".venv" / "include" / "Python.h").write_text("#error not the guest's\n")
    built = build_guest(src, tmp_path / "nested.elf")
    assert execute(built.program, []).exit_code == 42
    assert build.guest_staged(src) == [src / "inc" / "answer.h", src / "main.c", src / "other" / "main.c"]


@needs_compiler
def test_a_source_in_a_subfolder_may_be_included_but_is_not_compiled(tmp_path):
    # (docs/guests.md: `#include "lib/util.c"`; only headers were staged from subfolders: not found)
    from pyzkvm import execute

    src = tmp_path / "inc_c"
    (src / "lib").mkdir(parents=True)
    (src / "lib" / "util.c").write_text("static int util(void) { return 42; }\n")
    (src / "main.c").write_text('#include "pyzkvm.h"\n#include "lib/util.c"\nint main(void) { return util(); }\n')
    assert execute(build_guest(src, tmp_path / "inc_c.elf").program, []).exit_code == 42
    with pytest.raises(UsageError, match="one of the guest's own source files"):
        build_guest(src, src / "lib" / "util.c")


def test_an_unreadable_file_below_the_guest_is_a_one_line_error(tmp_path, monkeypatch):
    import pyzkvm.guests.build as build_mod
    from pyzkvm.errors import FileReadError

    src = tmp_path / "g"
    (src / "inc").mkdir(parents=True)
    (src / "inc" / "v.h").write_text("#define V 1\n")
    (src / "main.c").write_text('#include "pyzkvm.h"\nint main(void) { return 0; }\n')
    real = build_mod.shutil.copyfile

    def copyfile(a, b):
        if Path(a) == src / "inc" / "v.h":
            raise PermissionError(13, "Permission denied", str(a))
        return real(a, b)

    monkeypatch.setattr(build_mod.shutil, "copyfile", copyfile)
    monkeypatch.setattr(build_mod, "find_compiler", lambda name=None: build_mod.Compiler("fake", ("false",), ()))
    with pytest.raises(FileReadError, match=r"inc/v.h: cannot read the guest's files: Permission denied"):
        build_guest(src, tmp_path / "g.elf")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any folder")
def test_a_subfolder_that_cannot_be_searched_is_a_one_line_error(tmp_path):
    from pyzkvm.errors import FileReadError

    src = tmp_path / "g"
    (src / "locked").mkdir(parents=True)
    (src / "locked" / "v.h").write_text("#define V 1\n")
    (src / "main.c").write_text("int main(void) { return 0; }\n")
    (src / "locked").chmod(0o644)  # (listed, but its files cannot be looked at: stat fails)
    try:
        with pytest.raises(FileReadError, match="cannot read the guest's files"):
            build_guest(src, tmp_path / "g.elf")
    finally:
        (src / "locked").chmod(0o755)


#: a guest that divides 64-bit words: n pairs (a, b) in, a / b and a % b out, unsigned and signed
DIV64_GUEST = """#include "pyzkvm.h"
int main(void) {
    uint32_t n = pyzkvm_read_u32();
    for (uint32_t i = 0; i < n; i++) {
        uint64_t a = pyzkvm_read_u64(), b = pyzkvm_read_u64();
        pyzkvm_commit_u64(a / b);
        pyzkvm_commit_u64(a % b);
        pyzkvm_commit_u64((uint64_t)((int64_t)a / (int64_t)b));
        pyzkvm_commit_u64((uint64_t)((int64_t)a % (int64_t)b));
    }
    return 0;
}
"""


@needs_compiler
@pytest.mark.parametrize("compiler", COMPILERS)
def test_guests_divide_64_bit_words_as_c_does(tmp_path, compiler):
    """A 64-bit / or % is a runtime call on RV32IM: compiler-rt's (zig), libgcc's (gcc), or the
    SDK's div64.c (clang, which links no compiler runtime for riscv32: "undefined symbol:
    __udivdi3" before div64.c) — __udivdi3, __umoddi3, __divdi3 and __moddi3. Checked
    against C's rules computed here: truncation toward zero, the remainder with the dividend's
    sign, INT64_MIN / −1 wrapping; both words wide and narrow, divisors above the dividend, and
    300 random pairs of random widths."""
    from pyzkvm import execute
    from pyzkvm.inputs import u32, u64

    src = tmp_path / "div64"
    src.mkdir()
    (src / "main.c").write_text(DIV64_GUEST)
    program = build_guest(src, tmp_path / "div64.elf", compiler).program
    m = (1 << 64) - 1
    pairs = [(7, 2), (m, 1), (m, m), (m, 3), (1 << 63, m), (1 << 63, 1), (12345678901234567, 1 << 33), (5, 1 << 40),
             (m - 5, 7), ((1 << 64) - 7, 2), (0xDEADBEEFCAFEF00D, 0x12345), (0x8000000000000001, (1 << 64) - 3),
             (100, 7), (1 << 32, (1 << 32) + 1), (3 << 62, 3 << 31)]
    rng = random.Random(64)  # and words of every width against each other (either may be the longer)
    pairs += [(rng.getrandbits(rng.randint(1, 64)), rng.getrandbits(rng.randint(1, 64)) or 1) for _ in range(300)]
    run = execute(program, [u32(len(pairs))] + [w for a, b in pairs for w in (u64(a), u64(b))])
    assert run.exit_code == 0

    def signed(x):
        return x - (1 << 64) if x >> 63 else x

    want = b""
    for a, b in pairs:
        sa, sb = signed(a), signed(b)
        q = abs(sa) // abs(sb) * (1 if (sa < 0) == (sb < 0) else -1)  # toward zero
        want += b"".join(u64(v & m) for v in (a // b, a % b, q, sa - q * sb))
    assert run.journal == want

@pytest.mark.skipif("clang" not in COMPILERS, reason="clang and lld are not installed")
def test_a_clang_guests_own_udivdi3_is_used_not_a_duplicate_symbol(tmp_path):
    from pyzkvm import execute

    src = tmp_path / "own"
    src.mkdir()
    (src / "main.c").write_text('#include "pyzkvm.h"\nuint64_t __udivdi3(uint64_t n, uint64_t d) { (void)d; return n + 1; }\n'
                                "int main(void) { volatile uint64_t a = 10, b = 3; return (int)(a / b); }\n")
    assert execute(build_guest(src, tmp_path / "own.elf", "clang").program, []).exit_code == 11


def test_an_output_with_a_trailing_slash_names_a_folder_not_a_file(tmp_path, monkeypatch):
    # Path("elfdir/") is "elfdir": the ELF was written as a file of that name (checked before compiling)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="elfdir/: names a directory"):
        build_guest(GUESTS_DIR / "fibonacci", "elfdir/")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_guest_folder_or_output_folder_is_a_file_problem_exit_1(tmp_path, capsys):
    # (they were usage errors, exit 2, where prove's missing ELF or output folder is exit 1)
    assert cli_main(["build", str(tmp_path / "nope")]) == 1
    assert "nope: no such directory: give the folder holding the guest's .c files" in capsys.readouterr().err
    assert cli_main(["build", str(GUESTS_DIR / "fibonacci"), "-o", str(tmp_path / "no" / "x.elf")]) == 1
    assert "does not exist (no such directory)" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "a-file").write_text("")
    assert cli_main(["build", str(GUESTS_DIR / "fibonacci"), "-o", str(tmp_path / "a-file" / "x.elf")]) == 1
    assert "a-file is not a directory" in capsys.readouterr().err


@needs_compiler
def test_an_output_that_cannot_be_written_is_exit_1_not_a_usage_error(tmp_path, capsys, monkeypatch):
    """A read-only file system (or no permission, a full disk) is a file not written: exit 1, as
    prove's receipt; it was a usage error (exit 2). Simulated: this suite may run as root, which
    a folder's mode does not stop."""
    import errno

    from pyzkvm import fileio

    def read_only(path, data, overwrite=True):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(fileio, "write_atomically", read_only)
    assert cli_main(["build", str(GUESTS_DIR / "fibonacci"), "-o", str(tmp_path / "f.elf")]) == 1
    err = capsys.readouterr().err
    assert "f.elf: cannot write the ELF: Read-only file system" in err and err.count("\n") == 1


@needs_compiler
def test_build_all_writes_nothing_when_a_guest_fails(tmp_path):
    # one guest replaced beside the old BUILD_INFO disagreed with it (a review, session 27)
    guests = tmp_path / "guests"
    for name, body in (("a", "return 0;"), ("b", "return 1;")):
        (guests / name).mkdir(parents=True)
        (guests / name / "main.c").write_text(f'#include "pyzkvm.h"\nint main(void) {{ {body} }}\n')
    out = tmp_path / "bin"
    out.mkdir()
    build_all(guests, out_dir=out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (guests / "a" / "main.c").write_text('#include "pyzkvm.h"\nint main(void) { return 2; }\n')
    (guests / "b" / "main.c").write_text("int main(void) { return nope; }\n")
    with pytest.raises(ToolchainError, match="failed to build guest 'b'"):
        build_all(guests, out_dir=out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_bad_arguments_are_usage_errors(tmp_path, capsys):
    (tmp_path / "a-file").write_text("")
    with pytest.raises(UsageError, match="not a directory"):
        build_guest(tmp_path / "a-file")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UsageError, match="no .c files"):
        build_guest(empty)
    assert cli_main(["build"]) == 2
    assert cli_main(["build", "--all", str(empty)]) == 2
    err = capsys.readouterr().err
    assert "pyzkvm: error: build needs a guest folder" in err


def test_check_guest_elf_refuses_compressed_code():
    elf = bytearray((BIN / "fibonacci.elf").read_bytes())
    check_guest_elf(bytes(elf), "fibonacci")
    flagged = bytearray(elf)
    flagged[36] |= 1  # EF_RISCV_RVC
    with pytest.raises(ToolchainError, match="compressed"):
        check_guest_elf(bytes(flagged), "fibonacci")
    # a 16-bit instruction (low bits != 0b11) inside main: c.nop = 0x0001
    program = Program.from_elf(bytes(elf))
    main = program.find_symbol("main")
    seg = next(s for s in program.segments if s.vaddr <= main.address < s.end)
    offset = _file_offset(bytes(elf), seg.vaddr) + (main.address - seg.vaddr)
    elf[offset : offset + 4] = struct.pack("<HH", 0x0001, 0x0001)
    with pytest.raises(ToolchainError, match="not a 32-bit instruction"):
        check_guest_elf(bytes(elf), "fibonacci")


def _file_offset(elf: bytes, vaddr: int) -> int:
    phoff, = struct.unpack_from("<I", elf, 28)
    phentsize, phnum = struct.unpack_from("<HH", elf, 42)
    for i in range(phnum):
        p_type, p_offset, p_vaddr = struct.unpack_from("<III", elf, phoff + i * phentsize)
        if p_type == 1 and p_vaddr == vaddr:
            return p_offset
    raise AssertionError(f"no PT_LOAD at 0x{vaddr:x}")


def test_sdk_ships_inside_the_package():
    from pyzkvm.guests import SDK_DIR
    from pyzkvm.guests.build import SDK_SOURCES

    for name in (*SDK_SOURCES, "pyzkvm.h", "link.ld"):
        assert (SDK_DIR / name).is_file(), name
    assert Path(SDK_DIR).parent.name == "guests" and Path(SDK_DIR).parents[1].name == "pyzkvm"


# ---- the RISC Zero ABI profile (--abi risc0 -> guests/bin/risc0) ---------------------------

RISC0_BIN = BIN / "risc0"

#: Inputs for the risc0-profile guests, as RISC Zero serde words (pyzkvm/inputs.py).
RISC0_SCENARIOS = {
    "fibonacci": [[u32(0)], [u32(500)]],
    "sha256": [[struct.pack("<I", 0)], [struct.pack("<I", 200) + bytes(range(200))]],
    "rv32im-selftest": [[]],
    "sort": [[struct.pack("<6I", 20, 9, 0xFFFFFFFF, 0, 7, 7)], [struct.pack("<I", 3) + b"\x01\x02\x03\x00"]],
    "panic": [[]],
}


def risc0_outcome(elf: bytes, inputs):
    from pyzkvm.executor import execute

    r = execute(Program.from_elf(elf, abi="risc0"), [bytes(x) for x in inputs])
    return r.journal, r.exit_code, r.stdout, r.stderr, r.output_digest, r.output_digest_matches


def risc0_build_info() -> dict[str, str]:
    info = {}
    for line in (RISC0_BIN / "BUILD_INFO").read_text().splitlines():
        if line and not line.startswith("#"):
            key, sep, value = line.partition(": ")
            if sep:
                info[key] = value
            else:
                digest, _, name = line.partition("  ")
                info[name] = digest
    return info


@needs_compiler
@pytest.mark.parametrize("compiler", COMPILERS)
def test_rebuilt_risc0_guests_behave_like_the_prebuilt_ones(tmp_path, compiler):
    built = build_all(GUESTS_DIR, compiler, out_dir=tmp_path, abi="risc0")
    assert sorted(p.name for p in built) == sorted(f"{n}.elf" for n in RISC0_SCENARIOS)  # no aggregator
    info = risc0_build_info()
    assert info["abi"] == "risc0"
    same_compiler = info["compiler"] == compiler and find_compiler(compiler).version() == info["version"]
    for name, cases in RISC0_SCENARIOS.items():
        fresh = (tmp_path / f"{name}.elf").read_bytes()
        prebuilt = (RISC0_BIN / f"{name}.elf").read_bytes()
        assert hashlib.sha256(prebuilt).hexdigest() == info[f"{name}.elf"]
        if same_compiler:
            assert fresh == prebuilt, f"risc0/{name}.elf: {compiler} {info['version']} rebuilt different bytes"
        for inputs in cases:
            got = risc0_outcome(fresh, inputs)
            assert got == risc0_outcome(prebuilt, inputs), f"{name} on {inputs!r}"
            assert got[5] is True  # the guest's HALT digest is RISC Zero's Output digest


def test_canonical_risc0_build_is_zig():
    # the byte-for-byte check above runs for the compiler recorded here
    from pyzkvm.guests.build_all import CANONICAL_COMPILER

    info = risc0_build_info()
    assert info["compiler"] == CANONICAL_COMPILER and info["version"] == build_info()["version"]


@needs_compiler
def test_pyzkvm_build_cli_abi_risc0(tmp_path, capsys):
    out = tmp_path / "fib.elf"
    assert cli_main(["build", str(GUESTS_DIR / "fibonacci"), "-o", str(out), "--abi", "risc0"]) == 0
    assert f"built {out} (risc0 profile)" in capsys.readouterr().out
    program = Program.from_elf(out, abi="risc0")
    assert program.entry == 0x00200800  # RISC Zero's TEXT_START
    journal, code, *_, matches = risc0_outcome(out.read_bytes(), [u32(90)])
    assert (journal, code, matches) == (u32(90) + struct.pack("<Q", fib_reference(90)), 0, True)


@needs_compiler
def test_risc0_profile_has_no_sp1_verify(tmp_path):
    # the aggregator calls pyzkvm_verify (VERIFY_SP1_PROOF): not part of the risc0 SDK
    with pytest.raises(ToolchainError, match="pyzkvm_verify"):
        build_guest(GUESTS_DIR / "aggregator", tmp_path / "agg.elf", abi="risc0")


def test_unknown_abi_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(UsageError, match="unknown ABI profile 'jolt'"):
        build_guest(GUESTS_DIR / "fibonacci", tmp_path / "x.elf", abi="jolt")
    with pytest.raises(UsageError, match="unknown ABI profile 'jolt'"):
        build_all(GUESTS_DIR, out_dir=tmp_path, abi="jolt")
    assert cli_main(["build", str(GUESTS_DIR / "fibonacci"), "--abi", "jolt"]) == 2  # one line, not argparse's usage block
    (line,) = capsys.readouterr().err.splitlines()
    assert "invalid choice: 'jolt'" in line and line.endswith("(see 'pyzkvm build --help')")


def test_risc0_sdk_ships_inside_the_package():
    from pyzkvm.guests import SDK_DIR
    from pyzkvm.guests.build import ABI_FLAVOURS

    for flavour in ABI_FLAVOURS.values():
        for name in (*flavour.sources, flavour.linker_script):
            assert (SDK_DIR / name).is_file(), name


_SDK_INPUT_GUEST = r"""
#include "pyzkvm.h"
/* every input call of the SDK once: u64, u32, input_len, read_into (unaligned), read_bytes */
int main(void) {
    uint8_t buf[16];
    uint64_t a = pyzkvm_read_u64();
    uint32_t b = pyzkvm_read_u32();
    uint32_t peek = pyzkvm_input_len();
    uint32_t n = pyzkvm_read_into(buf + 1, sizeof buf - 1);
    uint32_t m;
    uint8_t *rest = pyzkvm_read_bytes(&m);
    pyzkvm_commit_u64(a);
    pyzkvm_commit_u32(b);
    pyzkvm_commit_u32(peek);
    pyzkvm_commit(buf + 1, n);
    pyzkvm_commit(rest, m);
    pyzkvm_commit_u32(pyzkvm_input_len()); /* PYZKVM_NO_INPUT: the stream is used up */
    return 0;
}
"""


@needs_compiler
def test_every_sdk_input_call_reads_the_same_values_under_both_profiles(tmp_path):
    from pyzkvm import inputs as enc
    from pyzkvm.executor import execute

    src = tmp_path / "inputs"
    src.mkdir()
    (src / "main.c").write_text(_SDK_INPUT_GUEST)
    a, b, s1, s2 = 0x0123456789ABCDEF, 0xDEADBEEF, b"hello", b"0123456789"
    sp1 = build_guest(src, tmp_path / "sp1.elf", abi="sp1").program
    r0 = build_guest(src, tmp_path / "r0.elf", abi="risc0").program
    run_sp1 = execute(sp1, [enc.u64(a), enc.u32(b), s1, s2])
    run_r0 = execute(r0, [enc.risc0_u64(a), enc.risc0_u32(b), enc.risc0_bytes(s1), enc.risc0_bytes(s2)])
    expected = struct.pack("<QII", a, b, len(s1)) + s1 + s2 + struct.pack("<I", 0xFFFFFFFF)
    assert run_sp1.exit_code == 0 and run_sp1.journal == expected
    assert run_r0.exit_code == 0 and run_r0.journal == expected, run_r0.stderr
    assert run_r0.output_digest_matches is True


def test_build_all_outside_a_checkout_fails_clearly_and_writes_nothing(tmp_path, monkeypatch, capsys):
    """build --all resolves guests/ against the working directory (never the installed package)."""
    monkeypatch.chdir(tmp_path)
    assert cli_main(["build", "--all"]) == 2
    assert "no guests directory here" in capsys.readouterr().err
    (tmp_path / "guests").mkdir()
    assert cli_main(["build", "--all"]) == 2
    assert "no guest folders" in capsys.readouterr().err
    assert [p.name for p in tmp_path.rglob("*")] == ["guests"]


_HEAP_EDGE_GUEST = r"""
#include "pyzkvm.h"
extern char __pyzkvm_heap_limit[];
int main(void) {
    uint32_t short_of_limit = pyzkvm_read_u32(); /* first: its fresh block, freed, moves heap_next */
    char *probe = malloc(8);   /* the next block's address; freed, so the next malloc starts there */
    free(probe);
    /* one block up to the heap limit less the input's bytes: the bump pointer ends at (or, rounded
       up, exactly on) the limit for 0..7, 8 bytes below it for 8, 16 for 16 */
    char *a = malloc((uintptr_t)__pyzkvm_heap_limit - (uintptr_t)probe - short_of_limit);
    char *b = malloc(1);       /* must not be past the limit */
    pyzkvm_commit_u32((uint32_t)(uintptr_t)b);
    return a == 0;
}
"""


@needs_compiler
@pytest.mark.parametrize("abi, limit", [("sp1", 0x78000000), ("risc0", 0x0C000000)])
def test_malloc_refuses_a_block_past_the_heap_limit(tmp_path, abi, limit):
    """A heap filled to its limit (the bump pointer on it, or rounded up onto it) refuses the next
    malloc with the SDK's out-of-memory panic: the block's address was then past the limit, and
    limit - block wrapped to a huge size that every request passed."""
    from pyzkvm import inputs as enc
    from pyzkvm.executor import execute

    src = tmp_path / "heap"
    src.mkdir()
    (src / "main.c").write_text(_HEAP_EDGE_GUEST)
    program = build_guest(src, tmp_path / "heap.elf", abi=abi).program
    word = enc.u32 if abi == "sp1" else enc.risc0_u32
    for short in (0, 3, 7, 8):
        run = execute(program, [word(short)])
        assert run.exit_code == 1 and b"malloc: out of guest memory" in run.stderr, (short, run.stderr)
        assert f"0x{limit:08X}".encode() in run.stderr
    run = execute(program, [word(16)])  # room for one more small block, just below the limit
    assert run.exit_code == 0 and run.journal == struct.pack("<I", limit - 8)


@needs_compiler
def test_an_input_length_past_guest_memory_is_refused(tmp_path):
    """RISC Zero's profile reads a byte string's length from the input stream: a length past
    0xFFFFFFFC rounded up to 0 words, so the guest got a 4-byte buffer standing for 4 GB and the
    stream out of step; it is refused instead."""
    from pyzkvm import inputs as enc
    from pyzkvm.executor import execute

    src = tmp_path / "long"
    src.mkdir()
    (src / "main.c").write_text('#include "pyzkvm.h"\n'
                                'int main(void) { uint32_t n; pyzkvm_read_bytes(&n); pyzkvm_commit_u32(n); return 0; }\n')
    program = build_guest(src, tmp_path / "long.elf", abi="risc0").program
    for length in (0xFFFFFFFD, 0xFFFFFFFF):
        run = execute(program, [enc.risc0_u32(length)])
        assert run.exit_code == 1 and b"input element longer than guest memory" in run.stderr
    run = execute(program, [enc.risc0_bytes(b"abcde")])
    assert run.exit_code == 0 and run.journal == struct.pack("<I", 5)
