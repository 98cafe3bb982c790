"""What long commands show while they work (pyzkvm/cli/progress.py), and rich markup escaping."""

from __future__ import annotations

import io
import sys
from types import SimpleNamespace

import numba
import numpy as np

from pyzkvm.cli import progress
from pyzkvm.cli.progress import LateBar, PhaseLines, progress_reporter


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_plain_output_gets_one_line_per_phase(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with progress_reporter("proving with stark", quiet_s=0) as report:
        report("execute", 0.0)
        report("commit to trace data", 0.2)
        report("commit to trace data", 0.3)  # the same phase again: no new line
        report("segment 2/3: open", 0.7)
    assert sys.stderr.getvalue().splitlines() == [
        "pyzkvm: proving with stark: execute",
        "pyzkvm: proving with stark: commit to trace data",
        "pyzkvm: proving with stark: segment 2/3: open",
    ]


def test_a_quick_command_prints_no_phase_lines(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with progress_reporter("proving with trace", quiet_s=600) as report:
        report("execute", 0.0)
        report("done", 1.0)
    assert sys.stderr.getvalue() == ""


def test_a_phase_still_running_when_the_quiet_time_ends_gets_its_line():
    out = io.StringIO()
    lines = PhaseLines("info fibonacci", quiet_s=600, stream=out)
    lines("image ID", 0.0)
    assert out.getvalue() == ""
    lines._flush()  # what the timer does at quiet_s
    lines.close()
    assert out.getvalue() == "pyzkvm: info fibonacci: image ID\n"


def test_the_terminal_bar_prints_brackets_as_they_are(monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with progress_reporter("proving [x]", quiet_s=0) as report:  # the bar at once
        report("pip install 'pyzkvm[bench]'", 0.5)
    assert "proving [x]" in terminal.getvalue()


def test_the_terminal_bar_starts_only_when_its_delay_has_passed(monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    bar = LateBar("verify r", after_s=600)
    bar("check the seal", 0.4)
    assert terminal.getvalue() == "" and bar.bar is None  # a quick command: rich is never started
    bar._start()  # what the timer does at after_s: the bar shows the step running then
    bar.close()
    assert "verify r: check the seal" in terminal.getvalue()


def test_bench_summary_keeps_the_extra_in_its_install_hint():
    from rich.console import Console

    from pyzkvm.cli.bench import _print_summary

    out = io.StringIO()
    note = "plots not written: matplotlib is not installed (pip install 'pyzkvm[bench]')"
    results = {"backends": {"trace": {"available": True}}, "proofs": [], "batches": [], "plots_note": note}
    _print_summary(Console(file=out, width=200), results, [])
    assert "pip install 'pyzkvm[bench]'" in out.getvalue()


def test_crosscheck_table_keeps_brackets_in_notes(capsys):
    from pyzkvm.cli.crosscheck import Outcome, _print_table

    _print_table([Outcome("sp1", False, reason="install [sp1] first")])
    assert "install [sp1] first" in capsys.readouterr().out


def test_the_first_kernel_compile_is_announced_once(monkeypatch):
    monkeypatch.delenv(progress.QUIET_COMPILE_ENV, raising=False)
    out = io.StringIO()
    progress.watch_kernel_compiles(out)

    @numba.njit  # a new function: numba compiles it, never from a cache
    def twice(x):
        return 2 * x

    @numba.njit
    def thrice(x):
        return 3 * x

    assert twice(np.int64(2)) == 4 and thrice(np.int64(2)) == 6
    text = out.getvalue()
    assert text.count("pyzkvm: compiling numba kernels") == 1
    assert progress.kernel_cache_dir() in text


def test_no_notice_when_silenced(monkeypatch):
    monkeypatch.setenv(progress.QUIET_COMPILE_ENV, "1")
    out = io.StringIO()
    progress.watch_kernel_compiles(out)

    @numba.njit
    def four_times(x):
        return 4 * x

    assert four_times(np.int64(1)) == 4
    assert out.getvalue() == ""


def test_bench_writes_a_new_folder_by_default_never_bench_results(tmp_path, monkeypatch):
    from pyzkvm.cli import bench

    monkeypatch.chdir(tmp_path)
    written = []
    monkeypatch.setattr("pyzkvm.benchmark.run_benchmark", lambda config, progress, argv: {"ok": True, "backends": {},
                        "proofs": [], "batches": []})
    monkeypatch.setattr("pyzkvm.benchmark.write_results", lambda results, out: written.append(out) or [])
    args = bench.build_args = SimpleNamespace(quick=True, backends=["trace"], out=None, guest=None, budget=None,
                                              verify_reps=None, batch_sizes=None, workers=1)
    assert bench.run_bench(args) == 0
    assert bench.run_bench(args) == 0
    assert len(written) == 2 and written[0] != written[1]
    for out in written:
        assert out.parent == bench.DEFAULT_OUT_PARENT and out.is_dir()
    assert not (tmp_path / "bench").exists()


def test_every_command_named_as_compiling_kernels_exists():
    from pyzkvm import cli

    parser = cli.build_parser()
    commands = set(next(a for a in parser._actions if a.dest == "command").choices)
    assert cli._KERNEL_COMMANDS <= commands


def _cli(*args, cwd, **env_vars):
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k != "PYZKVM_DEV_MODE"} | {"PYTHONPATH": str(root)} | env_vars
    return subprocess.run([sys.executable, "-m", "pyzkvm", *map(str, args)], cwd=cwd, env=env, capture_output=True,
                          text=True)  # fmt: skip


def test_run_and_verify_say_their_phases(tmp_path):
    # PYZKVM_PROGRESS_AFTER_S=0: every phase line at once (by default only after 2 s)
    out = _cli("run", "fibonacci", "-i", "u32:5", cwd=tmp_path, PYZKVM_PROGRESS_AFTER_S="0")
    assert out.returncode == 0 and out.stderr == "pyzkvm: run fibonacci: execute\n", out.stderr
    import pyzkvm
    from pyzkvm.guests.prebuilt import require_guest

    fibonacci = pyzkvm.Program.from_elf(require_guest("fibonacci"))
    receipt = pyzkvm.prove(fibonacci, [pyzkvm.inputs.u32(5)], backend="trace")
    (tmp_path / "f.receipt").write_bytes(receipt.to_bytes())
    image_id = receipt.claim.image_id.hex()  # not --elf: the child would spend a second on the image ID
    out = _cli("verify", "f.receipt", "--image-id", image_id, "--dev-mode", cwd=tmp_path, PYZKVM_PROGRESS_AFTER_S="0")
    assert out.returncode == 0 and out.stdout.startswith("verified: "), out.stderr
    phases = [line for line in out.stderr.splitlines() if line.startswith("pyzkvm: verify f.receipt: ")]
    assert phases == ["pyzkvm: verify f.receipt: read the receipt", "pyzkvm: verify f.receipt: check the seal (trace)"]


def test_progress_delay_comes_from_the_environment(monkeypatch):
    for value, seconds in (("0", 0.0), ("5.5", 5.5), ("soon", progress.QUIET_S), ("-1", progress.QUIET_S)):
        monkeypatch.setenv(progress.QUIET_S_ENV, value)
        assert progress.quiet_seconds() == seconds
    monkeypatch.delenv(progress.QUIET_S_ENV)
    assert progress.quiet_seconds() == progress.QUIET_S


def test_a_step_of_unknown_length_pulses_on_a_terminal(monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with progress_reporter("run guest", quiet_s=0) as report:
        report("execute", None)
        report("done", 1.0)
    assert "run guest" in terminal.getvalue()
