"""Range check by lookup: every value is split into two bytes, each byte looked up in a fixed
table of 0..255 (a preprocessed column, committed once in the verifying key).

Tables:
  "u16 values"  main (v, lo, hi):  v = lo + 256·hi;  send(byte bus, [lo]), send(byte bus, [hi])
  "byte table"  preprocessed (b = row index 0..255), main (m):  receive(byte bus, [b], m)

The LogUp bus balances iff every sent byte is in 0..255 and m counts how often each byte was
sent, so v ∈ [0, 2^16).
"""

from __future__ import annotations

import numpy as np

from ..air import Air

BYTE_BUS = "byte"


class U16ValuesAir(Air):
    name = "u16 values"
    width = 3

    def constraints(self, b):
        v, lo, hi = b.main_row()
        b.declare_active(1)  # every row is a value to range-check
        b.assert_eq(v, lo + 256 * hi, "v = lo + 256·hi")
        b.send(BYTE_BUS, [lo])
        b.send(BYTE_BUS, [hi])


class ByteTableAir(Air):
    name = "byte table"
    width = 1
    preprocessed_width = 1

    def constraints(self, b):
        b.declare_active(1)  # a fixed table: every row is a byte; main(0) counts its lookups
        b.receive(BYTE_BUS, [b.prep(0)], b.main(0))

    def preprocessed_trace(self):
        return np.arange(256, dtype=np.uint32).reshape(256, 1)


def range_check_traces(values):
    """Traces for the two tables: values (length a power of two ≥ 4) must be < 2^16."""
    v = np.asarray(values, dtype=np.int64)
    lo, hi = v & 0xFF, v >> 8
    values_trace = np.stack([v, lo, hi], axis=1).astype(np.uint32)
    counts = np.bincount(lo, minlength=256) + np.bincount(hi, minlength=256)
    return [values_trace, counts[:256].reshape(256, 1).astype(np.uint32)]
