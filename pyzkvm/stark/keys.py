"""Setup: compile the AIRs and commit their preprocessed columns into the keys.

The verifying key fixes the statement's layout: parameters, each table's AIR (its constraints
are code), the height of each table's preprocessed (fixed) columns and the root of one
mixed-matrix Merkle tree over all of them (mmcs.py), and the number of public values. Its 32-byte digest is the first thing both transcripts observe, so a
proof is bound to exactly this set of tables and fixed columns.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Sequence

import blake3
import numpy as np

from ..errors import StarkConfigError
from .air import Air, compile_air
from .config import StarkConfig
from .domain import coset_shift
from .field import P, TWO_ADICITY
from .mmcs import MixedMatrixTree
from .ntt import coset_lde

MIN_LOG_HEIGHT = 2  #: every table has at least 4 rows


@dataclass
class VerifyingKey:
    """What the verifier needs besides the proof and the public values."""

    config: StarkConfig
    compiled: list            # CompiledAir per table, in proof order
    prep_root: bytes | None   # one mixed-matrix tree over every table's preprocessed LDE
    prep_log_heights: list    # int or None per table (a preprocessed table has a fixed height)
    num_public_values: int
    digest: bytes

    @property
    def airs(self) -> list:
        return [c.air for c in self.compiled]


@dataclass
class ProvingKey:
    """The verifying key plus the prover's copy of the preprocessed traces, LDEs and trees."""

    verifying_key: VerifyingKey
    prep_traces: list         # (n, wp) or None per table
    prep_ldes: list           # its LDE or None per table
    prep_tree: object         # MixedMatrixTree over the preprocessed LDEs, or None


def check_trace(air: Air, trace, what: str = "main", width: int | None = None) -> np.ndarray:
    """Validate a trace matrix: 2-D, the AIR's width, power-of-two height ≥ 4, canonical values."""
    width = air.width if width is None else width
    arr = np.asarray(trace)
    if arr.ndim != 2 or arr.shape[1] != width:
        raise StarkConfigError(f"table {air.name!r}: {what} trace has shape {arr.shape}, expected (n, {width})")
    n = arr.shape[0]
    if n < (1 << MIN_LOG_HEIGHT) or n & (n - 1):
        raise StarkConfigError(f"table {air.name!r}: {what} trace has {n} rows; pad it to a power of two ≥ {1 << MIN_LOG_HEIGHT}")
    if arr.dtype.kind not in "iu" or (arr.size and (arr.min() < 0 or arr.max() >= P)):
        raise StarkConfigError(f"table {air.name!r}: {what} trace must hold canonical field elements (integers in [0, p))")
    return np.ascontiguousarray(arr, dtype=np.uint32)


def lde_shift(log_n: int, config: StarkConfig) -> int:
    return coset_shift(log_n + config.log_blowup)


def setup(config: StarkConfig, airs: Sequence[Air]) -> ProvingKey:
    """Compile every AIR and commit the preprocessed columns: returns the ProvingKey
    (its ``verifying_key`` is what the verifier gets)."""
    if not airs:
        raise StarkConfigError("setup needs at least one AIR")
    names = [a.name for a in airs]
    if len(set(names)) != len(names):
        raise StarkConfigError(f"table names must be distinct, got {names}")
    compiled, heights, traces, ldes = [], [], [], []
    h = blake3.blake3(b"pyzkvm-stark-vk-v1")
    h.update(struct.pack("<4I", config.log_blowup, config.num_queries, config.pow_bits, config.log_final_poly_len))
    for air in airs:
        c = compile_air(air, (1 << config.log_blowup) + 1)  # the highest degree the blowup allows
        if c.log_quotient_chunks > config.log_blowup:
            raise StarkConfigError(
                f"table {air.name!r}: constraint degree {c.max_degree} needs {1 << c.log_quotient_chunks} quotient chunks "
                f"but blowup is {config.blowup}; raise log_blowup or lower the degree")
        compiled.append(c)
        log_h, tr, lde = None, None, None
        if air.preprocessed_width:
            tr = check_trace(air, air.preprocessed_trace(), "preprocessed", air.preprocessed_width)
            log_h = tr.shape[0].bit_length() - 1
            if log_h + config.log_blowup > TWO_ADICITY:
                raise StarkConfigError(f"table {air.name!r}: 2^{log_h} rows is too tall for blowup {config.blowup}")
            lde = coset_lde(tr, config.log_blowup, shift=lde_shift(log_h, config))
        name = air.name.encode()
        h.update(struct.pack("<I", len(name)) + name)
        h.update(struct.pack("<5I", air.width, air.preprocessed_width, air.num_public_values,
                             c.num_aux_columns, log_h if log_h is not None else 0xFFFFFFFF))
        heights.append(log_h)
        traces.append(tr)
        ldes.append(lde)
    prep_tree = None
    if any(lde is not None for lde in ldes):
        prep_tree = MixedMatrixTree.commit([lde for lde in ldes if lde is not None])
        h.update(prep_tree.root)
    bus_names = {}
    for c in compiled:  # a named bus is hashed to a field element: two names must not collide
        for it in c.interactions:
            if bus_names.setdefault(it.bus, it.bus_name) != it.bus_name:
                raise StarkConfigError(f"buses {bus_names[it.bus]!r} and {it.bus_name!r} map to the same id; rename one")
    num_pv = max(a.num_public_values for a in airs)
    h.update(struct.pack("<I", num_pv))
    vk = VerifyingKey(config, compiled, None if prep_tree is None else prep_tree.root, heights, num_pv, h.digest())
    return ProvingKey(vk, traces, ldes, prep_tree)
