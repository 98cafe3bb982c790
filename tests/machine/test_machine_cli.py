"""``python -m pyzkvm.machine``: measures a guest; bad input is a one-line error, no traceback."""

from __future__ import annotations

from pyzkvm.machine.__main__ import main
from tests.rvasm import DATA_BASE, asm, halt, program


def test_reports_tables_and_debug_check(capsys):
    assert main(["guests/bin/fibonacci.elf", "--input", "u32:3"]) == 0
    out = capsys.readouterr().out
    assert "5814 cycles, exit code 0, journal 12 bytes" in out  # 5778 + 12n: the journal hashed in software
    assert "cpu 8192×" in out and "sha compress 4×" in out and "debug check passed" in out


def test_missing_file_is_a_one_line_error(capsys, tmp_path):
    assert main([str(tmp_path / "nope.elf")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pyzkvm.machine: error: ") and err.count("\n") == 1


def test_risc0_profile_builds_tables():
    from pyzkvm.executor import execute
    from pyzkvm.machine import build_chips, check_machine, generate_tables

    prog = program([asm.li(11, DATA_BASE), halt(0)], data=bytes(32), abi="risc0")  # a1 → output digest
    execution = execute(prog, capture_trace=True)
    chips = build_chips(prog)
    tables = generate_tables(chips, execution)
    assert tables.statement.commit == (0,) * 8  # the digest HALT read (zeros here)
    check_machine(chips, tables)
