"""``pyzkvm prove-batch`` through a subprocess: receipts per line, byte-identical to
``pyzkvm prove``'s, on a LocalCluster or an existing scheduler; typed errors for bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import pyzkvm
from pyzkvm import inputs as I
from pyzkvm.cli.prove_batch import read_input_sets
from pyzkvm.errors import FileReadError, UsageError
from pyzkvm.program import Program
from pyzkvm.receipt import Receipt
from tests.command_env import with_run_memo

ROOT = Path(__file__).resolve().parent.parent
FIB_ELF = ROOT / "guests" / "bin" / "fibonacci.elf"
FIB = Program.from_elf(FIB_ELF)
INPUTS = "u32:10\n\n# a comment line\nu32:300\n  u32:7  \n"


def cli(*args, cwd, **env_vars):
    env = with_run_memo({k: v for k, v in os.environ.items() if k != "PYZKVM_DEV_MODE"}) | env_vars
    out = subprocess.run([sys.executable, "-m", "pyzkvm", *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True)
    assert "Traceback" not in out.stderr, out.stderr
    return out


def test_input_file_lines_keep_their_numbers(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text(INPUTS + "u32:1 str:hi hex:0aff\n")
    assert read_input_sets(str(path)) == [
        (1, [I.u32(10)]), (4, [I.u32(300)]), (5, [I.u32(7)]), (6, [I.u32(1), b"hi", b"\x0a\xff"]),
    ]  # fmt: skip


def test_batch_on_a_local_cluster_matches_sequential_prove(tmp_path):
    pytest.importorskip("distributed", reason="the Dask tests need pyzkvm[dist]")
    (tmp_path / "in.txt").write_text(INPUTS)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "fibonacci-4.receipt").write_bytes(b"an earlier batch's receipt")  # --force replaces it
    out = cli("prove-batch", FIB_ELF, "--inputs", "in.txt", "--backend", "trace", "--out-dir", "out", "--workers", "2",
              "--force", cwd=tmp_path, PYZKVM_PROGRESS_AFTER_S="0")  # fmt: skip
    assert out.returncode == 0, out.stderr
    progress = [line for line in out.stderr.splitlines() if line.startswith("pyzkvm: proving 3 input set(s) with trace: ")]
    assert [line.rsplit(": ", 1)[1] for line in progress] == ["starting workers", "receipt 1/3", "receipt 2/3", "receipt 3/3"]
    assert "Dask is not installed" not in out.stderr
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["fibonacci-1.receipt", "fibonacci-4.receipt", "fibonacci-5.receipt"]
    for line, n in ((1, 10), (4, 300), (5, 7)):
        data = (tmp_path / "out" / f"fibonacci-{line}.receipt").read_bytes()
        assert data == pyzkvm.prove(FIB, [I.u32(n)], backend="trace").to_bytes()
        assert f"line {line}: out/fibonacci-{line}.receipt (exit code 0," in out.stdout
    assert "3/3 receipts (trace)" in out.stdout


def test_batch_on_an_existing_scheduler_with_segments(tmp_path):
    distributed = pytest.importorskip("distributed", reason="the Dask tests need pyzkvm[dist]")
    (tmp_path / "in.txt").write_text("u32:1000\nu32:300\n")
    from tests.test_dist import NO_DASHBOARD

    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, memory_limit="1GiB", silence_logs=50,
                                  **NO_DASHBOARD) as cluster:  # fmt: skip
        out = cli("prove-batch", FIB_ELF, "--inputs", "in.txt", "-b", "trace", "--out-dir", "o",
                  "--scheduler", cluster.scheduler_address, "--segment-cycles", "4000", cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    for line, n in ((1, 1000), (2, 300)):
        receipt = Receipt.from_bytes((tmp_path / "o" / f"fibonacci-{line}.receipt").read_bytes())
        assert receipt.to_bytes() == pyzkvm.prove(FIB, [I.u32(n)], backend="trace", segment_cycles=4000).to_bytes()
    assert Receipt.from_bytes((tmp_path / "o" / "fibonacci-1.receipt").read_bytes()).params["segments"] == 5  # 17,778 cycles in 4,000s


def test_bad_input_files_are_typed_errors_and_write_nothing(tmp_path):
    (tmp_path / "in.txt").write_text("u32:10\nu32:nope\n")
    out = cli("prove-batch", FIB_ELF, "--inputs", "in.txt", "-b", "trace", "--out-dir", "o", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip() == "pyzkvm: error: in.txt:2: bad --input 'u32:nope': 'nope' is not an integer"
    assert not (tmp_path / "o").exists()
    out = cli("prove-batch", FIB_ELF, "--inputs", "missing.txt", cwd=tmp_path)
    assert (out.returncode, out.stderr.strip()) == (1, "pyzkvm: error: --inputs missing.txt: no such file")
    (tmp_path / "empty.txt").write_text("# nothing\n\n")
    out = cli("prove-batch", FIB_ELF, "--inputs", "empty.txt", cwd=tmp_path)
    assert (out.returncode, out.stderr.strip()) == (2, "pyzkvm: error: --inputs empty.txt holds no input sets")
    out = cli("prove-batch", FIB_ELF, "--inputs", "in.txt", "--workers", "0", cwd=tmp_path)
    assert (out.returncode, out.stderr.strip()) == (2, "pyzkvm: error: --workers must be positive, got 0")
    with pytest.raises(FileReadError, match="no such file"):  # exit 1, like a missing file in every command
        read_input_sets(str(tmp_path / "nope"))
    # a file: input that cannot be read names its line too; no quoting; not UTF-8
    (tmp_path / "f.txt").write_text("u32:3\nfile:missing.bin\n")
    with pytest.raises(FileReadError, match=r"f.txt:2: missing.bin: no such file"):
        read_input_sets(str(tmp_path / "f.txt"))
    (tmp_path / "q.txt").write_text('str:"a b"\n')
    with pytest.raises(UsageError, match="q.txt:1: .*split at spaces, with no quoting: give text with spaces as hex:"):
        read_input_sets(str(tmp_path / "q.txt"))
    (tmp_path / "b.txt").write_bytes(b"u32:1\n\xff\n")
    with pytest.raises(FileReadError, match="not UTF-8 text .*at byte 6.*as hex:"):
        read_input_sets(str(tmp_path / "b.txt"))


def test_batch_does_not_overwrite_an_earlier_receipt_without_force(tmp_path):
    # prove's rule (-o aside): an earlier receipt is never replaced silently; a batch stops before proving
    (tmp_path / "in.txt").write_text(INPUTS)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "fibonacci-4.receipt").write_bytes(b"earlier")
    (tmp_path / "out" / "fibonacci-5.receipt").write_bytes(b"earlier")
    out = cli("prove-batch", FIB_ELF, "--inputs", "in.txt", "-b", "trace", "--out-dir", "out", cwd=tmp_path)
    assert (out.returncode, out.stderr.strip()) == (
        1, "pyzkvm: error: --out-dir out already holds fibonacci-4.receipt and 1 more from an earlier batch: "
        "pass --force to overwrite them, or choose another --out-dir")  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["fibonacci-4.receipt", "fibonacci-5.receipt"]
    assert (tmp_path / "out" / "fibonacci-4.receipt").read_bytes() == b"earlier"
    assert "--force" in cli("prove-batch", "--help", cwd=tmp_path).stdout


def test_batch_takes_proves_limits_and_stark_options(tmp_path):
    # --max-cycles as prove takes it: each line that passes it is that line's failure, nothing written
    (tmp_path / "in.txt").write_text("u32:10\nu32:20\n")
    out = cli("prove-batch", FIB_ELF, "--inputs", "in.txt", "-b", "trace", "--out-dir", "o", "--workers", "1",
              "--max-cycles", "50", cwd=tmp_path)  # fmt: skip
    assert out.returncode == 1, out.stderr
    assert [line.split(": ")[:3] for line in out.stderr.splitlines() if line.startswith("line ")] == [
        ["line 1", "FAILED", "CycleLimitExceeded"], ["line 2", "FAILED", "CycleLimitExceeded"]]
    assert not list((tmp_path / "o").glob("*.receipt"))
    # --no-zk / --preset: stark's, refused for another backend or an unknown preset before anything runs
    for flags, message in ((["-b", "trace", "--no-zk"], "--no-zk is a stark option"),
                           (["-b", "trace", "--preset", "compact_100_bits"], "--preset is a stark option"),
                           (["-b", "stark", "--preset", "nope"], "unknown STARK preset 'nope'")):
        out = cli("prove-batch", FIB_ELF, "--inputs", "in.txt", "--out-dir", "p", *flags, cwd=tmp_path)
        assert out.returncode == 2 and message in out.stderr, (flags, out.stderr)
        assert not (tmp_path / "p").exists()


def test_batch_proves_the_transparent_twin_with_no_zk(tmp_path):
    (tmp_path / "in.txt").write_text("u32:10\n")
    out = cli("prove-batch", FIB_ELF, "--inputs", "in.txt", "-b", "stark", "--preset", "insecure_fast_for_tests_zk",
              "--no-zk", "--out-dir", "o", "--workers", "1", cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    receipt = Receipt.from_bytes((tmp_path / "o" / "fibonacci-1.receipt").read_bytes())
    verified = pyzkvm.verify_report(receipt, FIB.image_id, allow_insecure=True)
    assert verified.report.preset == "insecure_fast_for_tests" and receipt.claim.exit_code == 0
