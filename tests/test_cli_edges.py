"""Command-line edges found by a review (session 27): outputs that are a command's own inputs
or a FIFO, closed standard streams, option values past what a run can use. Each is a one-line
usage error before any work, or no error at all — never a traceback or a hang."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyzkvm.cli import main as cli_main
from pyzkvm.errors import UsageError
from tests.command_env import with_run_memo

ROOT = Path(__file__).resolve().parent.parent
FIB = ROOT / "guests" / "bin" / "fibonacci.elf"


def test_aggregate_never_writes_over_its_own_inputs(tmp_path, capsys):
    receipt = tmp_path / "r.trace"
    assert cli_main(["prove", str(FIB), "-i", "u32:10", "-b", "trace", "-o", str(receipt)]) == 0
    elf = tmp_path / "agg.elf"
    elf.write_bytes((ROOT / "guests" / "bin" / "aggregator.elf").read_bytes())
    before = elf.read_bytes(), receipt.read_bytes()
    capsys.readouterr()
    for args in (["--elf", str(elf), "-o", str(elf)], ["-o", str(receipt)]):
        assert cli_main(["aggregate", str(receipt), *args]) == 2
        assert "is this command's input" in capsys.readouterr().err
    assert (elf.read_bytes(), receipt.read_bytes()) == before


def test_an_output_fifo_nobody_reads_is_an_error_not_a_hang(tmp_path, capsys, monkeypatch):
    # (written through when a process reads it: tests/test_reliability.py; with none, the open blocked forever)
    from pyzkvm import fileio

    monkeypatch.setattr(fileio, "FIFO_READER_WAIT_S", 0.3)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert cli_main(["prove", str(FIB), "-i", "u32:10", "-b", "trace", "-o", str(fifo)]) == 1
    err = capsys.readouterr().err
    assert "no process opened the FIFO for reading within 0.3 s; start its reader first" in err and err.count("\n") == 1


def test_a_closed_stdout_or_stderr_is_no_traceback(tmp_path):
    env = with_run_memo(dict(os.environ))
    for closed in ("stdout", "stderr"):
        # (a subprocess with that stream closed: Python's sys.stdout / sys.stderr is None)
        code = (f"import os, sys; os.close({1 if closed == 'stdout' else 2}); sys.{closed} = None; "
                "from pyzkvm.cli import main; sys.exit(main(['run', sys.argv[1], '-i', 'u32:10']))")
        out = subprocess.run([sys.executable, "-c", code, str(FIB)], capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 0 and "Traceback" not in out.stderr + out.stdout, (closed, out.stderr)


@pytest.mark.parametrize("args, message", [
    (["prove", str(FIB), "-b", "trace", "--segment-cycles", str(1 << 64)], "is over the largest accepted value"),
    (["prove", str(FIB), "-b", "trace", "--segment-cycles", "0"], "must be positive"),
    (["bench", "--quick", "--backends", "trace", "--budget", "nan"], "--budget must be a positive number of seconds"),
    (["bench", "--quick", "--backends", "trace", "--workers", "100000"], "is more than 4 worker processes per core"),
    (["bench", "--quick", "--backends", "trace", "--batch-sizes", str(1 << 64)], "--batch-sizes must be from 1 to 4096"),
])  # fmt: skip
def test_option_values_past_what_a_run_can_use_are_usage_errors(args, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli_main([*args, *(["--out", "bo"] if args[0] == "bench" else ["-o", "x.receipt"])]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_messages_say_what_is_wrong(tmp_path, capsys, monkeypatch):
    from pyzkvm.errors import UsageError
    from pyzkvm.guests.build_all import guest_dirs
    from pyzkvm.inputs import parse_input_spec

    with pytest.raises(UsageError, match=r"'010' is not an integer \(a leading 0 is ambiguous"):
        parse_input_spec("u32:010")
    assert parse_input_spec("u32:0o10") == (8).to_bytes(4, "little") and parse_input_spec("u32:0") == bytes(4)
    with pytest.raises(UsageError, match="give the file's path after file:"):
        parse_input_spec("file:")
    assert cli_main(["run", str(FIB), "--max-cycles", "010"]) == 2
    assert "a leading 0 is ambiguous" in capsys.readouterr().err
    with pytest.raises(UsageError, match="python -m pyzkvm.guests.build_all --guests-dir DIR"):
        guest_dirs(tmp_path / "guests")


@pytest.mark.parametrize("value", [" 5", "5 ", "+10", "1_0", "\u0663", "0x", "-0", "1e3"])
def test_an_integer_is_ascii_digits_or_0x_0o_0b_only(value):
    # int() takes spaces, a sign, underscores and other scripts' digits: an --input u32: did too
    from pyzkvm.inputs import parse_input_spec

    with pytest.raises(UsageError, match="is not an integer"):
        parse_input_spec(f"u32:{value}")


def test_a_huge_number_is_too_large_and_its_message_short():
    from pyzkvm.inputs import parse_input_spec

    for digits in ("9" * 81, "9" * 5000):
        with pytest.raises(UsageError, match=r"\(\d+ characters\) is too large") as raised:
            parse_input_spec(f"u32:{digits}")
        assert len(str(raised.value)) < 200 + len(digits) and "…" in str(raised.value)
    assert parse_input_spec("u64:0xFFFFFFFFFFFFFFFF") == b"\xff" * 8 and parse_input_spec("u32:0b101") == b"\x05\0\0\0"



def test_running_out_of_memory_is_one_line_and_writes_nothing(tmp_path, capsys, monkeypatch):
    # numpy's _ArrayMemoryError (a MemoryError) from an allocation the process may not make was a
    # traceback: it is the one error line of every other failure, exit 1, and no receipt is left
    import numpy as np

    from pyzkvm.cli import prove

    def allocate_too_much(*args, **kwargs):
        np.empty((1 << 40, 1 << 20), dtype=np.uint32)  # 4 EiB: refused by any machine's allocator

    monkeypatch.setattr(prove, "_prove_and_write", allocate_too_much)
    monkeypatch.chdir(tmp_path)
    assert cli_main(["prove", str(FIB), "--input", "u32:10", "--backend", "trace", "-o", "x.receipt"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pyzkvm: error: out of memory:") and err.count("\n") == 1, err
    assert list(tmp_path.iterdir()) == []
