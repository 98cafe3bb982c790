"""The ED_ADD / ED_DECOMPRESS chips (machine/ed25519.py on field_program.py and field_ops.py):
honest runs agree with ed25519 arithmetic written here from RFC 8032 (§5.1: the curve, the
addition law, point decoding) — not the executor's code — and every forgery of issue 16's list is
named by the debug check; some are also forced through the real prover and rejected."""

from __future__ import annotations

import numpy as np
import pytest

from pyzkvm.errors import ConstraintNotSatisfied, VerificationError
from pyzkvm.machine import check_machine
from pyzkvm.machine import field_ops as fo
from pyzkvm.machine.ed25519 import EdAddAir, EdDecompressAir
from pyzkvm.stark import INSECURE_FAST_FOR_TESTS, prove, setup, verify
from pyzkvm.stark.field import P as BABYBEAR
from tests.machine.machine_helpers import forced_proof_rejected, forged, run_machine
from tests.rvasm import DATA_BASE, halt, syscall

ED_ADD, ED_DECOMPRESS = 0x00010107, 0x00000108

# ---- RFC 8032 §5.1, written here ----------------------------------------------------------------
P = 2**255 - 19
D = -121665 * pow(121666, -1, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def recover_x(y: int, sign: int) -> int | None:
    """RFC 8032 §5.1.3 step 2–4: x from y and the sign bit, or None (x = 0 with sign 1 is
    rejected there; SP1's precompile returns p — handled by the caller)."""
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    if (v * x * x - u) % P:
        x = x * SQRT_M1 % P
        if (v * x * x - u) % P:
            return None
    return P - x if (x & 1) != sign else x


def edwards_add(p1, p2):
    """RFC 8032 §5.1.4 (in affine coordinates): the complete addition law, a = −1."""
    (x1, y1), (x2, y2) = p1, p2
    t = D * x1 * x2 * y1 * y2
    return (x1 * y2 + x2 * y1) * pow(1 + t, -1, P) % P, (y1 * y2 + x1 * x2) * pow(1 - t, -1, P) % P


GY = 4 * pow(5, -1, P) % P
G = (recover_x(GY, 0), GY)
G2 = edwards_add(G, G)


def le(x: int, n: int = 32) -> bytes:
    return x.to_bytes(n, "little")


def point(p) -> bytes:
    return le(p[0]) + le(p[1])


# ---- an honest run -------------------------------------------------------------------------------
SKIP = 12  # so that no pointer's low byte is 0
A = DATA_BASE + SKIP        # P (written by the adds)
B = A + 64                  # Q
C = B + 64                  # a second P, with coordinates not reduced (x + p, y + p < 2^256)
E0, E1, E2 = C + 64, C + 128, C + 192  # decompress buffers [x | y]
Y_ODD = next(y for y in range(2, 50) if recover_x(y, 0) is not None and recover_x(y, 0) != 0)


def ed_program():
    data = bytes(SKIP) + point(G) + point(G2) + le(G[0] + P) + le(G[1] + P)
    data += bytes(32) + le(GY | 1 << 255)   # y with bit 255 set (ignored), sign 1
    data += bytes(32) + le(1)               # y = 1: x = 0, sign 1 → SP1 writes p
    data += bytes(32) + le(Y_ODD)           # sign 0
    code = [syscall(ED_ADD, A, B),          # G + 2G
            syscall(ED_ADD, A, A),          # doubled in place (a0 = a1)
            syscall(ED_ADD, C, B),          # unreduced input coordinates
            syscall(ED_DECOMPRESS, E0, 1), syscall(ED_DECOMPRESS, E1, 1), syscall(ED_DECOMPRESS, E2, 0),
            syscall(0x02, 3, A, 64), syscall(0x02, 3, C, 64), syscall(0x02, 3, E0, 192), halt(0)]
    return code, data


@pytest.fixture(scope="module")
def honest():
    code, data = ed_program()
    chips, tables, execution = run_machine(code, data=data)
    return chips, tables, execution


def test_results_agree_with_rfc8032_and_pass_the_debug_check(honest):
    chips, tables, _ = honest
    j = tables.journal
    val = lambda i: int.from_bytes(j[32 * i:32 * i + 32], "little")  # noqa: E731
    g3 = edwards_add(G, G2)
    assert (val(0), val(1)) == edwards_add(g3, g3)
    assert (val(2), val(3)) == g3
    assert val(4) == P - G[0] and val(5) == GY | 1 << 255          # x written, y left as it was
    assert val(6) == P and val(7) == 1                              # x = 0 with sign 1: p (SP1)
    assert val(8) == recover_x(Y_ODD, 0) and val(8) % 2 == 0
    check_machine(chips, tables)
    add, dec = tables.traces["ed add"], tables.traces["ed decompress"]
    assert add.shape == (64, EdAddAir.layout().width) and add[:, EdAddAir.layout().pos].sum() == 3 * 20
    assert dec.shape == (64, EdDecompressAir.layout().width) and dec[:, EdDecompressAir.layout().pos].sum() == 3 * 11
    assert not add[60:].any() and not dec[33:].any()  # padding rows are all 0


def test_both_chips_obey_the_inactive_row_rule():
    """compile_air refuses a multiplicity that does not vanish where the selector is 0: both
    compile, with the position flags as the selector's leaves."""
    from pyzkvm.stark.air import compile_air

    for air in (EdAddAir(), EdDecompressAir()):
        active = compile_air(air).builder.active
        leaves, stack = set(), [active]
        while stack:
            e = stack.pop()
            if e.op == "main":
                leaves.add(e.args[0])
            elif isinstance(e.args, tuple):
                stack.extend(x for x in e.args if hasattr(x, "op"))
        assert leaves == set(air.layout().pos)


def test_the_denominators_and_v_are_never_zero_on_the_curve():
    """What the DIV steps rely on: −1/d is not a square mod p (so d·y² + 1 ≠ 0 for every y),
    and d is not a square (so the addition law's denominators are not 0 on the curve)."""
    assert pow(-pow(D, -1, P) % P, (P - 1) // 2, P) == P - 1
    assert pow(D, (P - 1) // 2, P) == P - 1


# ---- forgeries -----------------------------------------------------------------------------------
ADD_L, DEC_L = EdAddAir.layout(), EdDecompressAir.layout()
STEP = {s.out or f"write {s.check}": k for k, s in enumerate(EdAddAir.steps)}
DSTEP = {s.out or f"check {s.check}": k for k, s in enumerate(EdDecompressAir.steps)}


def _int(row, cols) -> int:
    return int.from_bytes(bytes(int(x) for x in row[cols]), "little")


def _set(row, cols, value):
    row[cols] = list(le(value, len(cols)))


def _redo_op(row, L, kind, r, q, n=32):
    """Put result r with quotient q on an op row, with the carries and lt flags that make the
    identity hold (the lt flags as for a canonical r when possible, else at the top byte)."""
    _set(row, L.r, r)
    _set(row, L.q, q)
    cl, ch = fo.op_carries(kind, row[None, L.a], row[None, L.b], row[None, L.r], row[None, L.q], P)
    row[L.cl], row[L.ch] = cl[0], ch[0]
    row[L.lt] = 0
    row[L.lt[n - 1 if r >= P else int(np.flatnonzero(np.array(le(r)) != np.array(le(P)))[-1])]] = 1


def wrong_x3(t):  # x3's MUL row of call 0 answers r + 1
    row = t.traces["ed add"][STEP["x3"]]
    _set(row, ADD_L.r, (_int(row, ADD_L.r) + 1) % P)


def r_plus_m(t):
    """x1·y2 of call 0 as r + p with q − 1: the identity holds, the canonical check does not."""
    row = t.traces["ed add"][STEP["x1y2"]]
    r, q = _int(row, ADD_L.r), _int(row, ADD_L.q)
    _redo_op(row, ADD_L, fo.MUL, r + P, q - 1)
    row[ADD_L.lt] = 0
    row[ADD_L.lt[0]] = 1  # any flag: with byte 0, the bytes above must equal p's


def wrapped_carries(t):
    """x1·y2 of call 0 as r + p_BabyBear (still < p): carries that solve every coefficient
    equation modulo p_BabyBear, so every constraint holds; the carries are not bytes."""
    row = t.traces["ed add"][STEP["x1y2"]]
    r = _int(row, ADD_L.r) + BABYBEAR
    _set(row, ADD_L.r, r)
    row[ADD_L.lt] = fo.lt_flags(row[None, ADD_L.r], fo.limbs_of(P, 32))[0]
    a, b, q = (list(int(x) for x in row[c]) for c in (ADD_L.a, ADD_L.b, ADD_L.q))
    rr, m = list(le(r)), list(le(P))
    v = [0] * 64  # the coefficients of a·b − r − q·m
    for i in range(32):
        for k in range(32):
            v[i + k] += a[i] * b[k]
        v[i] -= rr[i]
    for i in range(33):
        for k in range(32):
            v[i + k] -= q[i] * m[k]
    inv256, prev = pow(256, -1, BABYBEAR), 0
    for k in range(63):
        prev = (prev - v[k]) * inv256 % BABYBEAR
        x = (prev + fo.OFFSET) % BABYBEAR
        row[ADD_L.cl[k]], row[ADD_L.ch[k]] = x % 256, x // 256
    assert (v[63] - prev) % BABYBEAR == 0


def point_not_the_sum(t):  # call 0 writes x3 + 1 (the WRITE row only)
    row = t.traces["ed add"][STEP["write x3"]]
    _set(row, ADD_L.r, _int(row, ADD_L.r) + 1)


def consistent_wrong_sum(t):  # x3 + 1 on its MUL row and where it is written: the identity breaks
    point_not_the_sum(t)
    wrong_x3(t)


def read_from_wrong_address(t):  # call 0 reads x2 one word further on
    t.traces["ed add"][STEP["x2"], ADD_L.ekey] += 1


def pointer_shifted(t):  # call 0's a1 claimed 4 bytes higher on every row (keys follow)
    add = t.traces["ed add"][:20]
    add[:, ADD_L.x1[0]] += 4
    add[:, ADD_L.p1q] += 1
    add[0, ADD_L.p1lo[0]] += 1
    add[0, ADD_L.p1room[0]] -= 1
    add[[STEP["x2"], STEP["y2"]], ADD_L.ekey] += 1


def write_never_happened(t):  # the write of x3 claims memory held x3 already (before = after)
    row = t.traces["ed add"][STEP["write x3"]]
    row[ADD_L.b] = row[ADD_L.r]


def other_root_written(t):
    """Decompress call 0 (sign 1) writes the even root instead, with its own parity witness: the
    square still checks out, the parity does not."""
    dec = t.traces["ed decompress"]
    root, sq, wr = dec[DSTEP["x"]], dec[DSTEP["check w"]], dec[DSTEP["check x"]]
    x = P - _int(root, DEC_L.r)
    _set(root, DEC_L.r, x)
    root[DEC_L.lt] = fo.lt_flags(root[None, DEC_L.r], fo.limbs_of(P + 1, 32))[0]
    root[DEC_L.h] = (x & 0xFF) >> 1
    _set(sq, DEC_L.a, x)
    _set(sq, DEC_L.b, x)
    _redo_op(sq, DEC_L, fo.MUL, x * x % P, x * x // P)
    _set(wr, DEC_L.r, x)


def sign_flipped(t):  # decompress call 0 claims a1 = 0 (its rows), keeping the written x
    dec = t.traces["ed decompress"]
    dec[:11, DEC_L.x1[0]] = 0


def decompress_y_mask_forged(t):  # y taken as y_raw with bit 255 kept clear but y ≠ y_raw's low bits
    row = t.traces["ed decompress"][DSTEP["y"]]
    row[DEC_L.hb] = 0


def padding_row_claims_a_call(t):
    add = t.traces["ed add"]
    add[60] = add[0]


def padding_row_not_zero(t):
    t.traces["ed add"][62, ADD_L.clk] = 5


def padding_replays_a_call(t):  # 4 padding rows cannot hold a 20-row call: replay into the next table size
    dec = t.traces["ed decompress"]
    dec[33:44] = dec[0:11]


ATTACKS = {
    "wrong r": (wrong_x3, r"ed add.*coefficient 0 of a op b − r − q·m.*fails at row 16 "),
    "r + m in place of r": (r_plus_m, r"ed add.*r < bound: bytes above the first difference are equal.*fails at row 4 "),
    "a result off by p_BabyBear (carries wrap mod p)": (wrapped_carries, r"bus .*'(byte|field value)'"),
    "a point written that is not the sum": (point_not_the_sum, r"bus .*'field value'"),
    "a wrong sum computed and written": (consistent_wrong_sum, r"ed add.*coefficient 0 of a op b − r − q·m.*fails at row 16 "),
    "a word read from a wrong address": (read_from_wrong_address, r"ed add.*the element's first word key.*fails at row 2 "),
    "a pointer shifted on every row": (pointer_shifted, r"bus .*'(precompile|memory)'"),
    "a write that never happened": (write_never_happened, r"bus .*'memory'"),
    "the other root written": (other_root_written, r"ed decompress.*x is odd iff the sign is 1.*fails at row 8 "),
    "a wrong sign bit": (sign_flipped, r"ed decompress.*x is odd iff the sign is 1.*fails at row 8 "),
    "bit 255 of y dropped": (decompress_y_mask_forged, r"ed decompress.*y's top byte is y_raw's without bit 255.*fails at row 1 "),
    "a padding row claims a call": (padding_row_claims_a_call, r"ed add.*row 1 of a call follows row 0' fails at row 60 "),
    "a padding row is not 0": (padding_row_not_zero, r"ed add.*a padding row is 0' fails at row 62 "),
    "the padding replays a call": (padding_replays_a_call, r"bus .*'precompile'"),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_debug_check_names_the_forgery(honest, attack):
    chips, tables, _ = honest
    edit, match = ATTACKS[attack]
    with pytest.raises(ConstraintNotSatisfied, match=match):
        check_machine(chips, forged(tables, edit))


def test_wrapped_carries_satisfy_every_constraint_of_the_chip(honest):
    """The wrap forgery above is stopped by the carries' range checks alone: the chip's own
    constraints all hold modulo p_BabyBear."""
    from pyzkvm.machine.evaluate import compiled_air, trace_leaves
    from pyzkvm.stark.debug import check_constraints

    chips, tables, _ = honest
    bad = forged(tables, wrapped_carries).traces["ed add"]
    air = chips.airs[chips.index("ed add")]
    check_constraints(compiled_air(air), trace_leaves(air, bad, tables.public_values), len(bad))


@pytest.mark.slow
def test_honest_proof_verifies_and_forced_forgeries_do_not(honest):
    chips, tables, _ = honest
    pk = setup(INSECURE_FAST_FOR_TESTS, chips.airs)
    proof = prove(pk, tables.in_order(chips), tables.public_values, public_data=tables.public_data).to_bytes()
    verify(pk.verifying_key, proof, tables.public_values, public_data=tables.public_data)
    for attack in ("r + m in place of r", "a result off by p_BabyBear (carries wrap mod p)", "a point written that is not the sum",
                   "a write that never happened", "a wrong sign bit"):
        bad = forged(tables, ATTACKS[attack][0])
        forced_proof_rejected(pk, chips, bad, VerificationError)


@pytest.mark.slow
def test_ed25519_verify_guest_proves_and_verifies_with_the_cli(tmp_path):
    """`pyzkvm prove guests/bin/ed25519-verify.elf` (default backend and preset) on one PyNaCl
    signature (≈ 48 k cycles, 1 147 ED_ADD, 2 ED_DECOMPRESS; the 3-signature batch of
    guests/ed25519-verify/batch3.bin is measured in docs/machine.md §2.10), then `pyzkvm verify`."""
    import os
    import struct
    import subprocess
    import sys
    from pathlib import Path

    from pyzkvm.receipt import Receipt
    from tests.test_sp1_precompiles import ed25519_batch

    root = Path(__file__).resolve().parents[2]
    elf = root / "guests" / "bin" / "ed25519-verify.elf"
    batch, valid = ed25519_batch(1)
    (tmp_path / "batch1.bin").write_bytes(batch)
    env = {**os.environ, "PYTHONPATH": str(root)}
    env.pop("PYZKVM_DEV_MODE", None)

    def cli(*args):
        out = subprocess.run([sys.executable, "-m", "pyzkvm", *map(str, args)], cwd=tmp_path, env=env,
                             capture_output=True, text=True)
        assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
        return out

    cli("prove", elf, "--input", "file:batch1.bin", "-o", "ed.receipt")
    receipt = Receipt.from_bytes((tmp_path / "ed.receipt").read_bytes())
    assert receipt.backend == "stark" and receipt.journal == struct.pack("<II", 1, 1) + bytes(valid)
    assert "verified: stark receipt" in cli("verify", "ed.receipt", "--elf", elf).stdout
