"""Distributed proving: many input sets (a batch), or one long run's segments, as parallel tasks.

Both run on Dask (``pip install 'pyzkvm[dist]'``): on a ``LocalCluster`` of this machine's
cores by default, or on an existing cluster given its scheduler address. Without Dask they
fall back to local processes (``concurrent.futures``) and say so on stderr.

What a worker receives is only what its task needs: the Program (its loaded segments, sent
once per worker with ``scatter(broadcast=True)``), and either one line's input set or one
segment's SegmentStart (boundary state, non-zero memory pages, remaining inputs).

Failures: a worker that dies mid-task is replaced and its task re-run (Dask reschedules tasks
lost with a worker; ``retries=`` re-runs tasks that raised); a task that still fails, or whose
worker is lost for good, is that line's error (a batch) or one line (segments), not a
traceback. That cannot lose or duplicate a receipt: each line's receipt is written once,
atomically (temporary file, then rename), to a path keyed by the client's line number.

Trust: the client checks what workers return before writing anything — a batch line's receipt
must verify against the program and claim the line's own run as the client executes it
(check_line_result), the segments' assembled receipt must verify (stark), or be the client's
planned segments, in order, chaining to the run's claim (trace: check_worker_segments). Workers still see the inputs (and a hiding proof's randomness), and Dask unpickles
their results here: give --scheduler only a cluster you trust. See docs/distributed.md.

Progress: each entry point takes ``progress(step, fraction)`` (the backends' callback) and
reports its phases and each task as it completes ("receipt 3/10", "proved segment 2/4").
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from .backends.base import ProgressCallback as Progress  # progress(step, fraction in [0, 1])
from .errors import BackendError, PyzkvmError, UsageError, VerificationError
from .fileio import write_atomically
from .host import usable_cpus
from .program import Program

if TYPE_CHECKING:  # for annotations only: importing the stark package loads numba (imported lazily below)
    from .stark.rounds import PublicData

#: Times a task is re-run after it raised or its worker died (Dask ``retries=``; fallback pools).
DEFAULT_RETRIES = 2

def _quiet(step: str, fraction: float) -> None:
    """The progress callback when nobody listens."""


def counting_results(progress: Progress, what: str, total: int, start: float, end: float,
                     on_result: Callable = lambda index, result: result) -> Callable:
    """An ``on_result`` for _run_tasks that, after ``on_result``, reports "WHAT k/TOTAL" as the
    k-th result arrives, its fraction moving from ``start`` to ``end``."""
    done = 0

    def counted(index: int, result):
        nonlocal done
        kept = on_result(index, result)
        done += 1
        progress(f"{what} {done}/{total}", start + (end - start) * done / total)
        return kept

    return counted


def dask_available() -> bool:
    """Whether dask.distributed can be imported here."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class LineResult:
    """The outcome of proving one line of a batch: where its receipt went, or why it failed."""

    line: int
    path: str | None
    exit_code: int | None = None
    cycles: int | None = None
    error: str | None = None
    receipt: bytes | None = field(default=None, repr=False)  # the encoded receipt, on its way to the client


def receipt_path(out_dir: str | os.PathLike, stem: str, line: int) -> Path:
    """Where line ``line``'s receipt goes: ``DIR/<stem>-<line>.receipt`` (idempotent key)."""
    return Path(out_dir) / f"{stem}-{line}.receipt"


# ---- the tasks (run on workers) ----------------------------------------------------------------


def prove_line(program: Program, line: int, inputs: Sequence[bytes], backend: str, options: dict) -> LineResult:
    """Prove one input set; return its encoded receipt (the client writes it).

    A guest or proving error is returned as the line's ``error`` (not raised: it would fail
    the same way on every retry, and pickled exception types may not survive the trip).
    ``options["caps"]``: the output caps of the run (executor.host.default_caps), the rest go
    to the backend."""
    from .api import prove
    from .executor.host import default_caps

    options = dict(options)
    try:
        with default_caps(**options.pop("caps", {})):
            receipt = prove(program, list(inputs), backend=backend, **options)
    except PyzkvmError as exc:
        return LineResult(line, None, error=f"{type(exc).__name__}: {exc}")
    return LineResult(line, None, receipt.claim.exit_code, receipt.claim.cycles, receipt=receipt.to_bytes())


def prove_segment_task(program: Program, start, segment_cycles: int, max_cycles: int, caps: dict | None = None):
    """Resume at one segment's start state, trace it under the run's output ``caps``
    (executor.host.default_caps), and return its segment receipt."""
    from .backends.trace_segments import prove_segment
    from .executor.host import default_caps
    from .executor.segments import run_segment

    with default_caps(**(caps or {})):
        execution = run_segment(program, start, segment_cycles, capture_trace=True, max_cycles=max_cycles)
    return prove_segment(program.image_id, execution)


# ---- schedulers ------------------------------------------------------------------------------


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None, *, memory_limit: str | int = "auto"):
    """A dask.distributed Client: on ``scheduler`` when given, else on a new LocalCluster of
    ``workers`` single-threaded worker processes (default: one per CPU this process may use, host.usable_cpus)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--scheduler needs Dask: pip install 'pyzkvm[dist]'") from None
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise PyzkvmError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        except (ValueError, TypeError) as exc:  # (Dask parses the address: "missing port number", a bad scheme)
            raise UsageError(f"bad --scheduler address {scheduler!r} ({exc}): give tcp://HOST:PORT") from None
        with client:
            yield client
        return
    n = local_workers(workers)
    with LocalCluster(
        n_workers=n, threads_per_worker=1, processes=True, memory_limit=memory_limit,
        # dashboard on a free port, never the fixed 8787 (dashboard_address=None alone still binds it)
        # the workers' own logs silenced up to ERROR (50: CRITICAL only): at the cluster's close a
        # worker's heartbeat may still find the scheduler gone and log the closed stream at ERROR,
        # with a traceback, on the command's stderr after its last line; a task's failure reaches
        # the client as its future's exception (_run_tasks) and is reported there, one line
        scheduler_kwargs={"dashboard": False, "dashboard_address": ":0"}, silence_logs=50,
    ) as cluster, Client(cluster) as client:  # fmt: skip
        yield client


#: local worker processes per core at most (each imports pyzkvm and holds a segment's tables)
MAX_WORKERS_PER_CPU = 4


def local_workers(workers: int | None) -> int:
    """The local worker processes for ``--workers`` (default: one per CPU this process may use, host.usable_cpus): refused
    above MAX_WORKERS_PER_CPU per core, where the processes would only exhaust memory."""
    if workers is not None:
        refuse_too_many_workers(workers, ", or --scheduler for a cluster")
    return workers or usable_cpus()


def refuse_too_many_workers(workers: int, instead: str = "") -> None:
    """UsageError for ``workers`` local processes above MAX_WORKERS_PER_CPU per CPU this process
    may use (host.usable_cpus: a container's affinity and CPU quota); ``instead``: what else
    the command offers (prove's and prove-batch's --scheduler)."""
    cpus = usable_cpus()
    if workers > MAX_WORKERS_PER_CPU * cpus:
        raise UsageError(f"--workers {workers} is more than {MAX_WORKERS_PER_CPU} worker processes per core "
                         f"({cpus} here): give at most {MAX_WORKERS_PER_CPU * cpus}{instead}")


def check_cluster_options(workers: int | None, scheduler: str | None) -> None:
    """--workers / --scheduler as the commands take them, checked before any work: one of the
    two, a positive count, at most MAX_WORKERS_PER_CPU per core (local_workers)."""
    if workers is not None and scheduler:
        raise UsageError("--workers starts a local cluster and --scheduler names an existing one: give one of them")
    if workers is not None and workers <= 0:
        raise UsageError(f"--workers must be positive, got {workers}")
    local_workers(workers)


def _note_fallback(workers: int) -> None:
    print(
        f"pyzkvm: note: Dask is not installed; proving on {workers} local process(es) "
        "(pip install 'pyzkvm[dist]' for Dask clusters)",
        file=sys.stderr,
    )


class WorkerTaskError(PyzkvmError):
    """A task raised on a worker: the message names the worker and the error (_on_worker)."""


def _on_worker(fn: Callable, *args):
    """Run one task where it was sent; an exception it raises is re-raised naming the worker
    (its Dask address, or the local process), so the client's one line says where it failed."""
    try:
        return fn(*args)
    except Exception as exc:
        raise WorkerTaskError(f"on {_worker_name()}: {type(exc).__name__}: {exc}") from None


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return f"worker {get_worker().address}"
    except (ImportError, ValueError):  # (not inside a Dask worker: a process of the local fallback pool)
        return f"local worker process {os.getpid()}"


def task_failure(exc: BaseException) -> str:
    """What a task's exception says on the client: where it failed and why (a lost worker's
    CancelledError names no worker)."""
    if isinstance(exc, WorkerTaskError):
        return f"failed {exc}"
    return f"failed on its worker: {type(exc).__name__}: {exc}"


def _task_failed(index: int, exc: BaseException):
    """The default ``on_error`` of _run_tasks: a task that raised (after its retries), or whose
    worker was lost, ends the command with one line."""
    raise PyzkvmError(f"task {index + 1} {task_failure(exc)}")


def _run_tasks(
    fn: Callable, program: Program, argument_lists: list[tuple], *, scheduler, workers, retries,
    memory_limit="auto", on_result: Callable = lambda index, result: result, on_error: Callable = _task_failed,
):  # fmt: skip
    """Run ``fn(program, *args)`` for every args tuple; ``on_result(index, result)`` sees each
    result as it arrives (in completion order) and what it returns is kept; return those in order.
    A task that raised after its retries, or whose worker was lost (a cancelled future), goes to
    ``on_error(index, exception)`` instead (default: a one-line PyzkvmError). Each result is let go
    once handled: a batch's receipts do not pile up on the workers or here."""
    results: dict[int, object] = {}
    if dask_available():
        from distributed import as_completed

        with dask_client(scheduler, workers, memory_limit=memory_limit) as client:
            shared = client.scatter(program, broadcast=True)
            futures = {
                client.submit(_on_worker, fn, shared, *args, retries=retries, pure=False): i
                for i, args in enumerate(argument_lists)
            }  # fmt: skip
            for future in as_completed(list(futures)):
                i = futures.pop(future)
                try:
                    result = future.result()
                except Exception as exc:  # (the worker's exception, or CancelledError: its worker and data lost)
                    results[i] = on_error(i, exc)
                else:
                    results[i] = on_result(i, result)
                future.release()
        return [results[i] for i in range(len(argument_lists))]
    if scheduler:
        raise UsageError("--scheduler needs Dask: pip install 'pyzkvm[dist]'")
    n = min(local_workers(workers), len(argument_lists) or 1)
    _note_fallback(n)
    from concurrent.futures import as_completed as completed

    for _attempt in range(retries + 1):  # a dead process breaks the pool: re-run what is missing
        pending = [i for i in range(len(argument_lists)) if i not in results]
        if not pending:
            break
        pool = ProcessPoolExecutor(max_workers=n)
        try:
            submitted = {pool.submit(_on_worker, fn, program, *argument_lists[i]): i for i in pending}
            for f in completed(list(submitted)):
                i = submitted.pop(f)
                try:
                    result = f.result()
                except BrokenProcessPool:
                    raise
                except Exception as exc:
                    results[i] = on_error(i, exc)
                else:
                    results[i] = on_result(i, result)
        except BrokenProcessPool:
            continue
        except BaseException:  # an interrupt, or on_error's exception: the queued tasks are not run, the running ones stopped
            processes = list((getattr(pool, "_processes", None) or {}).values())  # (shutdown sets it to None)
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            raise
        finally:
            pool.shutdown(wait=True)
    missing = [i for i in range(len(argument_lists)) if i not in results]
    if missing:
        raise PyzkvmError(f"{len(missing)} task(s) failed after {retries + 1} attempts: their worker processes died")
    return [results[i] for i in range(len(argument_lists))]


# ---- public entry points -----------------------------------------------------------------------


def prove_batch(
    program: Program,
    input_sets: Sequence[tuple[int, Sequence[bytes]]],
    out_dir: str | os.PathLike,
    *,
    stem: str | None = None,
    backend: str = "trace",
    options: dict | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    retries: int = DEFAULT_RETRIES,
    memory_limit: str | int = "auto",
    task: Callable = prove_line,
    progress: Progress = _quiet,
    overwrite: bool = True,
) -> list[LineResult]:
    """Prove each ``(line, inputs)`` of ``input_sets`` as one task; write ``DIR/<stem>-<line>.receipt``.

    Each receipt is written here, atomically, as soon as its task finishes and the client has
    checked it (check_line_result: a worker is not trusted with what the file says), so workers
    need no shared filesystem. ``overwrite=False``: a file that is there already (another batch
    writing to the same folder) is that line's failure, never replaced. Returns one LineResult
    per input set, in the given order (without the receipt bytes). ``task`` is the function each
    task runs (``prove_line``'s signature); tests wrap it to kill workers. ``progress`` hears
    "starting workers", then "receipt k/n" per finished line."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = stem or program.name
    options = dict(options or {})
    args = [(line, list(inputs), backend, options) for line, inputs in input_sets]

    def write_receipt(index: int, result) -> LineResult:
        line, inputs = input_sets[index]
        result = check_line_result(program, line, inputs, backend, options, result)
        if result.receipt is None:
            return result
        path = receipt_path(out_dir, stem, line)  # (the client's line number, not the worker's)
        try:
            write_atomically(path, result.receipt, overwrite=overwrite)
        except FileExistsError:
            return replace(result, receipt=None, error=f"{path} appeared during the batch (another batch writing "
                                                       "there?): not replaced without --force")
        except OSError as exc:
            return replace(result, receipt=None, error=f"cannot write {path}: {exc.strerror or exc}")
        return replace(result, path=str(path), receipt=None)

    if not args:
        return []
    progress("starting workers", 0.0)
    counted = counting_results(progress, "receipt", len(args), 0.0, 1.0, write_receipt)
    return _run_tasks(
        task, program, args, scheduler=scheduler, workers=workers, retries=retries, memory_limit=memory_limit,
        on_result=counted, on_error=counted,  # (a task's exception is that line's failure: check_line_result)
    )  # fmt: skip


def check_line_result(program: Program, line: int, inputs: Sequence[bytes], backend: str, options: dict,
                      result) -> LineResult:
    """A worker's answer for one batch line as the client accepts it: a LineResult for this line
    whose receipt is of the backend and preset asked for, verifies against the program (for
    integrity: a test preset or a dev-mode receipt is what the batch asked for), and claims this
    line's run — the journal, exit code, cycles, assumptions and (stated by a stark receipt) halt
    type of the client's own execution of the line
    (~300 M instructions/s here, nothing beside proving): a claim does not bind the inputs, so
    a receipt of another input would verify. Anything else is the line's error, not written
    (a faulty worker's receipts were written and reported as proved: a review, session 26)."""
    from .api import execute, verify_integrity
    from .executor.host import default_caps
    from .receipt import Receipt

    if isinstance(result, BaseException):  # (the task raised after its retries, or its worker was lost)
        return LineResult(line, None, error=f"its task {task_failure(result)}")
    if not isinstance(result, LineResult) or result.line != line:
        return LineResult(line, None, error=f"its worker answered {type(result).__name__} "
                                            f"{getattr(result, 'line', '')}, not line {line}'s result")
    if result.receipt is None:
        return replace(result, receipt=None)
    try:
        receipt = Receipt.from_bytes(result.receipt)
        if receipt.backend != backend:
            raise VerificationError(f"a {receipt.backend!r} receipt for a {backend!r} batch")
        verified = verify_integrity(receipt, program)
        if backend == "stark":
            from .backends.stark import config_for_preset

            wanted = config_for_preset(options.get("preset"), options.get("zk")).name
            if verified.report.preset != wanted:
                raise VerificationError(f"preset {verified.report.preset!r}, the batch asked for {wanted!r}")
    except PyzkvmError as exc:
        return LineResult(line, None, error=f"its worker's receipt does not verify ({exc}): not written")
    try:
        with default_caps(**options.get("caps", {})):  # (the caps the worker ran it with: prove_line)
            run = execute(program, inputs, **({"max_cycles": options["max_cycles"]} if "max_cycles" in options else {}))
    except PyzkvmError as exc:
        return LineResult(line, None, error=f"its worker sent a receipt, but the line's run fails here ({exc}): not written")
    if not _claims_run(receipt, run):
        return LineResult(line, None, error="its worker's receipt is not of this line's run (its journal, exit code, "
                                            "cycles, assumptions or halt type differ from the run here): not written")
    return LineResult(line, None, receipt.claim.exit_code, receipt.claim.cycles, receipt=result.receipt)


def _claims_run(receipt, run) -> bool:
    """Whether ``receipt`` claims the journal, exit code, cycles and assumptions of ``run`` (an
    Execution), and — where its params state one (stark, RISC Zero profile: bound by the proof) —
    its halt type: a receipt of a run that paused (HALT type 1) has the exit code 0 and may have
    the journal and cycles of one that finished (a worker's paused-run receipt was written for a
    line whose run finished, and reported as proved: a review, session 33)."""
    halt_type = receipt.params.get("halt_type", run.halt_type or 0)
    assumptions = tuple((bytes(i), bytes(d)) for i, d in run.assumptions)
    return ((run.journal, run.exit_code, run.cycles, assumptions, run.halt_type or 0)
            == (receipt.journal, receipt.claim.exit_code, receipt.claim.cycles, receipt.claim.assumptions, halt_type))


def prove_segments(
    program: Program,
    inputs: Sequence[bytes],
    segment_cycles: int,
    *,
    max_cycles: int | None = None,
    caps: dict | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    retries: int = DEFAULT_RETRIES,
    memory_limit: str | int = "auto",
    progress: Progress = _quiet,
):
    """A segmented trace-backend receipt whose segments are traced and digested on workers.

    A fast pass without traces finds every segment's start state here; each worker resumes
    one segment from its state. The result is byte-identical to
    ``prove(program, inputs, backend="trace", segment_cycles=segment_cycles)``. ``caps``: the
    run's output caps (--max-output/--max-journal/--max-hint), here and on the workers."""
    from .backends.trace import TraceBackend
    from .backends.trace_segments import assemble_segmented_receipt
    from .executor.host import default_caps
    from .executor.run import DEFAULT_MAX_CYCLES
    from .executor.segments import plan_segments

    max_cycles = max_cycles or DEFAULT_MAX_CYCLES
    caps = dict(caps or {})
    progress("execute: segment starts", 0.0)
    with default_caps(**caps):
        starts = plan_segments(program, inputs, segment_cycles, max_cycles=max_cycles)
    args = [(start, segment_cycles, max_cycles, caps) for start in starts]
    progress("starting workers", 0.1)
    segments = _run_tasks(
        prove_segment_task, program, args, scheduler=scheduler, workers=workers, retries=retries,
        memory_limit=memory_limit, on_result=counting_results(progress, "segment", len(args), 0.1, 1.0),
    )  # fmt: skip
    check_worker_segments(program, starts, segments)
    receipt = assemble_segmented_receipt(TraceBackend(), program, segments, segment_cycles)
    # the workers are not trusted with the claim: it must be the run's, as executed here (a worker
    # that appended to its segment's journal made a receipt that passed the trace check: session 26)
    from .api import execute, verify_integrity

    with default_caps(**caps):
        run = execute(program, inputs, max_cycles=max_cycles)
    if not _claims_run(receipt, run):
        raise BackendError("the segments the workers returned do not add up to this run (journal, exit code or cycles "
                           "differ from the run here): a faulty worker; nothing written")
    try:  # the chain (positions, boundary states, rows, journal chunks) as pyzkvm verify --dev-mode checks it
        verify_integrity(receipt, program)
    except VerificationError as exc:
        raise BackendError(f"the segments the workers returned do not verify ({exc}): a faulty worker; "
                           "nothing written") from None
    return receipt


def check_worker_segments(program: Program, starts: Sequence, segments: Sequence) -> None:
    """BackendError unless every worker's segment receipt is the one the client's plan asked for:
    of this program, at its position, starting in the state the fast pass found for it, ending
    where the next segment starts (the last one halting), with the journal chunk the fast pass
    saw written in it. A duplicated, reordered, foreign or misplaced segment whose journal and
    last segment were right made a receipt the client wrote and reported as proved, which
    ``pyzkvm verify --dev-mode`` then refused (a review, session 33). The trace digest is the
    worker's word (only a replay recomputes it): dev mode is an integrity check."""
    from .backends.trace_segments import SegmentReceipt

    if len(segments) != len(starts):
        raise BackendError(f"the workers returned {len(segments)} segment receipts for {len(starts)} segments: "
                           "a faulty worker; nothing written")
    for i, seg in enumerate(segments):
        last = i == len(starts) - 1
        if not isinstance(seg, SegmentReceipt):
            why = f"a {type(seg).__name__}, not a segment receipt"
        elif seg.claim.image_id != program.image_id:
            why = f"a segment of image {seg.claim.image_id.hex()}, not this program's"
        elif seg.claim.index != i:
            why = f"segment {seg.claim.index}'s receipt"
        elif seg.claim.start != starts[i].state:
            why = "a segment that starts in another state than the run's"
        elif not last and (seg.claim.halted or seg.claim.end != starts[i + 1].state):
            why = "a segment that ends in another state than the next one starts in"
        elif last and not seg.claim.halted:
            why = "a last segment that does not halt"
        elif not last and seg.journal != starts[i + 1].journal[len(starts[i].journal):]:
            why = "a segment whose journal chunk is not the run's"
        else:
            continue
        raise BackendError(f"segment {i}'s worker returned {why}: a faulty worker; nothing written")


# ---- STARK continuations on workers ------------------------------------------------------------

_PROVING_KEYS: dict = {}


def _proving_key(program: Program, preset: str):
    """The machine's proving key for this program and preset, set up once per worker process."""
    key = (program.circuit_key, preset)
    if key not in _PROVING_KEYS:
        from .backends.stark import config_for_preset
        from .machine import build_chips
        from .stark import setup

        _PROVING_KEYS.clear()  # one program at a time: a key holds the program's LDEs
        _PROVING_KEYS[key] = setup(config_for_preset(preset), build_chips(program).airs)
    return _PROVING_KEYS[key]


def commit_segment_task(program: Program, preset: str, traces: list, zk_secret: bytes, k: int, count: int) -> bytes:
    """Step 1 on a worker: one segment's main-trace root (stark/joint.py). ``zk_secret``, k,
    count: the statement's hiding-mode secret, the segment's index and the number of segments
    (the blinding ring closes over them, stark/blind.py; step 3 recommits alike)."""
    from .stark.prover import commit_main
    from .stark.zk import ZkRandomness

    return commit_main(_proving_key(program, preset), traces, rng=ZkRandomness(zk_secret, k, count)).root


def prove_stark_segment_task(program: Program, preset: str, traces: list, public_values: list, public_data,
                             challenges, zk_secret: bytes, k: int, count: int) -> bytes:
    """Step 3 on a worker: one segment's proof under the statement's bus challenges."""
    from .stark.prover import commit_main, prove_segment
    from .stark.zk import ZkRandomness

    pk = _proving_key(program, preset)
    main = commit_main(pk, traces, rng=ZkRandomness(zk_secret, k, count))
    return prove_segment(pk, main, public_values, public_data, challenges).to_bytes()


class ClusterSegments:
    """stark.joint's steps 1 and 3 as tasks on a cluster: each worker gets one segment's traces
    (and public values, public data and the bus challenges for step 3)."""

    def __init__(self, program: Program, preset: str, progress: Progress = _quiet, **options):
        from .stark.zk import ZkRandomness

        self.program, self.preset, self.progress, self.options = program, preset, progress, options
        self.zk_secret = ZkRandomness.secret_from_seed(None)  # hiding mode: the statement's secret

    def commit(self, statements) -> list:
        counted = counting_results(self.progress, "committed segment", len(statements), 0.3, 0.4)
        return _run_tasks(commit_segment_task, self.program,
                          [(self.preset, traces, self.zk_secret, k, len(statements))
                           for k, (traces, _pv) in enumerate(statements)],
                          on_result=counted, **self.options)

    def prove(self, statements, public_data: PublicData, challenges) -> list:
        from .stark.proof import decode_proof

        counted = counting_results(self.progress, "proved segment", len(statements), 0.4, 1.0)
        proofs = _run_tasks(prove_stark_segment_task, self.program,
                            [(self.preset, traces, pv, public_data, challenges, self.zk_secret, k, len(statements))
                             for k, (traces, pv) in enumerate(statements)],
                            on_result=counted, **self.options)
        return [decode_proof(p) for p in proofs]


def prove_stark_segments(
    program: Program,
    inputs: Sequence[bytes],
    segment_cycles: int | None = None,
    *,
    preset: str = "default",
    zk: bool | None = None,
    max_cycles: int | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    retries: int = DEFAULT_RETRIES,
    memory_limit: str | int = "auto",
    progress: Progress = _quiet,
):
    """A segmented stark receipt whose segments are committed and proved on workers.

    The client executes the run and builds every segment's tables (they need each other's
    memory state, so this part is sequential); then, as tasks, every segment's main traces are
    committed (phase 1), the joint bus challenges are drawn here from all roots, and every
    segment is proved under them (phase 2). A worker receives one segment's traces and public
    values (and the journal and assumptions in phase 2). Composed runs (assumptions) are
    refused here: prove them with StarkBackend.prove, which attaches the inner receipts. The receipt is byte-identical to
    ``prove(program, inputs, backend="stark", segment_cycles=segment_cycles, preset=preset, zk=zk)``
    except for the hiding mode's randomness (a hiding receipt is never byte-identical to another).
    ``segment_cycles=None``: the preset's default segments, halved while a table is too tall
    (backends.stark.fitting_statements), as ``prove`` does."""
    from .backends.stark import (StarkBackend, build_statements, check_security_of_heights, config_for_preset,
                                 fitting_statements)
    from .machine.image_id import other_circuit_digests
    from .stark import joint, setup

    config = config_for_preset(preset, zk)
    progress("execute and build the segment tables", 0.0)
    run = (fitting_statements(program, inputs, config, max_cycles) if segment_cycles is None
           else build_statements(program, inputs, segment_cycles, max_cycles))
    check_security_of_heights(run, config)
    if run.assumptions:
        raise UsageError("this guest verifies other receipts (VERIFY_SP1_PROOF): prove it with "
                         "pyzkvm.prove(..., assumptions=[...]) rather than on a cluster")
    progress("setup", 0.25)
    pk = setup(config, run.chips.airs)
    check_security_of_heights(run, config, pk.verifying_key)  # now with the key: the statement's bus entries < p
    progress("starting workers", 0.3)
    segments = ClusterSegments(program, config.name, progress, scheduler=scheduler, workers=workers, retries=retries,
                               memory_limit=memory_limit)
    proofs = joint.prove(pk, run.statements, run.public_data, segments=segments)
    others = other_circuit_digests(program, pk.verifying_key)  # the image ID's other blowups, for the seal
    backend = StarkBackend()
    receipt = backend.receipt_from_proofs(run, config, pk.verifying_key, proofs, others=others)
    # the workers' roots and proofs, checked here (~10 ms a segment): a faulty worker's receipt
    # fails now, with a message, not later at whoever verifies it (the acceptance policy is theirs)
    progress("verify the assembled receipt", 0.95)
    try:
        backend.verify(receipt, program.image_id, allow_insecure=True)
    except VerificationError as exc:
        raise BackendError(f"the segment proofs the workers returned do not verify ({exc}): prove again, "
                           "and check the workers run this pyzkvm version") from None
    return receipt
