"""A malicious prover for the field-program chips (pyzkvm/machine/field_program.py), for forced
proofs: tables that are a consistent witness of a run in every respect but the one constraint an
attack targets, so that the verifier's rejection is that constraint's doing (remove it and the
forced proof verifies).

A forgery is a subclass of the honest chip class (same name, same layout, so its table takes the
honest table's place) whose witness is what the attacker wants, and a replay of the same steps as
the "executor" of the run, so memory, the journal and every other table agree with the forged
rows. Its knobs:

* ``steps``: the attacker's program of the call (a READ at another offset, a WRITE of another
  value); the honest constraints still hold the honest steps;
* ``result(k, kind, a, b, r, q)``: the attacker's (r, q) on arithmetic step k (or None: the
  honest ones), optionally with the modulus limbs its q multiplies; the carries are
  rebuilt so the row's identity holds over Z when it can (exactly), and otherwise modulo
  BabyBear's p (they are then not bytes: only the byte range check can object);
* ``root(y)``: DECOMPRESS's root as the attacker picks it;
* ``methods``: any other witness hook of the chip class replaced (U256XU2048_MUL's carry-in,
  UINT256_MUL's m = 0 flag).

The honest prover's refusals (``check_read``, FP2_SUB's q ≤ 1 in the witness, lt flags of a
value not below its bound) are the honest prover's: the attacker skips them. The lt flags of a
value ≥ its bound are put at the most significant byte where it differs from the bound, where
the gap is then negative.
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

from pyzkvm.executor import execute
from pyzkvm.executor.sp1_precompiles import PRECOMPILES, read_int, write_int
from pyzkvm.machine import build_chips, generate_tables
from pyzkvm.machine import field_ops as fo
from pyzkvm.machine.field_program import READ, WRITE, FieldProgramAir
from pyzkvm.machine.fp_ops import Fp2SubAir
from pyzkvm.machine.tables import Chips
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, setup
from pyzkvm.stark.field import P as BABYBEAR
from tests.rvasm import flatten, program


@dataclass
class Forgery:
    """One attack on the chip named ``chip`` (the knobs: module docstring)."""

    chip: str
    steps: tuple | None = None
    result: Callable | None = None
    root: Callable | None = None
    methods: dict | None = None  #: further attributes of the attacker's chip class (its own witness hooks)


def steps_with(cls, k, **change) -> tuple:
    """``cls``'s steps with step k changed (``Forgery.steps``: a READ at another offset, a WRITE
    of another value)."""
    steps = list(cls.steps)
    steps[k] = dataclasses.replace(steps[k], **change)
    return tuple(steps)


class ProvingKeys:
    """name → (code, chips, small-preset proving key) of ``code_of(name)``'s program, built on
    first use (a module-scope fixture holds one: one setup per program, shared by its attacks;
    no honest run is needed for it)."""

    def __init__(self, code_of):
        self.code_of, self.cache = code_of, {}

    def __call__(self, name):
        if name not in self.cache:
            code = self.code_of(name)
            chips = build_chips(program(flatten(code)))
            self.cache[name] = code, chips, setup(INSECURE_FAST_FOR_TESTS, chips.airs)
        return self.cache[name]


def lenient_lt_flags(r, bound) -> np.ndarray:
    """fo.lt_flags without its refusal: one flag at the top byte where r and bound differ (or at
    the top byte when they are equal)."""
    r = np.asarray(r, dtype=np.int64)
    bound = np.broadcast_to(np.asarray(bound, dtype=np.int64), r.shape)
    differ = r != bound
    top = np.where(differ.any(axis=1), r.shape[1] - 1 - np.argmax(differ[:, ::-1], axis=1), r.shape[1] - 1)
    out = np.zeros(r.shape, dtype=np.int64)
    out[np.arange(len(r)), top] = 1
    return out


def carries_mod_babybear(kind, a, b, r, q, m) -> tuple:
    """Carry "bytes" (cl, ch) that satisfy every coefficient equation of a op b = r + q·m modulo
    BabyBear's p (field_ops.assert_field_op), for an identity that holds only modulo p: c_k is
    solved from v_k = c_{k−1} − 256·c_k in F_p and stored as cl + 256·ch = c + OFFSET with cl a
    byte and ch whatever it takes (not a byte)."""
    a, b, r, q = (np.asarray(x, dtype=np.int64) for x in (a, b, r, q))
    rows, n = r.shape
    m = np.asarray(fo.limbs_of(m, n) if isinstance(m, int) else m, dtype=np.int64)
    m = np.broadcast_to(m, (rows, m.shape[-1]))
    ncoef = max(2 * n - 1, q.shape[1] + m.shape[1] - 1)
    v = np.zeros((rows, ncoef), dtype=object)
    left = a if kind == fo.MUL else r
    if kind in (fo.MUL, fo.DIV):
        for i in range(n):
            v[:, i:i + n] += left[:, i:i + 1].astype(object) * b
    v[:, :n] += {fo.MUL: -r, fo.DIV: -a, fo.ADD: a + b - r, fo.SUB: r + b - a}[kind]
    for i in range(q.shape[1]):
        v[:, i:i + m.shape[1]] -= q[:, i:i + 1].astype(object) * m
    inv256 = pow(256, -1, BABYBEAR)
    cl = np.zeros((rows, ncoef - 1), dtype=np.int64)
    ch = np.zeros_like(cl)
    for row in range(rows):
        prev = 0
        for k in range(ncoef - 1):
            prev = (prev - int(v[row, k])) * inv256 % BABYBEAR
            x = (prev + fo.OFFSET) % BABYBEAR
            cl[row, k], ch[row, k] = x % 256, x // 256
        if (prev - int(v[row, ncoef - 1])) % BABYBEAR:
            raise ValueError("the forged identity does not hold even modulo BabyBear's p")
    return cl, ch


class _State:
    """Which forged chip is generating (or replaying) now, and its arithmetic step counter."""
    forged = None
    arith: list = []
    i = 0


def _forging_op_witness(honest_op_witness):
    """fo.op_witness with the forged chip's ``result`` applied to its arithmetic steps: every
    arithmetic step goes through op_witness once per batch, in step order, both in the chip's
    witness and in the replay, so a counter names the step."""

    def op_witness(kind, a_int, b_int, modulus, n, bound=None, q_limbs=None, m_limbs=None, addend=None):
        col = honest_op_witness(kind, a_int, b_int, modulus, n, bound=bound, q_limbs=q_limbs, m_limbs=m_limbs,
                                addend=addend)
        air = _State.forged
        if air is None or air.forgery.result is None:
            return col
        k = _State.arith[_State.i % len(_State.arith)]
        _State.i += 1
        new = air.forgery.result(k, kind, a_int, b_int, col["r_int"], col["q_int"])
        if new is None:
            return col
        r_int, q_int = (np.asarray(x, dtype=object) for x in new[:2])
        col["r"], col["q"] = fo.to_limbs(r_int, n), fo.to_limbs(q_int, q_limbs or n + 1)
        m = modulus if isinstance(modulus, int) else fo.to_limbs(modulus, m_limbs or n)
        if len(new) > 2:  # the modulus limbs the attacker's q multiplies (UINT256_MUL's m + 2^256·mz)
            m = new[2]
        add = None if addend is None else fo.to_limbs(addend, n)
        try:
            col["cl"], col["ch"] = fo.op_carries(kind, col["a"], col["b"], col["r"], col["q"], m, add)
        except ValueError:
            assert add is None, "wrapped carries with an addend: not needed by any attack"
            col["cl"], col["ch"] = carries_mod_babybear(kind, col["a"], col["b"], col["r"], col["q"], m)
        bound = modulus if bound is None else bound
        if bound is not False:
            col["lt"] = lenient_lt_flags(col["r"], fo.limbs_of(bound, n) if isinstance(bound, int) else fo.to_limbs(bound, n))
        col["r_int"], col["q_int"] = r_int, q_int
        return col

    return op_witness


@contextmanager
def _forging(air):
    _State.forged, _State.arith, _State.i = air, [k for k, s in enumerate(air.steps) if s.kind in fo.KINDS], 0
    try:
        yield
    finally:
        _State.forged = None


def forged_class(cls, forgery: Forgery):
    """The attacker's chip: ``cls`` with the forgery's steps, results and root, no refusals."""
    attrs = {"__module__": __name__, "forgery": forgery, "check_read": lambda self, step, values: None}
    if forgery.steps is not None:
        attrs["steps"] = forgery.steps
    if issubclass(cls, Fp2SubAir):  # its q ≤ 1 refusal is in the witness
        attrs["step_witness"] = FieldProgramAir.step_witness

    def generate(self, w):
        with _forging(self):
            return cls.generate(self, w)

    def custom_value(self, step, values, calls):
        y = cls.custom_value(self, step, values, calls)
        return y if forgery.root is None else np.array([forgery.root(int(v)) for v in y], dtype=object)

    attrs.update(generate=generate, custom_value=custom_value, **(forgery.methods or {}))
    forged = type(f"Forged{cls.__name__}", (cls,), attrs)
    forged._layout = cls.layout()
    return forged


def replay(air):
    """An executor handler that runs ``air``'s steps on one call (what the forged rows claim the
    call did), through the same witness functions as the chip."""
    n, bounds = air.n, air.bounds()

    def run(m, name, a0, a1, reg):
        ptr, values = {0: a0, 1: a1}, {}
        for i in sorted(air.pointers)[2:]:  # a2, a3 (U256XU2048_MUL) from x12, x13
            ptr[i] = reg(10 + i)
        calls = {"a0": np.array([a0]), "a1": np.array([a1])}
        operand = lambda x: values[x] if isinstance(x, str) else np.array([x], dtype=object)  # noqa: E731
        with _forging(air):
            for k, s in enumerate(air.steps):
                if s.kind == READ:
                    values[s.out] = np.array([read_int(m, ptr[s.ptr] + 4 * s.offset, n // 4, name)], dtype=object)
                elif s.kind == WRITE:
                    write_int(m, ptr[s.ptr] + 4 * s.offset, int(values[s.check][0]), n // 4, name)
                elif s.kind in fo.KINDS and air.modulus is None:  # the modulus read from memory; 0 is 2^(8n)
                    mod = np.array([int(values[s.mod][0]) or 1 << (8 * n)], dtype=object)
                    values[s.out] = fo.op_witness(s.kind, operand(s.a), operand(s.b), mod, n, q_limbs=2 * n,
                                                  m_limbs=n + 1, bound=False)["r_int"]
                elif s.kind in fo.KINDS:
                    col = air.step_witness(s.kind, operand(s.a), operand(s.b), bounds[k], air.step_addend(k, values))
                    values[("q", k)] = col["q_int"]
                    if s.out is not None:
                        values[s.out] = col["r_int"]
                else:
                    values[s.out] = air.custom_value(s, values, calls)

    return run


def forge_run(code, forgery: Forgery, inputs=(), data: bytes = b""):
    """Run ``code`` with the forged chip's steps as the executor of its calls and build the
    tables with the forged chip's witness; returns the honest chips (for the proving key) and
    the forged tables."""
    prog = program(flatten(code), data=data)
    chips = build_chips(prog)
    i = chips.index(forgery.chip)
    forged = forged_class(type(chips.airs[i]), forgery)()
    airs = list(chips.airs)
    airs[i] = forged
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fo, "lt_flags", lenient_lt_flags)
        mp.setattr(fo, "op_witness", _forging_op_witness(fo.op_witness))
        mp.setitem(PRECOMPILES, forged.code, (PRECOMPILES[forged.code][0], replay(forged)))
        execution = execute(prog, inputs, capture_trace=True)
        tables = generate_tables(Chips(chips.program, chips.image, airs), execution)
    return chips, tables
