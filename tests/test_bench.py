"""Tests of the backend comparison benchmark (`pyzkvm bench`, pyzkvm/benchmark/).

Oracles: published Fibonacci numbers for the journal oracle, synthetic affine cycle counts
for the sizing, a fake clock for the verify-averaging, and lying/unavailable backends for the
failure paths. Nothing here asserts a speed: the numbers live in bench/results/.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numba
import numpy
import pytest

import pyzkvm
from pyzkvm.backends.base import Availability, list_backends
from pyzkvm.backends.trace import TraceBackend
from pyzkvm.benchmark import BenchConfig, run_benchmark, write_results
from pyzkvm.benchmark.measure import time_verify
from pyzkvm.benchmark.sizing import fit_cycle_model
from pyzkvm.benchmark.workload import expected_journal, fibonacci_mod_2_64
from pyzkvm.cli import main
from pyzkvm.errors import ProgramError, UnsupportedProgram, UsageError, VerificationError
from pyzkvm.receipt import Claim, Receipt

REPO = Path(__file__).resolve().parents[1]
GUEST = REPO / "guests" / "bin" / "fibonacci.elf"


# ---- the journal oracle -----------------------------------------------------------------


def test_fibonacci_oracle_matches_published_values():
    # OEIS A000045: F(10), F(50), F(93) (the largest that fits u64); F(94) wraps mod 2^64.
    assert fibonacci_mod_2_64(0) == 0
    assert fibonacci_mod_2_64(1) == 1
    assert fibonacci_mod_2_64(10) == 55
    assert fibonacci_mod_2_64(50) == 12586269025
    assert fibonacci_mod_2_64(93) == 12200160415121876738
    assert fibonacci_mod_2_64(94) == 19740274219868223167 - 2**64


def test_expected_journal_is_n_u32_then_fib_u64_little_endian():
    assert expected_journal(10) == bytes.fromhex("0a000000" "3700000000000000")
    assert expected_journal(0x01020304)[:4] == bytes([4, 3, 2, 1])


# ---- sizing -------------------------------------------------------------------------------


def test_cycle_model_recovers_an_affine_cycle_count():
    model = fit_cycle_model(lambda n: 5577 + 12 * n)
    assert model.fixed == 5577 and model.per_iteration == 12
    for e in range(13, 19):
        n = model.n_for_cycles(1 << e)
        assert abs(5577 + 12 * n - (1 << e)) <= 6  # within half an iteration


def test_cycle_model_handles_fractional_cycles_per_iteration():
    cycles = lambda n: 100 + (7 * n) // 2  # noqa: E731 - 3.5 cycles per iteration
    model = fit_cycle_model(cycles)
    for target in (1 << 12, 1 << 16, 1 << 18):
        assert abs(cycles(model.n_for_cycles(target)) - target) <= 4
    assert model.n_for_cycles(10) == 0  # below the fixed cost: clamped, never negative


def test_cycle_model_rejects_a_guest_whose_cycles_do_not_grow():
    with pytest.raises(ProgramError, match="do not grow"):
        fit_cycle_model(lambda n: 5000)


# ---- verify timing --------------------------------------------------------------------------


class _ClockedVerifier:
    """A backend stand-in whose every verify advances a fake clock by ``cost`` seconds."""

    def __init__(self, cost: float, produces_proofs: bool = True):
        self.cost, self.produces_proofs = cost, produces_proofs
        self.now, self.calls, self.options = 0.0, 0, []

    def clock(self) -> float:
        return self.now

    def verify(self, receipt, image_id, **options):
        self.calls += 1
        self.options.append(options)
        self.now += self.cost


def test_time_verify_averages_the_requested_repetitions():
    v = _ClockedVerifier(cost=0.001)
    timing = time_verify(v, None, b"", reps=100, budget_s=10.0, clock=v.clock)
    assert timing.runs == 100 and v.calls == 101  # one probe, then the 100 averaged
    assert timing.mean_us == pytest.approx(1000.0)
    assert all(o == {} for o in v.options)


def test_time_verify_cuts_repetitions_to_the_budget_and_says_how_many():
    v = _ClockedVerifier(cost=0.5)
    timing = time_verify(v, None, b"", reps=100, budget_s=10.0, clock=v.clock)
    assert timing.runs == 20 and v.calls == 21
    assert timing.mean_us == pytest.approx(500_000.0)


def test_time_verify_turns_dev_mode_on_only_for_dev_mode_backends():
    v = _ClockedVerifier(cost=0.001, produces_proofs=False)
    time_verify(v, None, b"", reps=3, budget_s=10.0, clock=v.clock)
    assert v.options and all(o == {"dev_mode": True} for o in v.options)


# ---- the whole run (real executor, real trace backend) ----------------------------------------


class WrongJournalBackend(TraceBackend):
    """Proves like the trace backend but flips one journal bit (claim kept self-consistent)."""

    name = "wrong-journal"

    def prove(self, program, inputs=(), **options):
        r = super().prove(program, inputs, **options)
        bad = r.journal[:-1] + bytes([r.journal[-1] ^ 1])
        claim = Claim.for_execution(r.claim.image_id, bad, r.claim.exit_code, r.claim.cycles)
        return Receipt(claim, bad, r.backend, r.backend_version, r.params, r.seal)


class NeedsProgramBackend(TraceBackend):
    """Verifies only when handed the program, as SP1 and RISC Zero do (their verifying key / image ID)."""

    name = "needs-program"

    def verify(self, receipt, image_id, *, program=None, **options):
        if program is None or program.image_id != image_id:
            raise VerificationError("verify needs program=: the verifying key comes from the ELF")
        super().verify(receipt, image_id, **options)


class ReportingBackend(TraceBackend):
    """Stands in for a proving backend whose verify returns what the stark verifier returns:
    a report whose ``.security.bits`` is the conjectured security."""

    name = "reporting"
    produces_proofs = True

    def prove(self, program, inputs=(), **options):
        r = super().prove(program, inputs, **options)
        return Receipt(r.claim, r.journal, self.name, r.backend_version, {"receipt_kind": "test"}, r.seal)

    def verify(self, receipt, image_id, **options):
        if receipt.claim.image_id != image_id:
            raise VerificationError("image ID mismatch")
        return SimpleNamespace(security=SimpleNamespace(bits=101.5))


class ParamsBitsBackend(ReportingBackend):
    """A proving backend whose verify returns nothing (as stark's does): its bits come from
    the receipt's params, and the table says so."""

    name = "params-bits"

    def prove(self, program, inputs=(), **options):
        r = super().prove(program, inputs, **options)
        return Receipt(r.claim, r.journal, self.name, r.backend_version, {"security_bits": 104.0}, r.seal)

    def verify(self, receipt, image_id, **options):
        super().verify(receipt, image_id, **options)


class OtherProfileBackend(TraceBackend):
    """Like risc0 on an sp1-profile guest: cannot prove this program at all."""

    name = "other-profile"

    def prove(self, program, inputs=(), **options):
        raise UnsupportedProgram("this backend runs guests built for another ABI profile")


class CrashesInWorkersBackend(TraceBackend):
    """Proves in the test process, raises in any other (the spawned batch workers)."""

    name = "crashes-in-workers"

    def prove(self, program, inputs=(), **options):
        if os.environ.get("PYZKVM_TEST_BENCH_PARENT") != str(os.getpid()):
            raise RuntimeError("a worker-side crash")
        return super().prove(program, inputs, **options)


class MoonBackend(TraceBackend):
    name = "moon"

    def availability(self):
        return Availability(False, "needs a prover on the moon: install one there")


def _quick(**overrides) -> BenchConfig:
    return BenchConfig.quick_preset(guest=GUEST, **overrides)


def test_a_bench_that_fails_to_start_leaves_no_empty_folder(tmp_path, capsys):
    out = tmp_path / "results" / "run"
    assert main(["bench", "--quick", "--backends", "nosuch", "--out", str(out)]) == 2
    assert "unknown backend 'nosuch'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # neither the folder nor the parent it made


def test_quick_bench_cli_writes_complete_results(tmp_path, capsys):
    # trace only: every code path of the run at millisecond proofs; stark is checked below.
    status = main(["bench", "--quick", "--backends", "trace", "--out", str(tmp_path), "--workers", "2"])
    assert status == 0, capsys.readouterr().err
    results = json.loads((tmp_path / "compare.json").read_text())
    meta = results["meta"]

    # What every number depends on is recorded.
    assert meta["machine"]["cpu_count"] == os.cpu_count()
    assert meta["machine"]["cpu_model"]
    assert meta["python"] == platform.python_version()
    assert meta["numpy"] == numpy.__version__ and meta["numba"] == numba.__version__
    assert meta["pyzkvm"] == pyzkvm.__version__
    assert dt.datetime.fromisoformat(meta["date"]).tzinfo is not None
    assert meta["command"].startswith("pyzkvm bench --quick --backends trace")
    assert set(results["backends"]) == {"trace"}
    # How busy the (shared) machine was: os.getloadavg() at the start and the end.
    for key in ("load_average_start", "load_average_end"):
        assert len(meta[key]) == 3 and all(x >= 0 for x in meta[key]), meta[key]

    rows = [r for r in results["proofs"] if r["backend"] == "trace"]
    labels = [r["label"] for r in rows]
    assert {"n=10", "n=50", "n=100"} <= set(labels)
    sized = [r for r in rows if r["label"].startswith("2^")]
    assert len(sized) == 2
    per_iteration = results["sizing"]["cycles_per_iteration"]
    for r in rows:
        assert r["status"] == "ok", r
        assert r["claimed_cycles"] == r["cycles"]  # the receipt claims what the executor measured
        assert r["prove_vs_trace"] == 1.0 and r["verify_vs_trace"] == 1.0
        assert r["verify_runs"] == 10 and r["size_bytes"] > 0
    for r in sized:
        target = 1 << int(r["label"][2:])
        assert abs(r["cycles"] - target) <= per_iteration  # sized from the fitted model
    assert [r["cycles"] for r in rows] == sorted(r["cycles"] for r in rows)

    batches = {(b["mode"], b["proofs"]): b for b in results["batches"] if b["backend"] == "trace"}
    assert set(batches) == {("sequential", 2), ("parallel", 2)}
    assert all(b["status"] == "ok" for b in batches.values())
    assert batches[("parallel", 2)]["workers"] == 2 and batches[("parallel", 2)]["startup_s"] > 0

    md = (tmp_path / "compare.md").read_text()
    assert "| trace | n=10 | 10 |" in md
    assert "| trace | measured | none (dev mode only) |" in md
    assert f"Load average (1/5/15 min) at the start {meta['load_average_start'][0]:g} / " in md
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in md
    else:
        for png in ("compare_prove_time.png", "compare_proof_size.png"):
            assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert f"]({png})" in md


def test_quick_bench_proves_stark_at_its_smallest_size_with_security_bits(tmp_path):
    """The registry as shipped: stark is measured (a real proof, verified), the others listed."""
    results = run_benchmark(_quick(small_ns=(10, 50), cycle_exponents=(), batch_sizes=(), verify_reps=2))
    assert results["ok"], results
    # Every registered backend appears: measured, or not available with the reason.
    assert set(results["backends"]) == set(list_backends())
    for name, info in results["backends"].items():
        assert info["available"] or info["reason"], name
    assert results["backends"]["stark"]["available"] and results["backends"]["stark"]["warmup_s"] > 0

    rows = {(r["backend"], r["n"]): r for r in results["proofs"]}
    stark, trace = rows[("stark", 10)], rows[("trace", 10)]
    assert stark["status"] == "ok", stark
    assert stark["claimed_cycles"] == stark["cycles"] == trace["cycles"]
    # The bits the stark verifier enforces (>= 100 for the default preset), not trace's none.
    assert stark["security_bits"] >= 100 and stark["security_source"] in ("verifier", "receipt")
    assert trace["security_bits"] is None
    assert stark["size_bytes"] > 100 * trace["size_bytes"]  # a FRI proof, not a digest
    assert stark["prove_vs_trace"] == pytest.approx(stark["prove_s"] / trace["prove_s"])
    assert stark["verify_vs_trace"] == pytest.approx(stark["verify_us"] / trace["verify_us"])
    # --quick proves a real prover at its smallest workload only, and says so.
    assert rows[("trace", 50)]["status"] == "ok"
    assert rows[("stark", 50)]["status"] == "skipped"
    assert "--quick proves a real prover at its smallest workload only" in rows[("stark", 50)]["reason"]
    assert any(note.startswith("--quick: stark") for note in results["notes"])

    write_results(results, tmp_path)
    md = (tmp_path / "compare.md").read_text()
    bits = f"{stark['security_bits']:.1f}"
    assert f"| stark | measured | {bits} bits (" in md
    assert md.count(f"| {bits} |") == 1  # the stark n=10 row's bits column
    assert "| stark | n=50 | 50 |" in md and "skipped: --quick proves a real prover" in md


def test_sizes_over_the_budget_are_skipped_and_say_so(tmp_path):
    results = run_benchmark(_quick(budget_s=1e-9, batch_sizes=(2,)), backends={"trace": TraceBackend()})
    rows = results["proofs"]
    assert rows[0]["status"] == "ok"  # the smallest size always runs: it is what estimates are made from
    assert len(rows) >= 4
    for r in rows[1:]:
        assert r["status"] == "skipped" and "budget" in r["reason"], r
    assert results["batches"] and all(b["status"] == "skipped" for b in results["batches"])
    assert results["ok"]  # skipping is not failing
    write_results(results, tmp_path)
    md = (tmp_path / "compare.md").read_text()
    assert md.count("skipped: estimated") == len(rows) - 1


def test_wrong_journals_and_unavailable_backends_are_reported(tmp_path):
    backends = {
        "trace": TraceBackend(),
        "wrong-journal": WrongJournalBackend(),
        "moon": MoonBackend(),
        "needs-program": NeedsProgramBackend(),
        "other-profile": OtherProfileBackend(),
        "reporting": ReportingBackend(),
        "params-bits": ParamsBitsBackend(),
    }
    results = run_benchmark(_quick(batch_sizes=()), backends=backends)
    assert not results["ok"]
    # A verifier that needs the program gets it; a backend that cannot prove this guest is
    # reported as such, not as a failure.
    assert all(r["status"] == "ok" for r in results["proofs"] if r["backend"] == "needs-program")
    assert "another ABI profile" in results["backends"]["other-profile"]["unsupported"]
    assert "warmup_error" not in results["backends"]["other-profile"]
    wrong = results["backends"]["wrong-journal"]
    assert "wrong journal" in wrong["warmup_error"]
    assert not [r for r in results["proofs"] + results["batches"] if r["backend"] == "wrong-journal"]
    moon = results["backends"]["moon"]
    assert moon["available"] is False and "moon" in moon["reason"]
    assert not [r for r in results["proofs"] if r["backend"] == "moon"]
    assert all(r["status"] == "ok" for r in results["proofs"] if r["backend"] == "trace")
    write_results(results, tmp_path)
    md = (tmp_path / "compare.md").read_text()
    assert "| wrong-journal | failed |" in md and "wrong journal" in md
    assert "needs a prover on the moon" in md
    assert "| other-profile | cannot prove this guest |" in md
    assert "| reporting | measured | 101.5 bits (verifier-reported, conjectured) |" in md
    assert "| params-bits | measured | 104.0 bits (conjectured, from the receipts' params" in md
    # Both make real proofs: --quick measures them at the smallest workload only.
    for name, source in (("reporting", "verifier"), ("params-bits", "receipt")):
        mine = [r for r in results["proofs"] if r["backend"] == name]
        assert mine[0]["status"] == "ok" and mine[0]["security_source"] == source
        assert len(mine) >= 4 and all(r["status"] == "skipped" for r in mine[1:])
    # trace (dev mode) is measured everywhere
    assert sum(r["backend"] == "trace" and r["status"] == "ok" for r in results["proofs"]) >= 5
    assert all(r["security_bits"] is None for r in results["proofs"] if r["backend"] == "trace")
    assert "exit status is 1" in md


def test_a_backend_asked_for_by_name_that_cannot_run_is_refused_before_any_work():
    # `pyzkvm bench --backends risc0` without r0vm measured the trace baseline alone and exited 0
    from pyzkvm.benchmark.runner import resolve_backends
    from pyzkvm.errors import BackendUnavailable

    backends = {"trace": TraceBackend(), "moon": MoonBackend()}
    with pytest.raises(BackendUnavailable, match="--backends moon: .*moon"):
        resolve_backends(("moon",), backends)
    assert resolve_backends(None, backends)["moon"]["available"] is False  # by default: reported, not refused


def test_a_crashing_batch_worker_is_reported_not_hung(monkeypatch):
    monkeypatch.setenv("PYZKVM_TEST_BENCH_PARENT", str(os.getpid()))
    config = _quick(cycle_exponents=(), small_ns=(10,), batch_sizes=(2,), verify_reps=1, workers=2)
    results = run_benchmark(config, backends={"trace": TraceBackend(), "crashes-in-workers": CrashesInWorkersBackend()})
    batches = {(b["backend"], b["mode"]): b for b in results["batches"]}
    assert batches[("crashes-in-workers", "sequential")]["status"] == "ok"  # in-process: fine
    crashed = batches[("crashes-in-workers", "parallel")]
    assert crashed["status"] == "failed" and "worker process" in crashed["reason"]
    assert batches[("trace", "parallel")]["status"] == "ok"
    assert not results["ok"]


def test_without_matplotlib_the_report_says_so_and_drops_stale_plots(tmp_path, monkeypatch):
    config = _quick(cycle_exponents=(), batch_sizes=(), verify_reps=1)
    results = run_benchmark(config, backends={"trace": TraceBackend()})
    stale = tmp_path / "compare_prove_time.png"
    stale.write_bytes(b"old")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib...` raise ImportError
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    write_results(results, tmp_path)
    assert not stale.exists()
    assert "matplotlib is not installed" in (tmp_path / "compare.md").read_text()
    assert json.loads((tmp_path / "compare.json").read_text())["plots"] == []


# ---- bad input: one line, the right exit status ---------------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--budget", "0"], "--budget must be a positive"),
        (["--workers", "0"], "--workers must be at least 1"),
        (["--verify-reps", "0"], "--verify-reps must be at least 1"),
        (["--backends", "nosuch"], "unknown backend 'nosuch'"),
        (["--guest", "no/such/guest.elf"], "not found"),
        (["--out", "{tmp}/a-file"], "cannot use --out"),
    ],
)
def test_bad_options_are_one_line_usage_errors(argv, message, tmp_path, capsys):
    (tmp_path / "a-file").write_text("not a folder")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(["bench", "--quick", "--out", str(tmp_path), *argv]) == UsageError.exit_status
    err = capsys.readouterr().err.strip()
    assert err.startswith("pyzkvm: error: ") and message in err and "\n" not in err
    assert not (tmp_path / "compare.json").exists()


def test_a_results_folder_that_cannot_be_made_or_written_is_exit_1(tmp_path, capsys, monkeypatch):
    """A read-only file system or a folder without write permission is a file not written
    (exit 1, docs/limits.md), not a malformed command line (exit 2). Simulated: the suite may
    run as root, which a folder's mode does not stop."""
    import errno

    real_mkdir = Path.mkdir

    def read_only(self, *args, **kwargs):
        if self.name == "ro":
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    assert main(["bench", "--quick", "--out", str(tmp_path / "ro")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"pyzkvm: error: cannot create the results folder {tmp_path / 'ro'}: Read-only file system; " \
                  "give --out a folder you can write to"
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    assert main(["bench", "--quick", "--out", str(tmp_path)]) == 1
    assert "cannot write to the results folder" in capsys.readouterr().err


def test_bench_compare_script_is_the_same_command():
    run = subprocess.run(
        [sys.executable, str(REPO / "bench" / "compare.py"), "--budget", "-1"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 2
    assert run.stderr.strip() == "pyzkvm: error: --budget must be a positive number of seconds, got -1.0"
