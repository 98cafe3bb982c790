"""Distributed proving (pyzkvm/dist.py): Dask batches and segments give the same bytes as
sequential proving, a worker killed mid-task loses and duplicates nothing, and without Dask
the local-process fallback does the same."""

from __future__ import annotations

import os
import re
import sys
import uuid
from functools import partial
from pathlib import Path

import pytest

import pyzkvm
from pyzkvm import dist
from pyzkvm import inputs as I
from pyzkvm.errors import UsageError
from pyzkvm.program import Program

ROOT = Path(__file__).resolve().parent.parent
FIB = Program.from_elf(ROOT / "guests" / "bin" / "fibonacci.elf")
LINES = [(1, [I.u32(10)]), (2, [I.u32(300)]), (4, [I.u32(7)]), (5, [I.u32(1000)])]


def _sequential(lines):
    return {line: pyzkvm.prove(FIB, inputs, backend="trace").to_bytes() for line, inputs in lines}


def _receipts(out_dir: Path) -> dict[int, bytes]:
    return {int(p.stem.rsplit("-", 1)[1]): p.read_bytes() for p in out_dir.glob("*.receipt")}


def killing_prove_line(work: Path, program, line, inputs, backend, options):
    """prove_line, except that line 2's first attempt kills its own worker process
    (bind ``work``, a directory for the attempt log and the marker, with functools.partial)."""
    log = work / "attempts"
    log.mkdir(exist_ok=True)
    (log / f"{line}-{uuid.uuid4().hex}").touch()
    marker = work / f"killed-{line}"
    if line == 2 and not marker.exists():
        marker.touch()
        os._exit(1)  # the worker dies mid-task
    return dist.prove_line(program, line, inputs, backend, options)


#: LocalCluster options for tests: without them the scheduler's HTTP server takes port 8787
#: even with dashboard_address=None, and warns when another cluster holds it.
NO_DASHBOARD = {"dashboard_address": None, "scheduler_kwargs": {"dashboard": False, "dashboard_address": ":0"}}


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster: 2 single-threaded worker processes with a small memory limit."""
    distributed = pytest.importorskip("distributed", reason="the Dask tests need pyzkvm[dist]")
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests/
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, memory_limit="1GiB", silence_logs=50,
        **NO_DASHBOARD,
    ) as c:  # fmt: skip
        # no dashboard, and its HTTP server (health, metrics) on a free port, never the fixed 8787
        assert c.scheduler.http_server.port not in (0, 8787)
        yield c.scheduler_address


def test_dask_batch_is_byte_identical_to_sequential_proving(cluster, tmp_path):
    heard = []
    results = dist.prove_batch(FIB, LINES, tmp_path / "out", stem="fib", scheduler=cluster,
                               progress=lambda step, fraction: heard.append((step, fraction)))  # fmt: skip
    assert heard == [("starting workers", 0.0), ("receipt 1/4", 0.25), ("receipt 2/4", 0.5), ("receipt 3/4", 0.75),
                     ("receipt 4/4", 1.0)]  # fmt: skip
    assert [r.line for r in results] == [1, 2, 4, 5] and not any(r.error for r in results)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["fib-1.receipt", "fib-2.receipt", "fib-4.receipt", "fib-5.receipt"]
    assert _receipts(tmp_path / "out") == _sequential(LINES)


@pytest.mark.slow
def test_a_worker_killed_mid_task_loses_and_duplicates_nothing(cluster, tmp_path):
    out = tmp_path / "out"
    results = dist.prove_batch(FIB, LINES, out, stem="fib", scheduler=cluster, task=partial(killing_prove_line, tmp_path))
    assert (tmp_path / "killed-2").exists()  # the first attempt did die
    attempts = sorted(p.name.split("-")[0] for p in (tmp_path / "attempts").iterdir())
    assert attempts.count("2") == 2  # and line 2 ran again
    assert [r.line for r in results] == [1, 2, 4, 5] and not any(r.error for r in results)
    assert sorted(p.name for p in out.iterdir()) == ["fib-1.receipt", "fib-2.receipt", "fib-4.receipt", "fib-5.receipt"]
    assert _receipts(out) == _sequential(LINES)


def test_dask_segments_are_byte_identical_to_local_segmented_proving(cluster):
    inputs = [I.u32(1000)]
    heard = []
    receipt = dist.prove_segments(FIB, inputs, 3000, scheduler=cluster, progress=lambda *step: heard.append(step))
    assert [step for step, _ in heard] == ["execute: segment starts", "starting workers", *(f"segment {k}/6" for k in range(1, 7))]  # 17,778 cycles in 3,000s
    assert [fraction for _, fraction in heard] == sorted(fraction for _, fraction in heard) and heard[-1][1] == 1.0
    local = pyzkvm.prove(FIB, inputs, backend="trace", segment_cycles=3000)
    assert receipt.params["segments"] == 6
    assert receipt.to_bytes() == local.to_bytes()
    pyzkvm.verify(receipt, FIB.image_id, dev_mode=True)


def test_without_dask_batches_and_segments_fall_back_to_local_processes(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(dist, "dask_available", lambda: False)
    results = dist.prove_batch(FIB, LINES[:2], tmp_path, stem="fib", workers=2, task=partial(killing_prove_line, tmp_path))
    assert "Dask is not installed; proving on 2 local process(es)" in capsys.readouterr().err
    assert [r.line for r in results] == [1, 2] and not any(r.error for r in results)
    assert (tmp_path / "killed-2").exists()  # a process died; the pool was rebuilt and the line re-run
    assert _receipts(tmp_path) == _sequential(LINES[:2]) and len(list(tmp_path.glob("*.receipt"))) == 2
    receipt = dist.prove_segments(FIB, [I.u32(300)], 1000, workers=2)
    assert receipt.to_bytes() == pyzkvm.prove(FIB, [I.u32(300)], backend="trace", segment_cycles=1000).to_bytes()
    with pytest.raises(UsageError, match="--scheduler needs Dask"):
        dist.prove_batch(FIB, LINES[:1], tmp_path, scheduler="tcp://127.0.0.1:1")


def test_failing_runs_get_receipts_and_errors_are_reported_per_line(tmp_path, monkeypatch):
    monkeypatch.setattr(dist, "dask_available", lambda: False)
    results = dist.prove_batch(FIB, [(1, [I.u32(10)]), (2, [b"\x01"])], tmp_path / "a", stem="fib", workers=1)
    assert [(r.line, r.exit_code, r.error) for r in results] == [(1, 0, None), (2, 1, None)]  # a guest failure is a claim
    results = dist.prove_batch(FIB, [(1, [I.u32(10)]), (3, [I.u32(20)])], tmp_path / "b", stem="fib", workers=1,
                               options={"max_cycles": 50})  # fmt: skip
    assert [r.line for r in results] == [1, 3]
    assert all(r.path is None and "CycleLimitExceeded: " in r.error for r in results)
    assert list((tmp_path / "b").iterdir()) == []


def test_a_batchs_output_caps_reach_its_workers_and_its_check(tmp_path, monkeypatch):
    # options["caps"]: the runs on the workers (other processes) and the client's own run of each
    # line have them; the client process's default caps are what they were
    from pyzkvm.executor import host

    monkeypatch.setattr(dist, "dask_available", lambda: False)
    before = host._default_caps[0]
    results = dist.prove_batch(FIB, [(1, [I.u32(10)])], tmp_path, stem="fib", workers=1, options={"caps": {"journal": 1}})
    assert results[0].path is None and "--max-journal" in results[0].error, results[0]
    assert host._default_caps[0] == before and list(tmp_path.iterdir()) == []
    results = dist.prove_batch(FIB, [(1, [I.u32(10)])], tmp_path, stem="fib", workers=1, options={"caps": {"journal": 64}})
    assert results[0].error is None and results[0].exit_code == 0


def test_trace_segments_on_workers_run_under_the_runs_output_caps(monkeypatch):
    # every task gets the run's caps, and the task runs its segment under them (a cap raised for
    # the client alone made a worker refuse a segment the client had accepted)
    from pyzkvm.errors import PyzkvmError
    from pyzkvm.executor.segments import plan_segments, run_segment

    sent = []

    def tasks(task, program, args, **kw):
        sent.extend(args)
        raise KeyboardInterrupt  # (stop here)

    monkeypatch.setattr(dist, "_run_tasks", tasks)
    with pytest.raises(KeyboardInterrupt):
        dist.prove_segments(FIB, [I.u32(300)], 1000, caps={"journal": 64, "output": 10})
    assert len(sent) == 10 and all(a[-1] == {"journal": 64, "output": 10} for a in sent)
    starts = plan_segments(FIB, [I.u32(300)], 1000, max_cycles=1 << 20)
    writer = next(s for s in starts if run_segment(FIB, s, 1000, max_cycles=1 << 20).journal)  # (the 4th: 12 bytes)
    with pytest.raises(PyzkvmError, match="--max-journal"):
        dist.prove_segment_task(FIB, writer, 1000, 1 << 20, {"journal": 1})
    assert dist.prove_segment_task(FIB, writer, 1000, 1 << 20, {"journal": 64}) is not None


@pytest.mark.slow  # ~15 s: three hiding machine segments, each committed twice
def test_hiding_segments_from_the_cluster_tasks_close_the_blinding_ring(monkeypatch):
    """The cluster's tasks (commit_segment_task, prove_stark_segment_task), run in this process:
    each gets the statement's secret, its index and the segment count, so the blinding ring
    (stark/blind.py) closes over the segments and the hiding receipt verifies."""
    def in_process(fn, program, argument_lists, *, on_result=lambda i, r: r, **_options):
        return [on_result(i, fn(program, *args)) for i, args in enumerate(argument_lists)]

    monkeypatch.setattr(dist, "_run_tasks", in_process)
    receipt = dist.prove_stark_segments(FIB, [I.u32(10)], 2048, preset="insecure_fast_for_tests_zk")  # 5,898 cycles
    assert receipt.params["segments"] == 3 and receipt.params["zero_knowledge"] is True
    pyzkvm.verify(receipt, FIB.image_id, allow_insecure=True)


def test_cluster_segments_default_to_the_presets_fitting_segments(monkeypatch):
    """No segment_cycles: the run is cut as StarkBackend.prove cuts it (fitting_statements: the
    preset's default segments, halved while a table is too tall), not at a fixed length."""
    import pyzkvm.backends.stark as stark_backend

    def in_process(fn, program, argument_lists, *, on_result=lambda i, r: r, **_options):
        return [on_result(i, fn(program, *args)) for i, args in enumerate(argument_lists)]

    calls = []
    fitting = stark_backend.fitting_statements
    monkeypatch.setattr(dist, "_run_tasks", in_process)
    monkeypatch.setattr(stark_backend, "fitting_statements", lambda *a, **k: calls.append(a[2].name) or fitting(*a, **k))
    receipt = dist.prove_stark_segments(FIB, [I.u32(10)], preset="insecure_fast_for_tests")
    assert calls == ["insecure_fast_for_tests"] and receipt.params["segments"] == 1
    pyzkvm.verify(receipt, FIB.image_id, allow_insecure=True)


def test_a_cluster_receipt_that_does_not_verify_is_refused_on_the_client(monkeypatch):
    """The workers' roots and proofs go into the seal: the client verifies the assembled receipt,
    so a faulty worker's proof fails there with a message (a review, session 25), not later."""
    import dataclasses

    from pyzkvm.backends.stark import StarkBackend
    from pyzkvm.errors import BackendError

    def in_process(fn, program, argument_lists, *, on_result=lambda i, r: r, **_options):
        return [on_result(i, fn(program, *args)) for i, args in enumerate(argument_lists)]

    assembled = StarkBackend.receipt_from_proofs

    def one_bit_off(self, *args, **kwargs):  # as if a worker returned a damaged proof
        receipt = assembled(self, *args, **kwargs)
        seal = bytearray(receipt.seal)
        seal[-64] ^= 1
        return dataclasses.replace(receipt, seal=bytes(seal))

    monkeypatch.setattr(dist, "_run_tasks", in_process)
    monkeypatch.setattr(StarkBackend, "receipt_from_proofs", one_bit_off)
    with pytest.raises(BackendError, match="the workers returned do not verify"):
        dist.prove_stark_segments(FIB, [I.u32(10)], preset="insecure_fast_for_tests")


def lying_prove_line(mode: str, program, line, inputs, backend, options):
    """A faulty worker's prove_line (bind ``mode`` with functools.partial): a receipt of another
    input, an answer for another line, junk bytes, or an exception."""
    if mode == "other input":
        return dist.prove_line(program, line, [I.u32(5)], backend, options)
    if mode == "other line":
        return dist.prove_line(program, 1, inputs, backend, options)
    if mode == "junk":
        return dist.LineResult(line, None, 0, 1, receipt=b"junk")
    raise RuntimeError("boom")


@pytest.mark.parametrize("mode, error", [
    ("other input", "not of this line's run"),
    ("other line", "not line 4's result"),
    ("junk", "receipt does not verify"),
    ("raise", "its task failed on local worker process "),
])
def test_a_faulty_workers_batch_receipts_are_refused_by_the_client(mode, error, tmp_path, monkeypatch, capsys):
    """The client checks each worker's answer before writing it (dist.check_line_result): the
    receipt verifies against the program and claims the line's own run, and the file is named
    by the client's line number. A faulty worker's receipts were written and reported as proved
    (a receipt of another input even verifies: its claim does not bind the inputs), and a task
    that raised ended the batch with a traceback (a review, session 26)."""
    monkeypatch.setattr(dist, "dask_available", lambda: False)
    lines = [(4, [I.u32(10)]), (6, [I.u32(20)])]
    results = dist.prove_batch(FIB, lines, tmp_path, stem="fib", workers=1, task=partial(lying_prove_line, mode))
    assert [r.line for r in results] == [4, 6]
    assert all(r.path is None and r.error and (error if mode != "other line" else "its worker answered") in r.error
               for r in results), results
    assert list(tmp_path.iterdir()) == []
    if mode == "raise":  # where it failed (the worker's Dask address on a cluster) and why
        assert all(re.search(r"failed on local worker process \d+: RuntimeError: boom$", r.error) for r in results), results
    capsys.readouterr()
    honest = dist.prove_batch(FIB, lines, tmp_path, stem="fib", workers=1)
    assert [(r.line, r.error) for r in honest] == [(4, None), (6, None)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fib-4.receipt", "fib-6.receipt"]
    # the client's check of a trace receipt accepts nothing: no dev-mode warning per line
    assert "accepting a dev-mode receipt" not in capsys.readouterr().err


def _paused_instead(program, line, inputs, backend, options):
    """A faulty worker's prove_line: the receipt of the run on input 1 (which pauses) for any line."""
    return dist.prove_line(program, line, [b"\1"], backend, options)


def test_a_workers_receipt_of_a_paused_run_is_not_written_for_a_line_whose_run_finished(tmp_path, monkeypatch):
    """A RISC Zero-profile guest whose HALT type is its input byte: input 0 finishes, input 1
    pauses, with the same journal (none), exit code (0) and cycles. The client compares the halt
    type too (the stark receipt's params, bound by its proof): a worker's paused-run receipt was
    written for line 1 and reported as proved with exit code 0 (a review, session 33)."""
    from pyzkvm.executor.risc0 import output_digest
    from tests.rvasm import asm, flatten, program
    from tests.test_executor_risc0 import BUF, DIGEST, NAMES, data, regs

    code = flatten([regs(a0=BUF, a1=0, a2=NAMES, a3=0, a4=1, t6=12, t0=2), asm.ecall(),  # a1 <- one input byte
                    asm.add(10, 11, 0), regs(a1=DIGEST, t0=0), asm.ecall()])  # HALT type = that byte
    pausing = program(code, data=data(output_digest(b"")), abi="risc0")
    runs = [pyzkvm.execute(pausing, [b]) for b in (b"\0", b"\1")]
    assert [(e.journal, e.exit_code, e.cycles, e.halt_type) for e in runs] == [(b"", 0, runs[0].cycles, 0),
                                                                               (b"", 0, runs[0].cycles, 1)]
    monkeypatch.setattr(dist, "dask_available", lambda: False)
    options = {"preset": "insecure_fast_for_tests"}
    results = dist.prove_batch(pausing, [(1, [b"\0"])], tmp_path, stem="p", backend="stark", options=options,
                               workers=1, task=_paused_instead)
    assert results[0].path is None and "halt type" in results[0].error, results
    assert list(tmp_path.iterdir()) == []
    paused = dist.prove_batch(pausing, [(2, [b"\1"])], tmp_path, stem="p", backend="stark", options=options,
                              workers=1, task=_paused_instead)  # (the line whose run pauses: its own receipt)
    assert paused[0].error is None and paused[0].exit_code == 0, paused


def test_a_batch_that_must_not_overwrite_leaves_a_file_that_appeared_meanwhile(tmp_path, monkeypatch):
    """overwrite=False (prove-batch without --force): a receipt file that another batch wrote
    after the up-front check is that line's failure, never replaced (two batches into one folder
    replaced each other's receipts: a review, session 26)."""
    monkeypatch.setattr(dist, "dask_available", lambda: False)
    (tmp_path / "fib-4.receipt").write_bytes(b"another batch's")
    results = dist.prove_batch(FIB, [(4, [I.u32(10)]), (6, [I.u32(20)])], tmp_path, stem="fib", workers=1,
                               overwrite=False)
    assert "appeared during the batch" in results[0].error and results[1].error is None
    assert (tmp_path / "fib-4.receipt").read_bytes() == b"another batch's"


def test_trace_segments_from_workers_must_add_up_to_the_run(monkeypatch):
    """A worker that appended to its segment's journal (the claim made consistent) produced a
    receipt that passed the trace check; the client now compares the assembled claim with its
    own run of the program and refuses (a review, session 26)."""
    import dataclasses
    import hashlib

    from pyzkvm.errors import BackendError

    def in_process(fn, program, argument_lists, *, on_result=lambda i, r: r, **_options):
        return [on_result(i, fn(program, *args)) for i, args in enumerate(argument_lists)]

    def evil(program, start, segment_cycles, max_cycles, caps):
        seg = dist.prove_segment_task(program, start, segment_cycles, max_cycles, caps)
        if seg.claim.halted:
            j = seg.journal + b"EVIL"
            seg = dataclasses.replace(seg, journal=j, claim=dataclasses.replace(
                seg.claim, journal_len=len(j), journal_digest=hashlib.sha256(j).digest()))
        return seg

    monkeypatch.setattr(dist, "_run_tasks", lambda fn, *a, **k: in_process(evil, *a, **k))
    with pytest.raises(BackendError, match="do not add up to this run"):
        dist.prove_segments(FIB, [I.u32(1000)], 4000)


def _misplaced_segment(mode: str, kept: dict, program, start, segment_cycles, max_cycles, caps):
    """A faulty trace-segment worker (bind ``mode`` and a dict with functools.partial): segment 1
    answered with segment 0's receipt, another position, another end state, another program's
    image ID, another row count, or something that is not a segment receipt."""
    import dataclasses

    seg = dist.prove_segment_task(program, start, segment_cycles, max_cycles, caps)
    kept[seg.claim.index] = seg
    if seg.claim.index != 1:
        return seg
    claim = seg.claim
    if mode == "duplicate":
        return kept[0]
    if mode == "index":
        return dataclasses.replace(seg, claim=dataclasses.replace(claim, index=7))
    if mode == "end state":
        return dataclasses.replace(seg, claim=dataclasses.replace(claim, end=dataclasses.replace(claim.end, pc=claim.end.pc + 4)))
    if mode == "image":
        return dataclasses.replace(seg, claim=dataclasses.replace(claim, image_id=bytes(32)))
    if mode == "rows":
        return dataclasses.replace(seg, n_rows=seg.n_rows + 1)
    return "junk"


@pytest.mark.parametrize("mode", ["duplicate", "index", "end state", "image", "rows", "junk"])
def test_trace_segments_from_workers_must_be_the_runs_segments_in_order(mode, monkeypatch):
    """Each worker's segment receipt is compared with the client's plan (its position, start and
    end states, journal chunk, image ID) and the assembled receipt verified before it is returned:
    a duplicated, misplaced or foreign segment whose journal and last segment were right made a
    receipt the client wrote and reported as proved, which ``pyzkvm verify --dev-mode`` refused
    (a review, session 33)."""
    from pyzkvm.errors import BackendError

    def in_process(fn, program, argument_lists, *, on_result=lambda i, r: r, **_options):
        return [on_result(i, fn(program, *args)) for i, args in enumerate(argument_lists)]

    faulty = partial(_misplaced_segment, mode, {})
    monkeypatch.setattr(dist, "_run_tasks", lambda fn, *a, **k: in_process(faulty, *a, **k))
    with pytest.raises(BackendError, match="(segment 1's worker returned|do not verify).*a faulty worker"):
        dist.prove_segments(FIB, [I.u32(1000)], 4000)
    if mode != "junk":
        return
    monkeypatch.setattr(dist, "_run_tasks", in_process)  # the honest workers' receipt: as proving here
    honest = dist.prove_segments(FIB, [I.u32(1000)], 4000)
    assert honest.to_bytes() == pyzkvm.prove(FIB, [I.u32(1000)], backend="trace", segment_cycles=4000).to_bytes()


def _failing_task(program, n):
    if n == 2:
        raise ValueError("bad segment")
    return n


def test_a_task_that_raises_names_the_worker_it_failed_on(monkeypatch):
    """A task's exception reaches the client as one line saying where it ran — a Dask worker's
    address, or the local process — beside the error (it said only 'failed on its worker')."""
    monkeypatch.setattr(dist, "dask_available", lambda: False)
    with pytest.raises(pyzkvm.errors.PyzkvmError) as info:
        dist._run_tasks(_failing_task, FIB, [(1,), (2,), (3,)], scheduler=None, workers=1, retries=0)
    assert re.fullmatch(r"task 2 failed on local worker process \d+: ValueError: bad segment", str(info.value))
    assert dist._run_tasks(_failing_task, FIB, [(1,), (3,)], scheduler=None, workers=1, retries=0) == [1, 3]
