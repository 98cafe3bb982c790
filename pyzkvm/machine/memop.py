"""The load/store chip: which bytes of a memory word a load returns or a store replaces.

The CPU does the memory access itself (word m before, word n after, at key 32 + addr/4) and
sends (op, off0, off1, m, n, v, c) on the ``memop`` bus; this chip receives it and checks

    offset one-hot   o0..o3 ∈ {0,1}, Σ o_k = 1, off0 = o1 + o3, off1 = o2 + o3
    alignment        LW, SW: o0 = 1;  LH, LHU, SH: o0 + o2 = 1   (misaligned access = fault)
    loads            n = m (a load does not change memory) and
                     byte  = Σ o_k·m_k,   half = (o0·m0 + o2·m2, o0·m1 + o2·m3)
                     LBU: c = (byte, 0, 0, 0)      LB: c = (byte, ext, ext, ext)
                     LHU: c = (half, 0, 0)         LH: c = (half, ext, ext)       LW: c = m
                     ext = 255·sign, sign = top bit of the loaded byte/half: top − 128·sign ∈ [0,128)
    stores           SW: n = v;  SB: n_k = o_k·v0 + (1 − o_k)·m_k;
                     SH: n_{0,1} = o0·v_{0,1} + o2·m_{0,1}, n_{2,3} = o2·v_{0,1} + o0·m_{2,3};  c = 0

m, v are bytes (memory and registers only ever hold range-checked bytes), so n and c are too.

Columns: is_lb is_lh is_lw is_lbu is_lhu is_sb is_sh is_sw  o0..o3  m0..3 n0..3 v0..3 c0..3 top sign
"""

from __future__ import annotations

import numpy as np

from ..isa import OPS
from . import buses
from .chip import Chip
from .layout import Layout
from .program_table import padded, to_bytes
from .witness import words

LOADS = ("lb", "lh", "lw", "lbu", "lhu")
STORES = ("sb", "sh", "sw")
MEMOP = Layout(" ".join(f"is_{o}" for o in LOADS + STORES) + " o:4 m:4 n:4 v:4 c:4 top sign")


class LoadStoreAir(Chip):
    name = "load/store"
    width = MEMOP.width
    OPS = LOADS + STORES

    @staticmethod
    def answer(op, word, offset):
        """The value a load puts in rd (uint64), from the word and the byte offset."""
        sh = (8 * np.asarray(offset)).astype(np.uint64)
        word = np.asarray(word, dtype=np.uint64)
        byte, half = (word >> sh) & 0xFF, (word >> sh) & 0xFFFF
        out = np.where(op == OPS["lw"], word, 0)
        out = np.where(op == OPS["lbu"], byte, out)
        out = np.where(op == OPS["lhu"], half, out)
        out = np.where(op == OPS["lb"], np.where(byte >= 0x80, byte | 0xFFFFFF00, byte), out)
        out = np.where(op == OPS["lh"], np.where(half >= 0x8000, half | 0xFFFF0000, half), out)
        return out.astype(np.uint64)

    def generate(self, w):
        """One row per load/store the CPU sends on the ``memop`` bus."""
        fields = w.received(buses.MEMOP, self)
        op, off0, off1 = fields[0], fields[1], fields[2]
        m, n, v, c = (words(fields[3 + 4 * i:7 + 4 * i]) for i in range(4))
        return padded(load_store_rows(op, off0 + 2 * off1, m, n, v, c))

    def constraints(self, b):
        mm = b.main
        f = {k: mm(getattr(MEMOP, f"is_{k}")) for k in LOADS + STORES}
        o, m, n, v, c = ([mm(i) for i in getattr(MEMOP, x)] for x in ("o", "m", "n", "v", "c"))
        top, sign = mm(MEMOP.top), mm(MEMOP.sign)
        active = b.declare_active(sum(f.values()))
        is_load = f["lb"] + f["lh"] + f["lw"] + f["lbu"] + f["lhu"]
        for k, x in f.items():
            b.assert_bool(x, f"is_{k} is boolean")
        b.assert_bool(active, "one operation per row")
        for k in range(4):
            b.assert_bool(o[k], f"o{k} is boolean")
        b.assert_eq(o[0] + o[1] + o[2] + o[3], active, "exactly one byte offset")
        b.assert_zero((f["lw"] + f["sw"]) * (1 - o[0]), "word access is aligned")
        b.assert_zero((f["lh"] + f["lhu"] + f["sh"]) * (1 - o[0] - o[2]), "half-word access is aligned")

        byte = o[0] * m[0] + o[1] * m[1] + o[2] * m[2] + o[3] * m[3]
        half = [o[0] * m[0] + o[2] * m[2], o[0] * m[1] + o[2] * m[3]]
        ext = 255 * sign
        b.assert_bool(sign, "sign is boolean")
        b.assert_eq(top, f["lb"] * byte + f["lh"] * half[1], "top = the loaded value's most significant byte")
        b.send(buses.BYTE, [buses.TAG_RANGE, top - 128 * sign, 2 * (top - 128 * sign), 0, 0], f["lb"] + f["lh"])
        for i in range(4):
            b.assert_zero(is_load * (n[i] - m[i]), f"a load keeps the word (byte {i})")
        want = {
            "lbu": [byte, 0, 0, 0], "lb": [byte, ext, ext, ext], "lhu": [half[0], half[1], 0, 0],
            "lh": [half[0], half[1], ext, ext], "lw": m,
        }
        for k, vals in want.items():
            for i in range(4):
                b.assert_zero(f[k] * (c[i] - vals[i]), f"{k.upper()}: loaded byte {i}")
        stores = f["sb"] + f["sh"] + f["sw"]
        for i in range(4):
            b.assert_zero(stores * c[i], f"a store loads nothing (byte {i})")
            b.assert_zero(f["sw"] * (n[i] - v[i]), f"SW: new byte {i}")
            b.assert_zero(f["sb"] * (n[i] - o[i] * v[0] - (1 - o[i]) * m[i]), f"SB: new byte {i}")
            lo, hi = (o[0], o[2]) if i < 2 else (o[2], o[0])
            b.assert_zero(f["sh"] * (n[i] - lo * v[i % 2] - hi * m[i]), f"SH: new byte {i}")
        op = sum(OPS[k] * x for k, x in f.items())
        b.receive(buses.MEMOP, [op, o[1] + o[3], o[2] + o[3], *m, *n, *v, *c], active)


def load_store_rows(op, offset, m_val, n_val, v_val, c_val):
    """The chip's rows (unpadded int64) for these memory operations."""
    k = len(op)
    rows = np.zeros((k, MEMOP.width), dtype=np.int64)
    for name in LOADS + STORES:
        rows[:, getattr(MEMOP, f"is_{name}")] = op == OPS[name]
    rows[np.arange(k), np.asarray(MEMOP.o)[offset]] = 1
    rows[:, MEMOP.m], rows[:, MEMOP.n] = to_bytes(m_val), to_bytes(n_val)
    rows[:, MEMOP.v], rows[:, MEMOP.c] = to_bytes(v_val), to_bytes(c_val)
    is_lb, is_lh = op == OPS["lb"], op == OPS["lh"]
    mb = to_bytes(m_val).astype(np.int64)
    top = np.where(is_lb, mb[np.arange(k), offset], 0) + np.where(is_lh, mb[np.arange(k), np.minimum(offset + 1, 3)], 0)
    rows[:, MEMOP.top] = top
    rows[:, MEMOP.sign] = (is_lb | is_lh) & (top >= 128)
    return rows
