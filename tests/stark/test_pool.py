"""The thread pool under the prover's kernels (stark/pool.py): every item exactly once, small
loops on the calling thread, errors handed back, and no waiting for a worker that the
scheduler has not started (the caller takes the chunks itself)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from pyzkvm.stark import pool


def _marking_kernel(seen, who, lo, hi):
    # a Python "kernel": count each item and record which thread ran it
    seen[lo:hi] += 1
    who.update({threading.get_ident()})


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("n,work", [(0, 1), (1, 1 << 20), (7, 1 << 20), (1000, 1 << 10), (100, 10)])
def test_every_item_once(threads, n, work, monkeypatch):
    monkeypatch.setattr(pool, "threads", lambda: threads)
    seen, who = np.zeros(n, np.int64), set()
    pool.parallel_for(_marking_kernel, n, seen, who, work_per_item=work)
    assert (seen == 1).all()


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_chunks_are_contiguous_and_cover_the_loop(threads):
    for n in (1, 5, 64, 10_000):
        for work in (1, 100, 1 << 16):
            b = pool.chunk_bounds(n, work, nthreads=threads)
            assert b[0] == 0 and b[-1] == n and all(x < y for x, y in zip(b, b[1:]))
            assert len(b) - 1 <= max(1, threads * pool.CHUNKS_PER_THREAD)
            if threads == 1 or n * work < pool.MIN_PARALLEL_WORK:
                assert b == [0, n]  # serial: one call on the calling thread


def test_small_loops_stay_on_the_calling_thread(monkeypatch):
    monkeypatch.setattr(pool, "threads", lambda: 2)
    seen, who = np.zeros(50, np.int64), set()
    pool.parallel_for(_marking_kernel, 50, seen, who, work_per_item=10)  # 500 words: below the threshold
    assert who == {threading.get_ident()}


def test_an_error_in_a_chunk_reaches_the_caller(monkeypatch):
    monkeypatch.setattr(pool, "threads", lambda: 2)

    def kernel(lo, hi):
        if lo <= 500 < hi:
            raise ValueError("chunk failed")

    with pytest.raises(ValueError, match="chunk failed"):
        pool.parallel_for(kernel, 1000, work_per_item=1 << 10)


def test_the_caller_does_the_work_when_no_worker_runs(monkeypatch):
    # every pool worker is busy (as when the machine's cores are taken): the loop still
    # finishes, every chunk on the calling thread, instead of waiting for a worker
    monkeypatch.setattr(pool, "threads", lambda: 3)
    release = threading.Event()
    workers = pool._workers(2)
    blockers = [workers.submit(release.wait) for _ in range(2)]
    try:
        seen, who = np.zeros(1000, np.int64), set()
        pool.parallel_for(_marking_kernel, 1000, seen, who, work_per_item=1 << 10)
        assert (seen == 1).all() and who == {threading.get_ident()}
    finally:
        release.set()
        for b in blockers:
            b.result()


def test_nested_loops_finish(monkeypatch):
    # a kernel that itself calls parallel_for (the pool's workers may all be inside the outer
    # loop): the inner loops' callers take their own chunks, so nothing deadlocks
    monkeypatch.setattr(pool, "threads", lambda: 2)
    total = np.zeros(8, np.int64)

    def outer(lo, hi):
        for i in range(lo, hi):
            seen, who = np.zeros(300, np.int64), set()
            pool.parallel_for(_marking_kernel, 300, seen, who, work_per_item=1 << 10)
            total[i] = seen.sum()

    pool.parallel_for(outer, 8, work_per_item=1 << 16)
    assert (total == 300).all()


def _waiting_for_each_other(threads_seen: set):
    """A kernel of two chunks that each wait for the other's thread (and record their own)."""
    both = threading.Barrier(2, timeout=10)

    def inner(lo, hi):
        threads_seen.add(threading.get_ident())
        both.wait()

    return inner


def test_a_waiting_caller_runs_chunks_of_a_loop_opened_inside_its_own(monkeypatch):
    # the pool's one worker runs one of the outer loop's chunks, which opens an inner loop: the
    # caller, done with its own chunk, runs the inner loop's other chunk (each inner chunk
    # waits for the other's thread: with the caller idle, the worker would wait alone)
    monkeypatch.setattr(pool, "threads", lambda: 2)
    inner_threads: set = set()
    inner = _waiting_for_each_other(inner_threads)
    caller = threading.get_ident()

    def outer(lo, hi):
        if threading.get_ident() == caller:
            threading.Event().wait(0.2)  # the worker takes the other chunk meanwhile
        else:
            pool.parallel_for(inner, 2, work_per_item=1 << 16, chunks_per_thread=1)

    pool.parallel_for(outer, 2, work_per_item=1 << 16, chunks_per_thread=1)
    assert len(inner_threads) == 2


def test_proof_bytes_do_not_depend_on_the_split(monkeypatch):
    # every loop of a small machine proof split as finely as the pool allows, on 3 threads:
    # the same bytes as the pinned known answer (computed serially)
    from tests.test_known_answers import MACHINE_PROOF, machine_proof

    monkeypatch.setattr(pool, "threads", lambda: 3)
    monkeypatch.setattr(pool, "MIN_PARALLEL_WORK", 1)
    monkeypatch.setattr(pool, "MIN_CHUNK_WORK", 1)
    assert machine_proof() == MACHINE_PROOF


def test_other_processes_busy_cpus_are_not_free():
    # 2 CPUs over 0.5 s: the machine busy 1.4 CPU-s, this process 0.6 of them → others 1.6 CPUs
    assert pool.cpus_left_free((10.0, 100.0, 5.0), (10.5, 101.4, 5.6), 2) == 0
    # the same machine time, all of it this process's: both CPUs free for it
    assert pool.cpus_left_free((10.0, 100.0, 5.0), (10.5, 101.0, 6.0), 2) == 2
    # 16 CPUs, others 3.2 busy → 13 free (rounded)
    assert pool.cpus_left_free((0.0, 0.0, 0.0), (1.0, 3.2, 0.0), 16) == 13


def test_the_thread_count_drops_to_one_while_others_keep_the_cpus_busy(monkeypatch):
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs numba threads ≥ 2")
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        monkeypatch.setattr(pool, "free_cpus", lambda: 0)
        assert pool.threads() == 1
        assert pool.chunk_bounds(1 << 20, 1) == [0, 1 << 20]  # loops run on the calling thread
        monkeypatch.setattr(pool, "free_cpus", lambda: 4)
        assert pool.threads() == 2
    finally:
        numba.set_num_threads(before)


def test_without_proc_stat_every_configured_thread_is_used(monkeypatch):
    monkeypatch.setattr(pool, "_machine_busy_s", lambda: None)
    monkeypatch.setattr(pool, "_load_sample", None)
    monkeypatch.setattr(pool, "_free", 1 << 30)
    assert pool.free_cpus() == 1 << 30


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_side_by_side_runs_every_task_once(threads, monkeypatch):
    # one thread: the tasks in the order given, on the calling thread
    monkeypatch.setattr(pool, "threads", lambda: threads)
    ran, who = [], set()

    def task(k):
        ran.append(k)
        who.add(threading.get_ident())

    pool.side_by_side([lambda k=k: task(k) for k in range(7)])
    assert sorted(ran) == list(range(7))
    if threads == 1:
        assert ran == list(range(7)) and who == {threading.get_ident()}
    pool.side_by_side([])  # nothing to run


def test_side_by_side_runs_two_tasks_at_once(monkeypatch):
    # each task waits for the other's thread: run one after another, they would time out
    monkeypatch.setattr(pool, "threads", lambda: 2)
    both = threading.Barrier(2, timeout=10)
    who: set = set()

    def task():
        who.add(threading.get_ident())
        both.wait()

    pool.side_by_side([task, task])
    assert len(who) == 2


def test_an_error_in_a_task_reaches_the_caller(monkeypatch):
    monkeypatch.setattr(pool, "threads", lambda: 2)

    def failing():
        raise ValueError("task failed")

    with pytest.raises(ValueError, match="task failed"):
        pool.side_by_side([lambda: None, failing, lambda: None])


def _stuck_worker_and(main_task, monkeypatch):
    """side_by_side of two tasks: ``main_task`` on the main thread, and on the worker one that
    waits until released (a worker blocked on a lock the interrupted thread left held); returns
    (what side_by_side raised, whether the worker's task had finished then)."""
    monkeypatch.setattr(pool, "threads", lambda: 2)
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    def task():
        if threading.current_thread() is threading.main_thread():
            assert started.wait(60)  # (else the main thread would take the worker's task too)
            main_task()
        else:
            started.set()
            release.wait(60)
            finished.set()

    try:
        with pytest.raises(KeyboardInterrupt) as raised:
            pool.side_by_side([task, task])
        return raised.value, finished.is_set()
    finally:
        release.set()


def test_an_interrupt_ends_the_wait_for_the_other_threads(monkeypatch):
    # Ctrl-C in the caller's task: it does not wait for the worker's, which may never end
    def interrupted():
        raise KeyboardInterrupt()

    _, worker_finished = _stuck_worker_and(interrupted, monkeypatch)
    assert not worker_finished


def test_a_dropped_interrupt_ends_the_wait_through_interrupts_check(monkeypatch):
    # the interrupt's exception was lost on its way up (a ctypes callback): the CLI's check raises it
    def check():
        raise KeyboardInterrupt()

    from pyzkvm import interrupts

    monkeypatch.setattr(interrupts, "check", check)
    _, worker_finished = _stuck_worker_and(lambda: None, monkeypatch)
    assert not worker_finished


def test_the_cli_checks_for_interrupts_while_threads_wait():
    import subprocess
    import sys

    from pyzkvm import interrupts
    from pyzkvm.cli import _signals

    before = interrupts.check
    previous = _signals.install()
    try:
        assert interrupts.check is _signals.check_interrupted
    finally:
        _signals.restore(previous)
    assert interrupts.check is before
    # without loading the prover: the light commands never import pyzkvm.stark
    code = "import sys; from pyzkvm.cli import _signals; _signals.install(); print('pyzkvm.stark' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_a_thread_out_of_tasks_helps_with_a_loop_of_anothers(monkeypatch):
    # task 0 (handed out first, on the caller) opens a loop of two chunks that each wait for
    # the other's thread; the worker, done with task 1, runs the loop's other chunk
    monkeypatch.setattr(pool, "threads", lambda: 2)
    inner_threads: set = set()
    inner = _waiting_for_each_other(inner_threads)

    def long_task():
        threading.Event().wait(0.1)  # the worker takes and finishes the short task meanwhile
        pool.parallel_for(inner, 2, work_per_item=1 << 16, chunks_per_thread=1)

    pool.side_by_side([long_task, lambda: None])
    assert len(inner_threads) == 2


def test_tasks_are_let_go_when_side_by_side_returns(monkeypatch):
    # nothing of the loop keeps a task (and the proof's tables it holds) alive once it is done:
    # no reference cycle that only the garbage collector would break (a helper the pool has
    # queued holds the loop until a worker takes it and finds no task left: waited for)
    import gc
    import time
    import weakref

    monkeypatch.setattr(pool, "threads", lambda: 2)

    class Table:
        pass

    table = Table()
    alive = weakref.ref(table)
    gc.disable()
    try:
        pool.side_by_side([lambda t=table: t, lambda: None, lambda: None])
        del table
        deadline = time.monotonic() + 10
        while alive() is not None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert alive() is None
    finally:
        gc.enable()


def test_a_task_runs_its_loops_whole_while_other_tasks_wait(monkeypatch):
    # the real thread count (numba's 2, the machine free): 1 inside the first of four tasks —
    # the others wait for it, so tasks 2 and 3 are not handed out yet — and 2 inside the last,
    # once no task waits (its loops are split, a thread out of tasks helps); 2 again after
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs numba threads ≥ 2")
    monkeypatch.setattr(pool, "free_cpus", lambda: 4)
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    first_seen = threading.Event()
    seen: dict = {}

    def task(k):
        if k == 0:
            seen[k] = pool.threads()
            first_seen.set()
        else:
            assert first_seen.wait(10)
            seen[k] = pool.threads()

    try:
        pool.side_by_side([lambda k=k: task(k) for k in range(4)])
        assert seen[0] == 1 and seen[3] == 2
        assert pool.threads() == 2
    finally:
        numba.set_num_threads(before)


@pytest.mark.parametrize("zk", [False, True], ids=["transparent", "hiding"])
def test_tables_side_by_side_or_in_turn_make_the_same_proof(zk, monkeypatch):
    # a machine proof's short tables take each step side by side (prover._each_table), a small
    # tree's sources are hashed and opened side by side (mmcs.py), every loop split as finely as
    # the pool allows on 3 threads: byte for byte the proof made on one thread, in turn
    import dataclasses

    from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, INSECURE_FAST_FOR_TESTS_ZK, prove, setup
    from tests.machine.machine_helpers import run_machine
    from tests.rvasm import DATA_BASE, halt, syscall

    chips, tables, _ = run_machine([syscall(0x02, 3, DATA_BASE, 4), halt(7)], data=b"pin!" + bytes(12))
    cfg = INSECURE_FAST_FOR_TESTS_ZK if zk else INSECURE_FAST_FOR_TESTS
    pk = setup(dataclasses.replace(cfg, bus_pow_bits=4), chips.airs)

    def proof(threads):
        monkeypatch.setattr(pool, "threads", lambda: threads)
        return prove(pk, tables.in_order(chips), tables.public_values, public_data=tables.public_data,
                     zk_seed=5 if zk else None).to_bytes()

    in_turn = proof(1)
    monkeypatch.setattr(pool, "MIN_PARALLEL_WORK", 1)
    monkeypatch.setattr(pool, "MIN_CHUNK_WORK", 1)
    side = []
    run_tasks = pool.side_by_side
    monkeypatch.setattr(pool, "side_by_side", lambda tasks: side.append(len(tasks)) or run_tasks(tasks))
    assert proof(3) == in_turn
    assert len(side) >= 3 and max(side) > 2  # the per-table steps and the trees' sources, side by side
    # a tall segment's largest table takes each step alone, the others side by side (here: from 2^0 rows)
    from pyzkvm.stark import prover

    monkeypatch.setattr(prover, "ALONE_MIN_LOG_ROWS", 0)
    alone = []
    pick = prover._alone
    monkeypatch.setattr(prover, "_alone", lambda ts: alone.append(pick(ts)) or alone[-1])
    assert proof(3) == in_turn
    assert len(alone) == 4 and all(len(a) == 1 for a in alone)  # the LDEs, the LogUp phase, the quotient, the openings


def test_the_table_alone_is_the_largest_by_cells_if_tall():
    from types import SimpleNamespace

    from pyzkvm.stark.prover import ALONE_MIN_LOG_ROWS, _alone

    def table(log_n, width):
        return SimpleNamespace(n=1 << log_n, log_n=log_n, air=SimpleNamespace(width=width))

    tall = ALONE_MIN_LOG_ROWS
    # the CPU table of a 2^20-cycle segment, not the memory table as tall, nor the ALU table
    assert _alone([table(tall + 3, 81), table(tall - 7, 1), table(tall + 3, 18), table(tall + 1, 30)]) == [0]
    assert _alone([table(tall + 1, 1), table(tall, 4)]) == [1]  # the most cells, though not the tallest
    assert _alone([table(tall, 1), table(tall - 1, 4)]) == []  # the most cells, but short
    assert _alone([table(tall - 1, 81), table(tall - 1, 18)]) == []  # short: all side by side
    assert _alone([table(tall, 4), table(tall, 4)]) == [0]  # a tie: the first
