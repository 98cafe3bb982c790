"""Threads for the prover's numba kernels: one shared pool, one call, ``parallel_for``.

Every parallel loop of the prover (NTT columns, constraint-tape blocks, Merkle leaf groups,
FRI folds, linear combinations, the proof-of-work search) is a *serial* numba kernel compiled
with ``nogil=True`` whose last two arguments are a range of items [lo, hi). ``parallel_for``
splits the items into contiguous chunks and runs the kernel on each: on the calling thread
and on the workers of one shared ``ThreadPoolExecutor``. Because the kernels release the
GIL, the chunks really run side by side.

Why not numba's ``parallel=True``/``prange``: compiling a parallel region (parfor lowering)
is the slowest part of numba's compilation (``tape._run_parallel`` alone took ~13–20 s of a
cold prove's CPU), and on a shared machine its threads wait for each other at every barrier
(a 2-thread proof measured 1.4–3.5× slower than 1 thread under load).

Work sharing, so that a busy machine never makes the default slower than one thread: the
chunks are handed out one at a time from a shared counter, and the calling thread takes
chunks too. A worker that the scheduler starts late finds fewer (or no) chunks left; the
caller only ever waits for a chunk some worker has already *started*, never for a worker to
be scheduled. Small jobs (below ``MIN_PARALLEL_WORK`` words of work) run on the calling
thread directly — the verifier's few query rows never touch the pool.

Nested loops: a chunk may itself call ``parallel_for`` (one matrix of several transformed
side by side, its row blocks inside). A caller whose own chunks are all taken does not
sleep while its loop finishes: it takes chunks of the loops opened after its own
(``_wait_helping``), so a loop opened on the pool's one busy worker still gets both threads
(the 2-thread Merkle commit and LDE at 2^18 cycles: −12 %, −15 % wall; bench/results/stark_prove.md, "par2").

The thread count is numba's (``NUMBA_NUM_THREADS``, or ``numba.set_num_threads`` on the
calling thread; 1 = everything serial), lowered while other processes keep the machine's
CPUs busy (``free_cpus``): a second thread then only competes with them for the same cores
(on a 2-core machine running a second prove, 2 threads measured slower than 1:
bench/results/stark_prove.md, "under load").
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from .. import interrupts
from ..host import usable_cpus

#: below this much work (items × words per item) a loop runs on the calling thread: handing
#: work to another thread can wait a whole scheduler time slice on a busy machine, which
#: dwarfs a small kernel (measured: a 2^12-element NTT 0.04 ms alone, ~20 ms when stalled).
#: Raised from 2^16 words (chunks from 2^14) in session 19: a smaller loop's hand-over costs both
#: threads about what the split saves — 2-thread CPU 2–4 % lower, the wall the same within this
#: host's noise (bench/thread_ratio.py --min-work; bench/results/stark_prove.md, session 19)
MIN_PARALLEL_WORK = 1 << 17
#: a chunk holds at least this much work (so the Python dispatch, ~10 µs, stays negligible)
MIN_CHUNK_WORK = 1 << 15
#: chunks per thread: more lets a thread that runs late take less of the loop; fewer means
#: longer runs inside each kernel call
CHUNKS_PER_THREAD = 4


def threads() -> int:
    """The thread count: the configured one (numba's: NUMBA_NUM_THREADS or
    numba.set_num_threads), at most the CPUs this process may use (host.usable_cpus: its
    affinity, its container's CPU quota) and the CPUs other processes leave free
    (``free_cpus``) — and 1 inside a ``side_by_side`` task while tasks of its loop are still
    waiting (_busy_beside)."""
    import numba  # here, not at import: a command that runs no kernel never loads numba (lazy_njit.py)

    configured = numba.get_num_threads()
    if configured <= 1 or _busy_beside():
        return 1
    return max(1, min(configured, usable_cpus(), free_cpus()))


#: the machine's load is re-read at most this often (seconds); a decision covers that long
LOAD_SAMPLE_S = 0.2
_load_lock = threading.Lock()
_load_sample: tuple | None = None  # (monotonic s, the machine's busy CPU-s, this process's CPU-s)
_free = 1 << 30  # CPUs left free by other processes over the last sample interval (unknown: all)


def free_cpus() -> int:
    """CPUs the other processes left free over the last ≥ LOAD_SAMPLE_S: this machine's CPUs
    minus the CPU-seconds per second they used (the machine's busy time in /proc/stat, steal
    included, less this process's own CPU time), rounded. Every CPU when that cannot be read
    (not Linux) or before a first interval has passed."""
    global _load_sample, _free
    now = time.monotonic()
    if _load_sample is not None and now - _load_sample[0] < LOAD_SAMPLE_S:
        return _free
    with _load_lock:
        if _load_sample is not None and now - _load_sample[0] < LOAD_SAMPLE_S:
            return _free
        busy = _machine_busy_s()
        ours = time.process_time()
        if busy is None:
            return _free
        if _load_sample is not None:
            _free = cpus_left_free(_load_sample, (now, busy, ours), os.cpu_count() or 1)
        _load_sample = (now, busy, ours)
        return _free


def cpus_left_free(before: tuple, after: tuple, cpus: int) -> int:
    """CPUs the other processes left free between two samples (monotonic s, the machine's
    busy CPU-s, this process's CPU-s): cpus − (busy − ours)/elapsed, rounded, ≥ 0."""
    (t0, busy0, ours0), (t1, busy1, ours1) = before, after
    others = max(0.0, (busy1 - busy0) - (ours1 - ours0)) / max(t1 - t0, 1e-9)  # CPUs they kept busy
    return max(0, int(cpus - others + 0.5))


_TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _machine_busy_s() -> float | None:
    """CPU-seconds the whole machine has spent busy since boot (/proc/stat: user, nice,
    system, irq, softirq, steal), or None where that file does not exist."""
    try:
        with open("/proc/stat", "rb") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if len(fields) < 9 or fields[0] != b"cpu":
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / _TICKS_PER_S


def worth_threads(work: int) -> bool:
    """Whether a loop of ``work`` words is large enough to go to the pool's threads
    (MIN_PARALLEL_WORK): the one rule for chunk_bounds and for ntt's row split."""
    return work >= MIN_PARALLEL_WORK


def chunk_bounds(n_items: int, work_per_item: int = 1, nthreads: int | None = None,
                 chunks_per_thread: int = CHUNKS_PER_THREAD) -> list:
    """Boundaries b_0 = 0 < b_1 < … < b_k = n_items of the chunks ``parallel_for`` runs
    (k = 1: the whole loop on the calling thread)."""
    work = n_items * max(1, work_per_item)
    if n_items <= 1 or not worth_threads(work):  # before asking numba for the thread count (~10 µs a call)
        return [0, n_items]
    t = threads() if nthreads is None else nthreads
    if t <= 1:
        return [0, n_items]
    k = max(1, min(n_items, t * chunks_per_thread, work // MIN_CHUNK_WORK))
    return [n_items * j // k for j in range(k + 1)]


class _Loop:
    """One parallel_for in flight: the chunks not yet taken, and how many are unfinished."""

    def __init__(self, kernel, args, bounds) -> None:
        self.kernel, self.args, self.bounds = kernel, args, bounds
        self.lock = threading.Lock()
        self.next_chunk = 0
        self.chunks = len(bounds) - 1
        self.unfinished = self.chunks
        self.finished = threading.Event()
        self.error: BaseException | None = None
        self.opened = next(_opened)  # its place in the order the loops were opened

    def take(self) -> int:
        with self.lock:
            j = self.next_chunk
            self.next_chunk += 1
            return j

    def run(self, j: int) -> None:
        """Run chunk j (taken), and count it finished."""
        try:
            if self.error is None:
                self.kernel(*self.args, self.bounds[j], self.bounds[j + 1])
        except BaseException as e:  # handed to the caller, which re-raises it
            self.error = self.error or e
        with self.lock:
            self.unfinished -= 1
            done = self.unfinished == 0
        if done:
            self.finished.set()
            with _open:  # a caller waiting on it (_wait_helping) wakes
                _open.notify_all()

    def work(self) -> None:
        """Run chunks until none is left (called by the caller and by each worker)."""
        while (j := self.take()) < self.chunks:
            self.run(j)


#: the loops whose chunks are not all taken yet, and their condition: notified when a loop
#: opens or finishes. A caller whose own chunks are all taken runs chunks of the loops opened
#: after its own while it waits (_wait_helping): a parallel_for inside a chunk (the column
#: groups of one part of ntt._transform) has only the pool's workers, all busy, and the
#: caller of the outer loop sat idle while one thread ran the inner loop alone
_open = threading.Condition()
_open_loops: list = []
_opened = itertools.count()


def _wait_helping(loop: _Loop) -> None:
    """Until ``loop`` is finished: run a chunk of an open loop opened after it (one opened inside
    a chunk of it, on another thread: never an outer loop, whose chunk would run inside the
    one this thread is in), or wait for one to open or ``loop`` to finish.

    An interrupt ends the wait at once — one met by this loop's chunks (``loop.error`` a
    KeyboardInterrupt, a BaseException that is no Exception) or one ``interrupts.check`` raises:
    another thread's chunk may then never finish (Ctrl-C landing in this thread inside numba's
    load of a cached kernel left llvmlite's lock held, and a worker loading the next kernel waited
    on it for ever: `prove` hung until a second Ctrl-C), and the process is ending."""
    while not loop.finished.is_set():
        if loop.error is not None and not isinstance(loop.error, Exception):
            return
        interrupts.check()
        with _open:
            other = next((l for l in _open_loops if l.opened > loop.opened and l.next_chunk < l.chunks), None)
            if other is None:
                if not loop.finished.is_set():
                    _open.wait(0.05)  # (the timeout a guard only: each open and finish notifies)
                continue
        j = other.take()
        if j < other.chunks:
            other.run(j)


_pool: ThreadPoolExecutor | None = None
_pool_workers = 0
_pool_lock = threading.Lock()


def _workers(n: int) -> ThreadPoolExecutor:
    # the one shared pool, grown when more threads are asked for (never shrunk: idle workers
    # sleep on a queue and cost nothing)
    global _pool, _pool_workers
    with _pool_lock:
        if _pool is None or _pool_workers < n:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="pyzkvm-kernel")
            _pool_workers = n
        return _pool


def parallel_for(kernel, n_items: int, *args, work_per_item: int = 1, chunks_per_thread: int = CHUNKS_PER_THREAD) -> None:
    """Run ``kernel(*args, lo, hi)`` over contiguous chunks [lo, hi) covering 0..n_items−1.

    ``kernel`` must treat its chunks independently (each writes only its own part of the
    output) and should release the GIL (``@njit(nogil=True)``) so the chunks run at once.
    ``work_per_item``: words of work per item (e.g. rows × columns), which decides whether
    the loop is big enough for threads and how finely it is split (``chunk_bounds``);
    ``chunks_per_thread`` = 1 for a kernel that loses efficiency on narrower chunks."""
    _split_run(_Loop, kernel, n_items, args, work_per_item, chunks_per_thread)


def _split_run(kind: type, kernel, n_items: int, args: tuple, work_per_item: int, chunks_per_thread: int) -> None:
    """parallel_for's work, its loop a ``kind`` (_Loop; side_by_side's _Tasks): the chunks on the
    calling thread and the pool's workers, until every chunk has finished (helping with loops
    opened inside them meanwhile); one chunk: the kernel called here."""
    bounds = chunk_bounds(n_items, work_per_item, chunks_per_thread=chunks_per_thread)
    if len(bounds) == 2:
        if n_items > 0:
            kernel(*args, 0, n_items)
        return
    loop = kind(kernel, args, bounds)
    helpers = min(threads(), loop.chunks) - 1
    pool = _workers(helpers)
    with _open:
        _open_loops.append(loop)
        _open.notify_all()  # a caller waiting in _wait_helping may take its chunks
    for _ in range(helpers):
        pool.submit(loop.work)
    try:
        loop.work()
    finally:
        with _open:
            _open_loops.remove(loop)
    _wait_helping(loop)
    if loop.error is not None:
        raise loop.error


#: the side_by_side loop whose task the current thread is running (None: none)
_task = threading.local()


def _busy_beside() -> bool:
    """Whether this thread runs a side_by_side task while tasks of the same loop wait: every
    thread then has a task of its own (or is about to take one), so a loop split here would
    only be run by this thread, in the split's costlier shape (ntt._by_rows, smaller chunks):
    its loops run whole, as on one thread."""
    loop = getattr(_task, "loop", None)
    return loop is not None and loop.next_chunk < loop.chunks


def side_by_side(tasks: list) -> None:
    """Run the callables ``tasks`` (each writing only its own results), handed out one at a time
    in the order given to the calling thread and the pool's workers: task parallelism, for a
    proof's small tables. A small table's step is a few short kernels and the Python between
    them, which holds the GIL and leaves the other thread idle while one thread splits each
    kernel; two tables at once overlap one's Python with the other's kernels. While tasks
    wait, a task's kernels run whole on its thread (threads() is 1 there: _busy_beside); once
    none waits, the last ones' loops are split again and take the threads that have run out
    of tasks (_wait_helping). One thread: the tasks in order, on the caller.

    Kernels whole beside another task, against split: 2 threads, hiding, 9 % less wall at 2^14
    cycles, 2–5 % at 2^16, the same at 2^18, at no more peak memory (bench/results/stark_prove.md,
    session 27)."""
    def run(lo: int, hi: int) -> None:
        for k in range(lo, hi):
            tasks[k]()

    # one chunk per task (its work counted large enough for the pool, whatever the task is)
    _split_run(_Tasks, run, len(tasks), (), MIN_PARALLEL_WORK, max(1, len(tasks)))


class _Tasks(_Loop):
    """side_by_side's loop: a thread running one of its chunks (a task) has it as _task.loop.
    (Not a closure over the loop in the kernel: that cycle would keep a proof's tables, which
    the tasks hold, alive until the garbage collector's next pass — 50 MB after a 2^14-cycle proof.)"""

    def run(self, j: int) -> None:
        outer = getattr(_task, "loop", None)
        _task.loop = self
        try:
            super().run(j)
        finally:
            _task.loop = outer
