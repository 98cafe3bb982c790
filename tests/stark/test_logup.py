"""LogUp buses: the auxiliary columns against a Python-int reference; an unbalanced entry is
named by the debug check and a forced proof fails with BusImbalance."""

import numpy as np
import pytest

from pyzkvm.errors import BusImbalance, ConstraintNotSatisfied, VerificationError
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, prove, setup, verify
from pyzkvm.stark.air import Air, bus_id, compile_air
from pyzkvm.stark import logup
from pyzkvm.stark.tape import plain_inputs
from pyzkvm.stark.examples.permutation import LeftAir, RightAir, permutation_traces
from pyzkvm.stark.examples.range_check import ByteTableAir, U16ValuesAir, range_check_traces
from pyzkvm.stark.field import P
from pyzkvm.stark.logup import build_aux_trace
from tests.ext_reference import rmul

FAST = INSECURE_FAST_FOR_TESTS


def rinv(a):
    # a^(p^4 − 2) in F_p^4 (Lagrange: the multiplicative group has order p^4 − 1)
    result, base, e = [1, 0, 0, 0], list(a), P ** 4 - 2
    while e:
        if e & 1:
            result = rmul(result, base)
        base = rmul(base, base)
        e >>= 1
    return result


def two_threads(monkeypatch) -> None:
    """The pool shares even the smallest loop between two threads."""
    from pyzkvm.stark import pool

    monkeypatch.setattr(pool, "MIN_PARALLEL_WORK", 1)
    monkeypatch.setattr(pool, "MIN_CHUNK_WORK", 1)
    monkeypatch.setattr(pool, "threads", lambda: 2)


@pytest.mark.parametrize("chunk_rows, threads", [(1 << 12, 1), (3, 1), (2, 1), (1 << 12, 2), (3, 2), (5, 2)])
def test_aux_columns_match_reference(chunk_rows, threads, monkeypatch):
    """(chunk_rows < 8: the rows' interaction values and terms come in several chunks, S's
    start carried across; threads = 2: the chunks side by side on the pool.)"""
    monkeypatch.setattr(logup, "CHUNK_ROWS", chunk_rows)
    if threads == 2:
        two_threads(monkeypatch)
    c = compile_air(U16ValuesAir())
    rng = np.random.default_rng(3)
    trace = range_check_traces(rng.integers(0, 1 << 16, 8))[0]
    alpha = rng.integers(0, P, 4).astype(np.uint32)
    gamma = rng.integers(0, P, 4).astype(np.uint32)
    aux, cumsum, totals = build_aux_trace(c, plain_inputs(trace, None, np.zeros(0, np.uint32)), 8, alpha, gamma)
    per_bus = logup.bus_totals(c, totals)
    assert c.interaction_groups == [[0, 1]]  # two degree-1 lookups share one helper (degree 3)
    assert aux.shape == (8, 2, 4)  # the helper column and the running sum
    running = [0, 0, 0, 0]
    a, g = [int(x) for x in alpha], [int(x) for x in gamma]
    for row in range(8):
        helper = [0, 0, 0, 0]
        for col in (1, 2):  # send(byte, [lo]) and send(byte, [hi]), multiplicity 1
            fp = [(bus_id("byte") + g[0] * int(trace[row, col])) % P] + [g[j] * int(trace[row, col]) % P for j in (1, 2, 3)]
            h = rinv([(x - y) % P for x, y in zip(a, fp)])
            helper = [(x + y) % P for x, y in zip(helper, h)]
        assert aux[row, 0].tolist() == helper
        assert aux[row, 1].tolist() == running  # S: the rows before this one
        running = [(x + y) % P for x, y in zip(running, helper)]
    assert cumsum.tolist() == running  # S of the last row + its helper: every row's terms
    assert per_bus["byte"].tolist() == running  # its one bus: the table's total


@pytest.mark.parametrize("table", ["u16 values", "blinded ring"])
def test_chunks_on_threads_give_the_one_chunk_serial_columns(table, monkeypatch):
    """An odd number of chunks, the last one short (the u16 table's 100 rows in 17 chunks of 6,
    the ring table's 64 in 13 chunks of 5), on one and on two threads: the same helpers, running sum, total and per-bus sums as one chunk on
    one thread — also with the blinding ring's boundary entries (S_0 and the total)."""
    from pyzkvm.stark import blind
    from pyzkvm.stark.debug import check_constraints

    rng = np.random.default_rng(11)
    alpha, gamma = (rng.integers(0, P, 4).astype(np.uint32) for _ in range(2))
    if table == "u16 values":
        c = compile_air(U16ValuesAir())
        trace = range_check_traces(rng.integers(0, 1 << 16, 100))[0]
    else:  # LeftAir's blinded twin, random ρ (row 0) and σ (last row): test_zk_blind.ring_table, taller
        c = blind.blinded(compile_air(LeftAir(), 5), 5)
        left = permutation_traces(rng.integers(0, P, 40), 64)[0]
        rho, sigma = (rng.integers(0, P, blind.RING_VALUE).astype(np.uint32) for _ in range(2))
        trace = np.concatenate([left, blind.ring_columns(left.shape[0], rho, sigma)], axis=1)
        assert logup.boundary_interaction(c) is not None
    n = trace.shape[0]

    def built():
        aux, cumsum, totals = build_aux_trace(c, plain_inputs(trace, None, np.zeros(0, np.uint32)), n, alpha, gamma)
        return aux, cumsum, logup.bus_totals(c, totals)

    with monkeypatch.context() as m:
        m.setattr(logup, "CHUNK_ROWS", 1 << 12)
        m.setattr("pyzkvm.stark.pool.threads", lambda: 1)
        aux, cumsum, per_bus = built()
    check_constraints(c, plain_inputs(trace, None, np.zeros(0, np.uint32), aux=aux, challenges=np.stack([alpha, gamma]),
                                      cumsum=cumsum), n, "logup")  # the reference satisfies the LogUp constraints
    rows = next(r for r in range(3, n) if -(-n // r) % 2 == 1 and n % r)  # odd chunks, the last short
    monkeypatch.setattr(logup, "CHUNK_ROWS", rows)
    for threads in (1, 2):
        with monkeypatch.context() as m:
            if threads == 2:
                two_threads(m)
            else:
                m.setattr("pyzkvm.stark.pool.threads", lambda: 1)
            aux2, cumsum2, per_bus2 = built()
        assert np.array_equal(aux2, aux) and np.array_equal(cumsum2, cumsum)
        assert per_bus2.keys() == per_bus.keys() and all(np.array_equal(per_bus2[b], per_bus[b]) for b in per_bus)


@pytest.mark.parametrize("blinded", [False, True])
@pytest.mark.parametrize("chunk_rows, threads", [(1 << 12, 1), (3, 1), (3, 2), (5, 2)])
def test_a_sparse_lookup_table_gives_the_dense_columns(blinded, chunk_rows, threads, monkeypatch):
    """A lookup table whose counts are mostly zero (entry_rows: its rows with entries gathered,
    chunks of about CHUNK_ROWS entries, some chunks without any) gives the helpers, running sum,
    total and per-bus sums of every row evaluated (entry_rows off): plain and with the blinding
    ring (rows 0 and n − 1 kept for its boundary entries), on one and on two threads."""
    from pyzkvm.stark import blind

    rng = np.random.default_rng(5)
    alpha, gamma = (rng.integers(0, P, 4).astype(np.uint32) for _ in range(2))
    counts = range_check_traces(rng.integers(0, 1 << 12, 16))[1]  # bytes < 16 as hi, a few lo: ≤ 48 of 256 rows
    c = compile_air(ByteTableAir())
    if blinded:
        c = blind.blinded(c, 5)
        rho, sigma = (rng.integers(0, P, blind.RING_VALUE).astype(np.uint32) for _ in range(2))
        counts = np.concatenate([counts, blind.ring_columns(256, rho, sigma)], axis=1)
    prep = c.air.preprocessed_trace()

    def built():
        aux, cumsum, totals = build_aux_trace(c, plain_inputs(counts, prep, np.zeros(0, np.uint32)), 256, alpha, gamma)
        return aux, cumsum, logup.bus_totals(c, totals)

    with monkeypatch.context() as m:
        m.setattr(logup, "entry_rows", lambda *a: None)
        aux, cumsum, per_bus = built()
    live = logup.entry_rows(logup.denominator_tape(c), counts, 256, logup.boundary_interaction(c))
    assert live is not None and {0, 255} <= set(live.tolist()) if blinded else live is not None
    monkeypatch.setattr(logup, "CHUNK_ROWS", chunk_rows)
    if threads == 2:
        two_threads(monkeypatch)
    aux2, cumsum2, per_bus2 = built()
    assert np.array_equal(aux2, aux) and np.array_equal(cumsum2, cumsum) and cumsum.any()
    assert per_bus2.keys() == per_bus.keys() and all(np.array_equal(per_bus2[b], per_bus[b]) for b in per_bus)


class _RareAir(Air):
    """Three sends of a value: every row (free count m0), on a few rows (m1), and of the next
    row's value (m2) on a few rows too: a common interaction and two rare ones."""

    name = "rare sends"
    width = 4

    def constraints(self, b):
        v, m0, m1, m2 = b.main_row()
        b.declare_active(1)
        b.send("common", [v], m0)
        b.send("rare", [v, v + 1], m1)
        b.send("rare next", [b.main_next(0)], m2)


def _rare_trace(rng, n):
    # m1 on rows 3, 30 and n − 14 (none in rows 32–47 of 64), m2 on rows 5, n − 24, n − 4
    trace = np.zeros((n, 4), dtype=np.uint32)
    trace[:, 0] = rng.integers(0, P, n)
    trace[:, 1] = rng.integers(1, 5, n)
    for col, rows in ((2, [3, n // 2 - 2, n - 14]), (3, [5, n - 24, n - 4])):
        trace[rows, col] = rng.integers(1, P, 3)
    return trace


@pytest.mark.parametrize("blinded", [False, True])
@pytest.mark.parametrize("threads", [1, 2])
def test_rare_interactions_on_their_rows_give_every_rows_columns(blinded, threads, monkeypatch):
    """split_rare: an interaction with entries on few rows of the first chunk gets its
    denominators only on the rows that hold its entries (gathered, chunk by chunk, some chunks
    without any), added into the helpers the common ones wrote: the same helpers, running sum,
    total and per-bus sums as every interaction on every row — with the blinding ring (never
    rare) and on two threads. An interaction that reads the next row is never split off."""
    from pyzkvm.stark import blind

    rng = np.random.default_rng(21)
    alpha, gamma = (rng.integers(0, P, 4).astype(np.uint32) for _ in range(2))
    c, n = compile_air(_RareAir()), 64
    trace = _rare_trace(rng, n)
    if blinded:
        c = blind.blinded(c, 5)
        rho, sigma = (rng.integers(0, P, blind.RING_VALUE).astype(np.uint32) for _ in range(2))
        trace = np.concatenate([trace, blind.ring_columns(n, rho, sigma)], axis=1)
    monkeypatch.setattr(logup, "CHUNK_ROWS", 16)  # 4 chunks of 16 rows

    def built():
        aux, cumsum, totals = build_aux_trace(c, plain_inputs(trace, None, np.zeros(0, np.uint32)), n, alpha, gamma)
        return aux, cumsum, logup.bus_totals(c, totals)

    with monkeypatch.context() as m:
        m.setattr(logup, "split_rare", lambda compiled, *a: (tuple(range(len(compiled.interactions))), ()))
        m.setattr("pyzkvm.stark.pool.threads", lambda: 1)
        aux, cumsum, per_bus = built()
    common, rare = logup.split_rare(c, plain_inputs(trace, None, np.zeros(0, np.uint32)), 16,
                                    logup.boundary_interaction(c))
    assert (common, rare) == ((0, 2, 3) if blinded else (0, 2), (1,))  # the next-row send and the ring: common
    if threads == 2:
        two_threads(monkeypatch)
    else:
        monkeypatch.setattr("pyzkvm.stark.pool.threads", lambda: 1)
    aux2, cumsum2, per_bus2 = built()
    assert np.array_equal(aux2, aux) and np.array_equal(cumsum2, cumsum) and per_bus["rare"].any()
    assert per_bus2.keys() == per_bus.keys() and all(np.array_equal(per_bus2[b], per_bus[b]) for b in per_bus)


def test_prune_keeps_a_subset_of_roots_values():
    """tape.prune: the tape of some roots of another gives those roots' values."""
    from pyzkvm.stark.tape import prune, run

    rng = np.random.default_rng(4)
    c = compile_air(_RareAir())
    trace = _rare_trace(rng, 16)
    inputs = plain_inputs(trace, None, np.zeros(0, np.uint32), challenges=rng.integers(0, P, (2, 4)).astype(np.uint32))
    full = logup.denominator_tape(c)
    whole = run(full, inputs, 16)
    for picked in ([0], [4, 1], [3, 5, 2]):
        part = prune(full, [int(full.roots[k]) for k in picked])
        assert len(part.op) < len(full.op)
        assert np.array_equal(run(part, inputs, 16), whole[picked][:, :run(part, inputs, 16).shape[1]])


def test_entry_rows_only_where_every_multiplicity_is_a_column_of_its_row():
    """The u16 table's multiplicities are constants, LeftAir's are not columns: every row; a
    lookup table with more than half its rows counted: every row too."""
    trace = range_check_traces(np.arange(8))[0]
    assert logup.entry_rows(logup.denominator_tape(compile_air(U16ValuesAir())), trace, 8, None) is None
    c = compile_air(ByteTableAir())
    full = np.ones((256, 1), dtype=np.uint32)
    assert logup.entry_rows(logup.denominator_tape(c), full, 256, None) is None
    full[::2] = 0
    assert logup.entry_rows(logup.denominator_tape(c), full, 256, None).tolist() == list(range(1, 256, 2))


def test_interaction_grouping_respects_the_degree_limit():
    from pyzkvm.stark.air import Air

    class ThreeLookups(Air):
        name, width = "three", 3

        def constraints(self, b):
            x, y, z = b.main_row()
            b.declare_active(1)
            b.send("t", [x])
            b.send("t", [y])
            b.receive("t", [z], x * y)  # multiplicity of degree 2

    assert compile_air(ThreeLookups(), 3).interaction_groups == [[0, 1], [2]]
    assert compile_air(ThreeLookups(), 2).interaction_groups == [[0], [1], [2]]
    c = compile_air(ThreeLookups(), 5)  # never above max(own degree, 3)
    assert c.max_degree <= 3


def test_unbalanced_lookup_is_named_and_rejected():
    rng = np.random.default_rng(4)
    pk = setup(FAST, [U16ValuesAir(), ByteTableAir()])
    values = rng.integers(0, 1 << 16, 16)
    traces = range_check_traces(values)
    traces[1] = traces[1].copy()
    traces[1][5, 0] += 1  # the byte table claims one extra lookup of byte 5
    with pytest.raises(ConstraintNotSatisfied, match="bus 'byte' does not balance"):
        prove(pk, traces, [])
    forced = prove(pk, traces, [], check_constraints_first=False)
    with pytest.raises(BusImbalance):
        verify(pk.verifying_key, forced.to_bytes(), [])


def test_value_out_of_range_cannot_be_looked_up():
    # v = 70000 ≥ 2^16: its "high byte" 273 is not in the byte table
    pk = setup(FAST, [U16ValuesAir(), ByteTableAir()])
    values = np.array([1, 2, 3, 70000])
    vt = np.stack([values, values & 0xFF, values >> 8], axis=1).astype(np.uint32)
    counts = np.bincount(np.concatenate([values & 0xFF, np.minimum(values >> 8, 255)]), minlength=256)
    traces = [vt, counts.reshape(256, 1).astype(np.uint32)]
    with pytest.raises(ConstraintNotSatisfied):
        prove(pk, traces, [])
    with pytest.raises(VerificationError):
        verify(pk.verifying_key, prove(pk, traces, [], check_constraints_first=False).to_bytes(), [])


def test_permutation_with_one_changed_entry_is_rejected():
    rng = np.random.default_rng(5)
    pk = setup(FAST, [LeftAir(), RightAir()])
    left, right = permutation_traces(rng.integers(0, P, 16), 64)
    right = right.copy()
    active = np.nonzero(right[:, 1])[0][0]
    right[active, 0] = (int(right[active, 0]) + 1) % P
    with pytest.raises(ConstraintNotSatisfied):
        prove(pk, [left, right], [])
    with pytest.raises(BusImbalance):
        verify(pk.verifying_key, prove(pk, [left, right], [], check_constraints_first=False).to_bytes(), [])


class _PublicEntries:
    """An AIR stand-in that only has public interactions: (bus, value columns, multiplicities, sign)."""

    def __init__(self, groups):
        self.groups = groups

    def public_interactions(self, public_values, public_data=b""):
        return self.groups


def test_public_term_is_the_sum_over_every_entry():
    """logup.public_term evaluates all groups in one batch (zero-padded to the widest, in
    blocks): it equals Σ sign·μ/(α − bus − Σ_j γ^(j+1)·v_j) entry by entry on Python ints,
    with more entries than one block and groups of different widths and signs."""
    from pyzkvm.stark.logup import public_term

    from pyzkvm.stark.logup import PUBLIC_BLOCK_ROWS

    rng = np.random.default_rng(9)
    n = PUBLIC_BLOCK_ROWS + 150  # more entries than one block, and a block shared by both groups
    wide = [rng.integers(0, P, n).tolist() for _ in range(3)]
    groups = [("wide bus", wide, rng.integers(1, 1000, n).tolist(), 1), ("narrow bus", [[5, 6, 7]], 2, -1)]
    alpha, gamma = (rng.integers(0, P, 4).astype(np.uint32) for _ in range(2))
    per_bus = {}
    got = public_term([_PublicEntries(groups)], [], alpha, gamma, per_bus=per_bus)
    want, want_per_bus = [0, 0, 0, 0], {}
    for bus, columns, mult, sign in groups:
        gpow = [[1, 0, 0, 0]]
        for _ in columns:
            gpow.append(rmul(gpow[-1], [int(g) for g in gamma]))
        total = [0, 0, 0, 0]
        for i in range(len(columns[0])):
            fp = [bus_id(bus), 0, 0, 0]
            for j, col in enumerate(columns):
                fp = [(f + c * col[i]) % P for f, c in zip(fp, gpow[j + 1])]
            mu = (mult if isinstance(mult, int) else mult[i]) * sign % P
            term = rmul(rinv([(int(a) - f) % P for a, f in zip(alpha, fp)]), [mu, 0, 0, 0])
            total = [(t + x) % P for t, x in zip(total, term)]
        want_per_bus[bus] = total
        want = [(w + t) % P for w, t in zip(want, total)]
    assert got.tolist() == want
    assert {b: v.tolist() for b, v in per_bus.items()} == want_per_bus


def test_a_long_public_entry_is_evaluated_in_memory_of_one_block():
    """A claim's journal is one public entry of n rows (positions and bytes, as columns): the
    verifier evaluates it a block of rows at a time, so neither public_entries nor public_term
    holds more than the AIR's own columns and one block's temporaries (a red-team review: int64
    copies and a whole-statement matrix took ~100 bytes per journal byte, ~27 GB for a receipt
    of 256 MiB of padded journal). The value is the same as the entries' one by one."""
    import tracemalloc

    from pyzkvm.stark import ext
    from pyzkvm.stark.logup import public_entries, public_term

    n = 1 << 20
    positions, data = np.arange(n, dtype=np.uint32), np.random.default_rng(3).integers(0, 256, n).astype(np.uint8)
    journal = _PublicEntries([("journal", [positions, data], 1, -1)])
    alpha, gamma = (np.random.default_rng(4).integers(0, P, 4).astype(np.uint32) for _ in range(2))
    tracemalloc.start()
    try:
        entries = public_entries([journal], [])
        built, _peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        got = public_term([journal], [], alpha, gamma, entries=entries)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert built < 1 << 16, f"public_entries kept {built} bytes for {n} entries given as columns"
    assert peak < 1 << 21, f"public_term peaked at {peak} bytes for {n} entries"
    # the same as the first and last entries' terms plus the middle ones', evaluated as separate groups
    parts = [_PublicEntries([("journal", [positions[a:b], data[a:b]], 1, -1)]) for a, b in ((0, 1), (1, n - 1), (n - 1, n))]
    want = ext.ZERO
    for part in parts:
        want = ext.ext_add(want, public_term([part], [], alpha, gamma))
    assert got.tolist() == want.tolist()


def test_public_entries_of_scalars_equal_the_column_path():
    """public_entries' one-entry path (every value and the multiplicity a Python int) gives
    the matrix and signed multiplicity its column path gives the same entry as 1-element lists."""
    from pyzkvm.stark.field import P
    from pyzkvm.stark.logup import public_entries

    class Stub:
        def __init__(self, as_lists):
            self.as_lists = as_lists

        def public_interactions(self, pv, data):
            for values, mult, sign in (([3, -1, P + 5, True], 2, 1), ([7], -3, -1), ([], 1, 1)):
                yield ("bus", [[v] for v in values], [mult], sign) if self.as_lists else ("bus", values, mult, sign)

    for a, b in zip(public_entries([Stub(False)], []), public_entries([Stub(True)], []), strict=True):
        assert a[:2] == b[:2] and a[2].shape == b[2].shape and a[2].tolist() == b[2].tolist()
        assert a[3].tolist() == b[3].tolist() and a[2].dtype == b[2].dtype == a[3].dtype == np.uint32


def test_a_chip_cannot_use_the_blinding_rings_bus():
    """Hiding mode's ring (blind.py) closes its bus with the prover's secret values alone: a
    chip's entries on it could be balanced by a forged ring (a red-team review showed a false
    trace verify that way). Setup refuses such a chip, in both modes, and an AIR's public
    entries on it are refused too."""
    from pyzkvm.errors import StarkConfigError
    from pyzkvm.stark.blind import BLIND_BUS
    from pyzkvm.stark.config import INSECURE_FAST_FOR_TESTS_ZK

    class OnTheRing(Air):
        name = "on the ring"
        width = 1

        def constraints(self, b):
            b.declare_active(1)
            b.send(BLIND_BUS, [b.main(0), 0, 0, 0], 1)

    for config in (INSECURE_FAST_FOR_TESTS, INSECURE_FAST_FOR_TESTS_ZK):
        with pytest.raises(StarkConfigError, match="blinding ring"):
            setup(config, [OnTheRing()])

    class PublicOnTheRing(LeftAir):
        def public_interactions(self, public_values, public_data=b""):
            return [(bus_id(BLIND_BUS), [1, 0, 0, 0], 1, -1)]

    with pytest.raises(StarkConfigError, match="blinding ring"):
        logup.public_entries([PublicOnTheRing()], [])


@pytest.mark.parametrize("helper_degree, columns, degree", [(3, 4, 3), (4, 3, 4), (5, 2, 5), (6, 2, 5)])
def test_helper_degree_sets_how_many_lookups_share_a_column(helper_degree, columns, degree):
    """Eight degree-1 lookups: two per helper column at the default degree 3, three at 4, four at
    5 — no further than the blowup allows (max_degree 5 here) — and the AIR's degree follows."""

    class Lookups(Air):
        name = "lookups"
        width = 9

        def constraints(self, b):
            b.assert_bool(b.main(0), "active is boolean")
            active = b.declare_active(b.main(0))
            for c in range(1, 9):
                b.send("values", [b.main(c)], active)

    Lookups.helper_degree = helper_degree
    compiled = compile_air(Lookups(), max_degree=5)
    assert len(compiled.interaction_groups) == columns and compiled.num_aux_columns == columns + 1
    assert compiled.max_degree == degree
