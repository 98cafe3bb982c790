"""A precompile as a straight-line program of field operations: one row per step.

A curve or field precompile (ED_ADD, ED_DECOMPRESS, and later the Weierstrass and Fp ones) is a
fixed sequence of ``Step``s on elements of F_m (field_ops.py). A call is len(steps) consecutive
rows (sha_rows.py's call chain: one-hot position, rows in order, clk and the argument registers
shared by the call's rows); row k does step k. The step kinds:

    READ   r = the n/4 little-endian words at pointer ``ptr`` + ``offset`` words (memory reads)
    WRITE  the words at ``ptr`` + ``offset`` become r, where r must equal the value ``check``
    MUL DIV ADD SUB   r = a op b mod m, with the gadget's identity and r < bound (field_ops.py)
    a chip's own kinds (e.g. ED_DECOMPRESS's "mask" and "root"), constrained by the chip

Values flow between rows on the private ``field value`` bus, tuple (clk, slot, v_0..v_{n−1}):
the row that defines value s (its r) *receives* (clk, s, r) with multiplicity = the number of
uses of s; each use *sends* it once — operand a, operand b, or ``check`` (r must equal s, as a
WRITE's and a verification step's). The multiplicities and slot numbers are constants of the
step (Σ_k c_k·pos_k), clk is the call's and unique to it, so the bus balances only if every
operand is exactly the value its step names, in this call. Constant operands (d, 1) are
constrained limb by limb on their rows.

Memory: a READ or WRITE row makes n/4 word accesses (keys ekey + j) from ``b`` (the previous
words) to ``r`` (the words after): a READ has b = r (a read), a WRITE's b comes from the memory
argument. Timestamps: reads through a1 at 4·clk + 5, through a0 at 4·clk + 6, writes at
4·clk + 7 (the ecall's rd slot only touches register keys), so a0 = a1 (ED_ADD doubling a point
in place) reads each word twice at two timestamps and writes it once, after both reads.

Row 0 receives the call on the ``precompile`` bus (clk, the code's bytes, a0's bytes, a1's
bytes) and checks each pointer argument with word_buffer.py. Every cell a row does not use is
asserted 0 (operands of a step without them, q/carries off arithmetic rows, the memory columns
off I/O rows, the pointer checks off row 0), so no cell is a free witness.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from ..errors import ConstraintNotSatisfied, UnsupportedProgram
from . import buses
from . import field_ops as fo
from .accesses import Access
from .chip import Chip
from .cpu import memory_access
from .layout import Layout
from .memory import memory_key
from .program_table import to_bytes
from ..stark.field import P
from .sha_rows import by_position, call_chain, call_table, per_row, zero_unless
from .word_buffer import buffer_columns, buffer_key, buffer_witness, call_memory_events, precompile_calls

READ, WRITE = "read", "write"
ARITH = fo.KINDS
#: the private bus of the field-program chips: (clk, slot, v_0..v_{n−1})
FIELD_VALUE = "field value"
#: timestamp offsets (ts = 4·clk + 4 + offset): reads through a1, reads through a0, writes
TS_READ = {1: 1, 0: 2}
TS_WRITE = 3


@dataclass(frozen=True)
class Step:
    """One row of a call: ``kind`` defines value ``out`` (or checks r = ``check``) from operands
    ``a``, ``b`` (a value's name or an int constant); READ/WRITE at pointer ``ptr`` + ``offset``
    words; ``bound``: r < bound is proved (None: the modulus; 0: no check — READ and WRITE)."""

    kind: str
    out: str | None = None
    a: str | int | None = None
    b: str | int | None = None
    check: str | None = None
    ptr: int = 0
    offset: int = 0
    bound: int | None = None
    mod: str | None = None  #: a chip with a modulus read from memory (modulus = None): the value holding it


class FieldProgramAir(Chip):
    """The chip of one precompile: subclasses set ``name``, ``code``, ``modulus`` (None: each
    arithmetic step's ``mod`` value, 0 meaning 2^(8n), as UINT256_MUL's), ``n`` (limbs),
    ``steps``, ``pointers`` {argument index: words} and may add ``extra`` columns and
    ``extra_constraints`` / ``custom_value`` / ``extra_witness`` for their own step kinds."""

    code: int
    modulus: int | None
    n: int = 32
    steps: tuple = ()
    pointers: dict = {}
    extra: str = ""
    #: extra columns (Layout names) that hold one value per call, like clk (u256x2048.py's x2, x3)
    shared_extra: tuple = ()
    #: every READ value is also proved < modulus (its lt flags), where a value ≥ p would let a
    #: step prove what SP1 panics on (weierstrass.py's unsigned subtractions)
    reads_canonical: bool = False
    #: each subclass's Layout, built on first use and kept in its own __dict__ (layout())
    _layout: ClassVar[Layout]
    optional = True  # only guests that call the precompile fill it

    # ---- layout -------------------------------------------------------------------------------
    @classmethod
    def layout(cls) -> Layout:
        if "_layout" not in cls.__dict__:
            ptrs = " ".join(buffer_columns(f"p{i}") for i in sorted(cls.pointers))
            if cls.modulus is None:  # the modulus in columns (n limbs + "is 0", i.e. 2^(8n)), q up to 2n limbs
                n = cls.n
                ops = fo.op_columns(n, q_limbs=2 * n, m_limbs=n + 1) + f" m:{n} mz minv"
            else:
                ops = fo.op_columns(cls.n)
            cls._layout = Layout(f"pos:{len(cls.steps)} clk x0:4 x1:4 {ptrs} {ops} ekey "
                                 f"prev_ts:{cls.n // 4} d:{cls.n} {cls.extra}")
        return cls._layout

    @classmethod
    def for_program(cls, program, image):
        """One shared instance per chip class (its compiled AIR is cached on it)."""
        if "_shared" not in cls.__dict__:
            cls._shared = cls()
        return cls._shared

    @property
    def width(self):
        return self.layout().width

    def slots(self) -> dict:
        """value name → (slot number, uses): the slot is 1 + the index of the step defining it."""
        out = {}
        for k, s in enumerate(self.steps):
            if s.out is not None:
                if s.out in out:
                    raise ValueError(f"{self.name}: value {s.out!r} defined twice")
                out[s.out] = [k + 1, 0]
            for name in (s.a, s.b, s.check, s.mod):
                if isinstance(name, str):
                    out[name][1] += 1
        return out

    def bounds(self) -> list:
        """Per step, the constant r < bound (0: none, or the modulus read from memory)."""
        return [0 if s.kind == WRITE or self.modulus is None or (s.kind == READ and not self.reads_canonical)
                else (self.modulus if s.bound is None else s.bound) for s in self.steps]

    # ---- constraints --------------------------------------------------------------------------
    def constraints(self, b):
        L, m, n = self.layout(), b.main, self.n
        cols = lambda name: [m(i) for i in getattr(L, name)]  # noqa: E731
        ptr_cols = {i: (m(getattr(L, f"p{i}q")), cols(f"p{i}lo"), cols(f"p{i}room")) for i in self.pointers}
        shared = [L.clk, *L.x0, *L.x1, *(getattr(L, f"p{i}q") for i in self.pointers)]
        for name in self.shared_extra:
            shared += list(getattr(L, name))
        active, pos = call_chain(b, L.pos, shared, self.name)
        first, clk = pos[0], m(L.clk)
        sel = lambda pred: sum(p for p, s in zip(pos, self.steps) if pred(s))  # noqa: E731

        # the call: its token on row 0, the pointer checks there
        code = to_bytes([self.code])[0].tolist()
        b.receive(buses.PRECOMPILE, [clk, *code, *cols("x0"), *self.a1_bytes(b)], first)
        keys = {}
        for i, words in self.pointers.items():
            q, lo, room = ptr_cols[i]
            keys[i] = buffer_key(b, cols(f"x{i}"), q, lo, room, words, first, f"{self.name} a{i}")
            zero_unless(b, first, lo + room, f"{self.name}: pointer checks only on row 0")

        a, bb, r, q, cl, ch, lt = (cols(x) for x in ("a", "b", "r", "q", "cl", "ch", "lt"))
        slots = self.slots()
        # operands: a value (sent on the bus) or a constant
        for which, col in (("a", a), ("b", bb)):
            uses = sel(lambda s, w=which: isinstance(getattr(s, w), str))
            slot = by_position(pos, [slots[getattr(s, which)][0] if isinstance(getattr(s, which), str) else 0 for s in self.steps])
            b.send(FIELD_VALUE, [clk, slot, *col], uses)
            for k, s in enumerate(self.steps):
                c = getattr(s, which)
                if isinstance(c, int) and not isinstance(c, bool):
                    for x, v in zip(col, fo.limbs_of(c, n)):
                        b.assert_zero(pos[k] * (x - v), f"{self.name}: step {k} operand {which} is the constant {c:#x}")
            io_b = sel(lambda s: s.kind in (READ, WRITE)) if which == "b" else 0
            const = sel(lambda s, w=which: isinstance(getattr(s, w), int))
            zero_unless(b, uses + const + io_b, col, f"{self.name}: operand {which} unused is 0")
        # the result: defines a value (received, multiplicity = its uses) or checks one (sent)
        b.receive(FIELD_VALUE, [clk, by_position(pos, [slots[s.out][0] if s.out else 0 for s in self.steps]), *r],
                  by_position(pos, [slots[s.out][1] if s.out else 0 for s in self.steps]))
        b.send(FIELD_VALUE, [clk, by_position(pos, [slots[s.check][0] if s.check else 0 for s in self.steps]), *r],
               sel(lambda s: s.check is not None))
        zero_unless(b, active, r, f"{self.name}: a padding row is 0")

        # arithmetic rows: the gadget's identity; r < bound where the step asks; bytes
        arith = sel(lambda s: s.kind in ARITH)
        kind = {k: sel(lambda s, k=k: s.kind == k) for k in ARITH}
        checked = sel(lambda s: s.kind not in (READ, WRITE))
        if self.modulus is None:
            modulus = self._read_modulus(b, L, pos, clk, arith, slots)
            fo.assert_field_op(b, kind, a, bb, r, q, cl, ch, modulus, self.name)
            fo.assert_below(b, r + [0], modulus, lt, checked, self.name)
        else:
            modulus, q_used = self.field_modulus(b, q)
            fo.assert_field_op(b, kind, a, bb, r, q_used, cl, ch, modulus, self.name, self.field_addend(b, pos))
            reads_checked = sel(lambda s: s.kind == READ) if self.reads_canonical else 0
            self.assert_canonical(b, r, lt, pos, checked + reads_checked)
        fo.range_check(b, r, checked)
        fo.range_check(b, [*q, *cl, *ch], arith)
        zero_unless(b, arith, q + cl + ch, f"{self.name}: quotient and carries only on arithmetic rows")

        # memory: n/4 words per READ/WRITE row, from b to r at ekey + j
        io, reads = sel(lambda s: s.kind in (READ, WRITE)), sel(lambda s: s.kind == READ)
        ekey = m(L.ekey)
        want = sum(p * (keys[s.ptr] + s.offset) for p, s in zip(pos, self.steps) if s.kind in (READ, WRITE))
        b.assert_zero(io * ekey - want, f"{self.name}: the element's first word key")
        for x, y in zip(bb, r):
            b.assert_zero(reads * (x - y), f"{self.name}: a READ leaves memory as it was")
        ts = 4 * clk + 4 + by_position(pos, [TS_READ[s.ptr] if s.kind == READ else TS_WRITE if s.kind == WRITE else 0
                                             for s in self.steps])
        prev_ts, d = cols("prev_ts"), cols("d")
        for j in range(n // 4):
            memory_access(b, ekey + j, bb[4 * j:4 * j + 4], r[4 * j:4 * j + 4], prev_ts[j], d[4 * j:4 * j + 4], ts, io,
                          f"{self.name} word {j}")
        zero_unless(b, io, [ekey, *prev_ts, *d], f"{self.name}: memory columns only on READ/WRITE rows")
        self.extra_constraints(b, L, pos, active)

    def _read_modulus(self, b, L, pos, clk, arith, slots) -> list:
        """A modulus read from memory, on the arithmetic rows: its bytes m (received from the
        value ``mod`` names) and mz = [m = 0] (Σm < 2^13 < p, so Σm·minv = 1 − mz, Σm·mz = 0 is
        the integer test); returns the n + 1 limbs of m + 2^(8n)·mz."""
        m = [b.main(i) for i in L.m]
        mz, minv = b.main(L.mz), b.main(L.minv)
        slot = by_position(pos, [slots[s.mod][0] if s.mod else 0 for s in self.steps])
        b.send(FIELD_VALUE, [clk, slot, *m], arith)
        b.assert_bool(mz, f"{self.name}: m = 0 is a bit")
        b.assert_zero(sum(m) * mz, f"{self.name}: m = 0 ⇒ its bytes are 0")
        b.assert_zero(arith * (1 - mz) - sum(m) * minv, f"{self.name}: m ≠ 0 ⇒ a byte is not 0")
        zero_unless(b, arith, [*m, mz, minv], f"{self.name}: the modulus only on arithmetic rows")
        return m + [mz]

    # ---- hooks for a subclass (the defaults are the plain field program) ------------------------
    def field_modulus(self, b, q) -> tuple:
        """(the constant modulus the gadget uses: an int or its limbs, the quotient limbs it multiplies)."""
        return self.modulus, q

    def field_addend(self, b, pos):
        """Limb expressions added to every arithmetic row's left side (None: none; u256x2048.py's carry-in)."""
        return None

    def assert_canonical(self, b, r, lt, pos, checked) -> None:
        """r < the step's bound on every non-I/O row (field_ops.assert_below)."""
        n = self.n
        bound = [by_position(pos, [fo.limbs_of(v, n)[i] if v else 0 for v in self.bounds()]) for i in range(n)]
        fo.assert_below(b, r, bound, lt, checked, self.name)

    def check_read(self, step, values) -> None:
        """Refuse (UnsupportedProgram) values READ that the chip's steps cannot prove."""

    def more_pointers(self, w, calls, addr) -> dict:
        """Pointer arguments beyond a0 and a1 ({index: int64 array over the calls}), which the
        subclass reads from registers itself (its columns x2, x3, …); ``addr``: each call's
        memory-event addresses, in the executor's order."""
        return {}

    def step_addend(self, k, values):
        """The integers added on step k's rows (None: none); ``values`` also holds each earlier
        arithmetic step's quotients under ("q", k)."""
        return None

    def step_witness(self, kind, av, bv, bound, addend) -> dict:
        """The gadget's columns of one constant-modulus step (fo.op_witness)."""
        return fo.op_witness(kind, av, bv, self.modulus, self.n, bound=bound, addend=addend)

    def a1_bytes(self, b) -> list:
        """The a1 bytes the call's token carries (default: the x1 columns)."""
        return [b.main(i) for i in self.layout().x1]

    def extra_constraints(self, b, L, pos, active) -> None:
        """A subclass's own step kinds and columns."""
        if any(s.kind not in (READ, WRITE, *ARITH) for s in self.steps):
            raise NotImplementedError(f"{self.name}: custom step kinds need extra_constraints")

    # ---- witness ------------------------------------------------------------------------------
    def custom_value(self, step, values, calls):
        """The value a custom step defines (object array over calls)."""
        raise NotImplementedError(f"{self.name}: step kind {step.kind!r}")

    def extra_witness(self, t, rows_of, values, calls) -> None:
        """Fill a subclass's own columns."""

    def generate(self, w):
        """len(steps) rows per call the syscall chip sends: the READ values from the executor's
        events, every step evaluated on Python integers (object arrays over the calls), checked
        against what the executor wrote."""
        L, n, nw = self.layout(), self.n, self.n // 4
        clk, a0, a1 = precompile_calls(w, self, self.code)
        calls = {"clk": clk, "a0": a0, "a1": a1}
        ncalls, R = len(clk), len(self.steps)
        t, rows = call_table(ncalls, L.width, L.pos)
        if ncalls == 0:  # no call (most runs, for most chips): the all-zero padding rows, no access
            return t
        per_call = sum(nw for s in self.steps if s.kind in (READ, WRITE))
        addr, before, after = call_memory_events(w, clk, per_call, self.name)
        rows_of = lambda k: R * np.arange(ncalls) + k  # noqa: E731
        t[rows, L.clk] = per_row(clk, R)
        t[rows[:, None], L.x0] = per_row(to_bytes(a0), R)
        t[rows[:, None], L.x1] = per_row(to_bytes(a1), R)
        ptr_val = {0: a0, 1: a1, **self.more_pointers(w, calls, addr)}
        calls.update({f"a{i}": v for i, v in ptr_val.items()})
        for i, words in self.pointers.items():
            buffer_witness(t, rows_of(0), ptr_val[i], words, getattr(L, f"p{i}q"), getattr(L, f"p{i}lo"),
                           getattr(L, f"p{i}room"))
            t[rows, getattr(L, f"p{i}q")] = per_row(t[rows_of(0), getattr(L, f"p{i}q")], R)

        def words_at(target, which):  # (calls, nw) words of the first (reads) / last (writes) events at target
            out = np.zeros((ncalls, nw), dtype=np.int64)
            for j in range(nw):
                hit = addr == (target + 4 * j)[:, None]
                if not hit.any(axis=1).all():
                    raise ConstraintNotSatisfied(f"{self.name}: no executor event at a word it accesses (inconsistent trace)")
                idx = np.argmax(hit, axis=1) if which == "first" else per_call - 1 - np.argmax(hit[:, ::-1], axis=1)
                out[:, j] = (before if which == "first" else after)[np.arange(ncalls), idx]
            return out

        def as_int(word_arr):
            return np.array(fo.from_limbs(to_bytes(word_arr.reshape(-1)).reshape(ncalls, n)), dtype=object)

        values, bounds = {}, self.bounds()
        for k, s in enumerate(self.steps):
            rk = rows_of(k)
            operand = lambda x: values[x] if isinstance(x, str) else np.full(ncalls, x, dtype=object)  # noqa: E731
            if s.kind in (READ, WRITE):
                target = ptr_val[s.ptr] + 4 * s.offset
                key = memory_key(target)
                t[rk, L.ekey] = key
                if s.kind == READ:
                    words = words_at(target, "first")
                    values[s.out] = r_int = as_int(words)
                    self.check_read(s, r_int)
                    t[rk[:, None], L.b] = t[rk[:, None], L.r] = limbs = fo.to_limbs(r_int, n)
                    if self.reads_canonical:
                        t[rk[:, None], L.lt] = fo.lt_flags(limbs, fo.limbs_of(bounds[k], n))
                else:
                    r_int = values[s.check]
                    words = to_bytes_words(r_int, n)
                    if np.any(words_at(target, "last") != words):
                        raise ConstraintNotSatisfied(f"{self.name}: the executor wrote another value than the chip computes")
                    t[rk[:, None], L.r] = fo.to_limbs(r_int, n)
                ts = 4 * clk + 4 + (TS_READ[s.ptr] if s.kind == READ else TS_WRITE)
                for j in range(nw):
                    w.add_accesses(Access(t, rk, key + j, ts, words[:, j], L.prev_ts[j], L.d[4 * j:4 * j + 4],
                                          None if s.kind == READ else L.b[4 * j:4 * j + 4], f"{self.name} {s.kind}"))
                continue
            if s.kind in ARITH:
                av, bv = operand(s.a), operand(s.b)
                mod = self.modulus
                if mod is None:  # read from memory: 0 means 2^(8n)
                    mod = np.array([int(x) or 1 << (8 * n) for x in values[s.mod]], dtype=object)
                    t[rk[:, None], L.m] = fo.to_limbs(values[s.mod], n)
                    msum = t[rk[:, None], L.m].sum(axis=1)
                    t[rk, L.mz] = msum == 0
                    t[rk, L.minv] = [pow(int(x), -1, P) if x else 0 for x in msum]
                if s.kind == fo.DIV and np.any(np.array([int(x) % int(y) for x, y in np.broadcast(bv, mod)]) == 0):
                    raise UnsupportedProgram(f"{self.name}: a division by 0 mod m (inputs off the curve?) cannot be proved: "
                                             "the chip proves the divisor's inverse")
                wide = self.modulus is None
                if wide:
                    col = fo.op_witness(s.kind, av, bv, mod, n, q_limbs=2 * n, m_limbs=n + 1, bound=False)
                else:
                    col = self.step_witness(s.kind, av, bv, bounds[k], self.step_addend(k, values))
                for name in ("a", "b", "q", "cl", "ch") + (() if wide else ("lt",)):
                    t[rk[:, None], getattr(L, name)[:col[name].shape[1]]] = col[name]
                r_int = col["r_int"]
                values[("q", k)] = col["q_int"]
                t[rk[:, None], L.r] = fo.to_limbs(r_int, n)
                if wide:  # r < m + 2^(8n)·mz on n + 1 limbs
                    r_ext = np.concatenate([fo.to_limbs(r_int, n), np.zeros((ncalls, 1), dtype=np.int64)], axis=1)
                    t[rk[:, None], L.lt] = fo.lt_flags(r_ext, fo.to_limbs(mod, n + 1))
            else:
                r_int = self.custom_value(s, values, calls)
                if s.a is not None:
                    t[rk[:, None], L.a] = fo.to_limbs(operand(s.a), n)
                t[rk[:, None], L.r] = r = fo.to_limbs(r_int, n)
                t[rk[:, None], L.lt] = fo.lt_flags(r, fo.limbs_of(bounds[k], n))
            if s.out is not None:
                values[s.out] = r_int
            elif s.check is not None and any(int(x) != int(y) for x, y in zip(r_int, values[s.check])):
                raise ConstraintNotSatisfied(f"{self.name}: step {k} does not check out (inconsistent trace)")
        self.extra_witness(t, rows_of, values, calls)
        return t


def to_bytes_words(ints, n: int) -> np.ndarray:
    """Python integers → (len, n/4) little-endian 32-bit words (int64)."""
    limbs = fo.to_limbs(ints, n).reshape(-1, n // 4, 4)
    return limbs[:, :, 0] | limbs[:, :, 1] << 8 | limbs[:, :, 2] << 16 | limbs[:, :, 3] << 24
