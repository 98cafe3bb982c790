"""The prebuilt guests (guests/bin/*.elf) on pyzkvm's executor: exact journals against
independent references (Python big integers, hashlib, sorted()), the COMMIT digest, exit codes
and stderr, per-mnemonic coverage of RV32IM, and cycle counts against unicorn.
"""

from __future__ import annotations

import hashlib
import struct

import pytest

from pyzkvm.program import Program

try:  # tests/ is a package when it has __init__.py, a plain folder on sys.path otherwise
    from .test_guests_selftest import expected_journal, first_mismatch
    from .test_guests_unicorn import BIN, SHA_MESSAGES, claims, fib_reference, run_on_unicorn, u32
except ImportError:
    from test_guests_selftest import expected_journal, first_mismatch
    from test_guests_unicorn import BIN, SHA_MESSAGES, claims, fib_reference, run_on_unicorn, u32

execute = pytest.importorskip("pyzkvm.executor").execute

#: Every RV32IM instruction by its spec mnemonic (RV32I base: 40, M extension: 8).
RV32I = (
    "lui auipc jal jalr beq bne blt bge bltu bgeu lb lh lw lbu lhu sb sh sw "
    "addi slti sltiu xori ori andi slli srli srai add sub sll slt sltu xor srl sra or and "
    "fence ecall ebreak"
).split()
RV32M = "mul mulh mulhsu mulhu div divu rem remu".split()
GUESTS = ("fibonacci", "sha256", "aggregator", "rv32im-selftest", "sort", "panic")


def run(name: str, inputs=()):
    return execute(Program.from_elf(BIN / f"{name}.elf"), [bytes(x) for x in inputs])


@pytest.mark.parametrize("n", [0, 1, 2, 93, 94, 100, 1000])
def test_fibonacci_journal(n):
    ex = run("fibonacci", [u32(n)])
    assert ex.exit_code == 0
    assert ex.journal == u32(n) + struct.pack("<Q", fib_reference(n))
    assert ex.commit_matches is True


def test_fibonacci_wraps_mod_2_64():
    # F(93) is the last Fibonacci number below 2^64; F(94) wraps
    assert fib_reference(93) == 12200160415121876738
    assert fib_reference(94) == (12200160415121876738 + 7540113804746346429) % 2**64


@pytest.mark.parametrize("message", SHA_MESSAGES, ids=lambda m: f"{len(m)}B")
def test_sha256_journal(message):
    ex = run("sha256", [message])
    assert ex.exit_code == 0
    assert ex.journal == hashlib.sha256(message).digest()
    assert ex.commit_matches is True


@pytest.mark.parametrize("n", [0, 1, 4])
def test_aggregator_journal(n):
    cs = claims(n)
    ex = run("aggregator", [u32(n), *cs])
    assert ex.exit_code == 0
    assert ex.journal == u32(n) + hashlib.sha256(b"".join(cs)).digest()
    assert ex.commit_matches is True
    assert ex.assumptions == tuple((c[:32], c[32:]) for c in cs)


def test_aggregator_panics_on_missing_claims():
    ex = run("aggregator", [u32(2), claims(1)[0]])
    assert ex.exit_code == 1
    assert ex.stderr == b"aggregator: fewer claims than N\n"


@pytest.mark.parametrize(
    "values",
    [[], [42], [5, 4, 3, 2, 1], [0xFFFFFFFF, 0, 0x80000000, 0x7FFFFFFF, 9, 9],
     [(i * 2654435761) & 0xFFFFFFFF for i in range(257)]],
    ids=lambda v: f"{len(v)}values",
)
def test_sort_journal(values):
    ex = run("sort", [struct.pack(f"<{len(values)}I", *values)])
    assert ex.exit_code == 0
    assert ex.journal == struct.pack(f"<{len(values)}I", *sorted(values))
    assert ex.commit_matches is True


def test_sort_rejects_a_partial_word():
    ex = run("sort", [b"\x01\x02\x03\x04\x05"])
    assert ex.exit_code == 1
    assert b"not a multiple of 4" in ex.stderr


def test_panic_guest():
    ex = run("panic")
    assert ex.exit_code == 1
    assert ex.stderr == b"panic guest: this guest always panics\n"
    assert ex.stdout == b"panic guest: about to panic\n"
    assert ex.journal == b""
    assert ex.commit_matches is True


def test_selftest_matches_the_spec():
    ex = run("rv32im-selftest", [u32(1)])
    assert ex.exit_code == 0
    assert first_mismatch(ex.stdout) is None, first_mismatch(ex.stdout)
    assert ex.journal == expected_journal()
    assert ex.commit_matches is True


def test_guests_execute_every_rv32im_instruction():
    seen: set[str] = set()
    inputs = {
        "fibonacci": [u32(10)],
        "sha256": [b"abc"],
        "aggregator": [u32(2), *claims(2)],
        "rv32im-selftest": [],
        "sort": [struct.pack("<3I", 3, 1, 2)],
        "panic": [],
    }
    for name in GUESTS:
        seen |= {m.lower() for m, count in run(name, inputs[name]).report.instructions.items() if count > 0}
    missing = sorted(set(RV32I + RV32M) - {"ebreak"} - seen)
    assert not missing, f"no guest executed: {', '.join(missing)}"


@pytest.mark.parametrize(
    "name, inputs",
    [("fibonacci", [u32(1000)]), ("sha256", [bytes(200)]), ("sort", [struct.pack("<4I", 4, 3, 2, 1)]), ("panic", [])],
)
def test_cycles_and_outputs_agree_with_unicorn(name, inputs):
    """One instruction is one cycle: the executor's count equals unicorn's."""
    ex = run(name, inputs)
    uc = run_on_unicorn(BIN / f"{name}.elf", inputs)
    assert (ex.journal, ex.exit_code, ex.stdout, ex.stderr) == (uc.journal, uc.exit_code, uc.stdout, uc.stderr)
    assert ex.cycles == uc.instructions


def test_cycle_tracker_lines(tmp_path):
    """The SDK's cycle-tracker helpers print SP1's lines, which the executor turns into spans."""
    from pyzkvm.guests import available_compilers, build_guest

    if not available_compilers():
        pytest.skip("no RISC-V C compiler found (pip install 'pyzkvm[guests]' or apt-get install gcc-riscv64-unknown-elf)")
    src = tmp_path / "tracked"
    src.mkdir()
    (src / "main.c").write_text(
        '#include "pyzkvm.h"\n'
        "int main(void) {\n"
        "    uint32_t n = pyzkvm_read_u32(), acc = 0;\n"
        '    pyzkvm_cycle_start("loop");\n'
        "    for (uint32_t i = 0; i < n; i++) acc = acc * 31 + i;\n"
        '    pyzkvm_cycle_end("loop");\n'
        "    pyzkvm_commit_u32(acc);\n"
        "    return 0;\n"
        "}\n"
    )
    result = build_guest(src, tmp_path / "tracked.elf")
    acc = 0
    for i in range(50):
        acc = (acc * 31 + i) & 0xFFFFFFFF
    # the raw lines, as a CPU without pyzkvm's report sees them
    uc = run_on_unicorn(result.elf, [u32(50)])
    assert uc.stdout == b"cycle-tracker-start: loop\ncycle-tracker-end: loop\n"
    assert uc.journal == u32(acc)
    # the executor consumes them into a span: 50 iterations of a few instructions each
    ex = execute(result.program, [u32(50)])
    assert ex.exit_code == 0 and ex.journal == u32(acc)
    assert 50 * 3 <= ex.report.cycle_spans["loop"] <= 50 * 20 + 200  # a plain span: not in SP1's report
    assert ex.report.cycle_tracker == {}
