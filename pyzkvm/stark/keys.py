"""Setup: compile the AIRs and commit their preprocessed columns into the keys.

The verifying key fixes the statement's layout: parameters, each table's AIR, the height of
each table's preprocessed (fixed) columns and the root of one mixed-matrix Merkle tree over
all of them (mmcs.py), and the number of public values. Two digests name it:

    circuit_digest = BLAKE3("pyzkvm-stark-circuit-v1" ‖ log_blowup
                            ‖ per table: name, widths, aux columns, preprocessed log-height,
                                         air_digest (its constraint DAG, see air_digest)
                            ‖ preprocessed root ‖ number of public values)
    digest         = BLAKE3("pyzkvm-stark-vk-v4" ‖ circuit_digest ‖ num_queries ‖ pow_bits
                            ‖ log_final_poly_len ‖ bus_pow_bits ‖ log_fri_arity
                            [‖ "zk" in hiding mode])

The circuit digest names *what* is proved (tables, constraints with their constants, bus ids,
fixed columns) and depends on the FRI parameters only through log_blowup (the preprocessed
LDE lives on the blowup coset); the digest adds the query parameters and is the first thing
both transcripts observe, so a proof is bound to exactly this statement and these parameters.
An AIR's ``optional`` flag is in neither digest: a table left out and an all-zero table are
the same statement (optional.py, which checks the flag while the key is built). Nor is hiding
mode's blinding ring (blind.py): both digests name the chips' AIRs (``compiled``), the key's
``proved`` list holds what the proof system proves (the ring added in hiding mode, which the
digest's "zk" marks), so the image ID is the same in both modes.
"""

from __future__ import annotations

import dataclasses
import struct
from dataclasses import dataclass
from typing import Callable, Sequence

import blake3
import numpy as np

from ..errors import PublicValueMismatch, StarkConfigError
from .. import lazy_njit
from ..lazy_njit import njit
from .air import LEAF_KINDS, Air, CompiledAir, compile_air
from .blind import BLIND_BUS, BLIND_BUS_ID, blinded
from .config import StarkConfig
from .domain import coset_shift
from .field import P, TWO_ADICITY
from .gc_pause import without_cycle_collection
from .mmcs import MixedMatrixTree
from .ntt import coset_lde
from .optional import check_optional_air
from .pool import parallel_for

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
    circuit_digest: bytes = b""
    #: CompiledAir per table as the proof system proves it: ``compiled`` itself in transparent
    #: mode; in hiding mode each with the blinding ring's columns and interactions (blind.py).
    #: The digests name ``compiled`` (the ring is part of the hiding proof format, like the salts)
    proved: list = dataclasses.field(default_factory=list)

    @property
    def airs(self) -> list:
        return [c.air for c in self.compiled]


@dataclass
class ProvingKey:
    """The verifying key plus the prover's copy of the preprocessed traces, LDEs and trees."""

    verifying_key: VerifyingKey
    prep_traces: list         # (n, wp) or None per table
    prep_ldes: list           # its LDE or None per table
    prep_tree: MixedMatrixTree | None  # over the preprocessed LDEs (None: no table has any)


def check_trace(air: Air, trace, what: str = "main", width: int | None = None) -> np.ndarray:
    """Validate a trace matrix: 2-D, the AIR's width, power-of-two height ≥ 4, canonical values."""
    width = air.width if width is None else width
    arr = np.asarray(trace)
    if arr.ndim != 2 or arr.shape[1] != width:
        raise StarkConfigError(f"table {air.name!r}: {what} trace has shape {arr.shape}, expected (n, {width})")
    n = arr.shape[0]
    if n < (1 << MIN_LOG_HEIGHT) or n & (n - 1):
        raise StarkConfigError(f"table {air.name!r}: {what} trace has {n} rows; pad it to a power of two ≥ {1 << MIN_LOG_HEIGHT}")
    if arr.dtype.kind not in "iu" or (arr.size and not _field_values(arr)):
        raise StarkConfigError(f"table {air.name!r}: {what} trace must hold canonical field elements (integers in [0, p))")
    return np.ascontiguousarray(arr, dtype=np.uint32)


#: words of a trace whose maximum one chunk of ``_field_values``'s loop finds
CANONICAL_BLOCK = 1 << 16


def _field_values(arr: np.ndarray) -> bool:
    """Every value of the integer array in [0, p): one pass (an unsigned array has no negative
    value to look for), a large C-ordered uint32 one's (every machine table's) in blocks side by
    side on the thread pool, each block's maximum (~30 ms of the 2^20-cycle trace, twice: the
    debug check, then the commitment's) — in a prover's process: one that has not loaded numba
    (a verifier's, ``pyzkvm info``: the fixed tables' keys) loads no kernel for it."""
    if arr.dtype != np.uint32 or not arr.flags.c_contiguous or arr.size < 2 * CANONICAL_BLOCK \
            or not lazy_njit.numba_loaded():
        return not ((arr.dtype.kind == "i" and arr.min() < 0) or arr.max() >= P)
    flat = arr.reshape(-1)
    maxima = np.empty(-(-flat.size // CANONICAL_BLOCK), dtype=np.uint32)
    parallel_for(_block_maxima, len(maxima), flat, maxima, work_per_item=CANONICAL_BLOCK)
    return bool(maxima.max() < P)


@njit(cache=True, nogil=True)
def _block_maxima(flat, maxima, lo, hi):
    # maxima[b] = max of flat's block b (CANONICAL_BLOCK words; the last one shorter) for b in
    # [lo, hi) (a chunk of pool.parallel_for)
    size = flat.shape[0]
    for b in range(lo, hi):
        block = flat[b * CANONICAL_BLOCK:min(size, (b + 1) * CANONICAL_BLOCK)]
        m = np.uint32(0)
        for k in range(block.shape[0]):
            m = max(m, block[k])
        maxima[b] = m


def check_public_values(vk, public_values) -> np.ndarray:
    """Public values as canonical uint32 (count must match the verifying key)."""
    try:  # a sequence of integers (int(1.9) would be 1: a value that is not one is refused)
        integers = len(public_values) >= 0 and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in public_values)
    except TypeError:
        integers = False
    if not integers:
        raise PublicValueMismatch("public values must be a sequence of integers")
    vals = [int(v) for v in public_values]
    if len(vals) != vk.num_public_values:
        raise PublicValueMismatch(f"expected {vk.num_public_values} public values, got {len(vals)}")
    if any(not 0 <= v < P for v in vals):
        raise PublicValueMismatch("public values must be field elements in [0, p)")
    return np.array(vals, dtype=np.uint32)


def lde_shift(log_n: int, config: StarkConfig) -> int:
    return coset_shift(log_n + config.log_blowup)


def setup(config: StarkConfig, airs: Sequence[Air], commit: Callable | None = None) -> ProvingKey:
    """Compile every AIR and commit the preprocessed columns: returns the ProvingKey
    (its ``verifying_key`` is what the verifier gets). ``commit(config, traces)``: what
    ``commit_preprocessed`` returns, the same LDEs and tree however it gets them (the machine
    maps its fixed byte table's from the memo: machine/prep_root.py)."""
    if not airs:
        raise StarkConfigError("setup needs at least one AIR")
    names = [a.name for a in airs]
    if len(set(names)) != len(names):
        raise StarkConfigError(f"table names must be distinct, got {names}")
    compiled, heights, traces = [], [], []
    for air in airs:
        c = compile_for(config, air)
        compiled.append(c)
        log_h, tr = None, None
        if air.preprocessed_width:
            tr = check_trace(air, air.preprocessed_trace(), "preprocessed", air.preprocessed_width)
            log_h = tr.shape[0].bit_length() - 1
            if log_h + config.log_blowup > TWO_ADICITY:
                raise StarkConfigError(f"table {air.name!r}: 2^{log_h} rows is too tall for blowup {config.blowup}")
        heights.append(log_h)
        traces.append(tr)
    ldes, prep_tree = (commit or commit_preprocessed)(config, traces)
    vk = verifying_key_from_parts(config, compiled, None if prep_tree is None else prep_tree.root, heights)
    return ProvingKey(vk, traces, ldes, prep_tree)


def commit_preprocessed(config: StarkConfig, traces: Sequence) -> tuple:
    """(each table's preprocessed LDE or None, the tree over them or None when no table has
    preprocessed columns), from the preprocessed traces (None: the table has none). The tree
    keeps every level above its leaves, as machine/prep_root.py's does (a key's, made once)."""
    ldes = [None if tr is None else preprocessed_lde(tr, config) for tr in traces]
    present = [lde for lde in ldes if lde is not None]
    return ldes, MixedMatrixTree.commit(present, recomputed=1) if present else None


def preprocessed_lde(trace: np.ndarray, config: StarkConfig) -> np.ndarray:
    """The LDE of a table's preprocessed columns: blowup 2^log_blowup, on its coset (lde_shift)."""
    return coset_lde(trace, config.log_blowup, shift=lde_shift(trace.shape[0].bit_length() - 1, config))


def compile_once(air: Air, max_degree: int) -> CompiledAir:
    """compile_air(air, max_degree), once per (AIR object, degree bound, its constraints): a
    wide chip's DAG takes seconds to build, and image IDs, setup, trace generation's derived
    multiplicities (machine/evaluate.py) and the debug check each ask for it. An AIR that has
    its compiled form stored (``Air.stored_compiled``: the machine's chips, machine/prover_key.py)
    gives that instead: the prover's view, stark/prover_key.py, with no DAG to build."""
    key = (max_degree, type(air).constraints)
    cache = air.__dict__.setdefault("_compiled_for", {})
    if key not in cache:
        stored = air.stored_compiled(max_degree)  # the machine's chips: a stored prover key, no DAG
        cache[key] = compile_air(air, max_degree) if stored is None else stored
    return cache[key]


def compile_for(config: StarkConfig, air: Air) -> CompiledAir:
    """Compile one AIR for these parameters: LogUp batching up to the degree the blowup allows."""
    c = compile_once(air, _max_degree(config))  # the highest degree the blowup allows
    if c.log_quotient_chunks > config.log_blowup:
        raise StarkConfigError(
            f"table {air.name!r}: constraint degree {c.max_degree} needs {1 << c.log_quotient_chunks} quotient chunks "
            f"but blowup is {config.blowup}; raise log_blowup or lower the degree")
    return c


#: quotient chunks are capped at 2^MAX_LOG_QUOTIENT_CHUNKS = 4 whatever the blowup: a larger
#: blowup buys fewer queries (a smaller proof), not wider LogUp batches — each extra chunk
#: would add 4 columns to every table's opened quotient rows, and the AIRs (so the circuit,
#: apart from the preprocessed commitment) stay the same at blowups 4, 8 and 16
MAX_LOG_QUOTIENT_CHUNKS = 2


def _max_degree(config: StarkConfig) -> int:
    """The highest constraint degree the blowup allows (LogUp batches helper columns up to
    it): 2^min(log_blowup, MAX_LOG_QUOTIENT_CHUNKS) + 1 (DEFAULT's blowup 4: degree 5)."""
    return (1 << min(config.log_blowup, MAX_LOG_QUOTIENT_CHUNKS)) + 1


def verifying_key_from_parts(config: StarkConfig, compiled: Sequence[CompiledAir], prep_root: bytes | None,
                             prep_log_heights: Sequence) -> VerifyingKey:
    """Assemble a VerifyingKey (and its digests) from compiled AIRs and a preprocessed root.

    ``setup`` uses this after committing the preprocessed columns; a verifier that received
    the root and heights (e.g. in a seal) rebuilds the key with it and then compares
    ``circuit_digest`` or ``digest`` with the one it trusts."""
    compiled = list(compiled)
    heights = list(prep_log_heights)
    if len(heights) != len(compiled):
        raise StarkConfigError(f"{len(heights)} preprocessed heights for {len(compiled)} tables")
    for c, log_h in zip(compiled, heights):
        if (log_h is None) != (not c.air.preprocessed_width):
            raise StarkConfigError(f"table {c.air.name!r}: preprocessed height given/missing against its AIR")
        if not getattr(c, "optional_checked", False):  # a stored view (verifier_key.py) was checked when made
            check_optional_air(c)  # an optional table may be left out of a proof: only if its empty table is trivial
    if (prep_root is None) != all(h is None for h in heights):
        raise StarkConfigError("a preprocessed root needs at least one preprocessed table, and vice versa")
    names = [c.air.name for c in compiled]
    if len(set(names)) != len(names):
        raise StarkConfigError(f"table names must be distinct, got {names}")
    bus_names: dict[int, str] = {}
    for c in compiled:  # a named bus is hashed to a field element: two names must not collide
        for it in c.interactions:
            if bus_names.setdefault(it.bus, it.bus_name) != it.bus_name:
                raise StarkConfigError(f"buses {bus_names[it.bus]!r} and {it.bus_name!r} map to the same id; rename one")
            if it.bus == BLIND_BUS_ID:  # its entries come from the prover's secret ring values, bound by nothing else
                raise StarkConfigError(f"table {c.air.name!r} uses bus {it.bus_name!r}, the id of hiding mode's "
                                       f"blinding ring ({BLIND_BUS!r}, stark/blind.py): a chip cannot; rename it")
    num_pv = max(c.air.num_public_values for c in compiled)
    h = blake3.blake3(b"pyzkvm-stark-circuit-v1")
    h.update(struct.pack("<I", config.log_blowup))
    for c, log_h in zip(compiled, heights):
        air = c.air
        name = air.name.encode()
        h.update(struct.pack("<I", len(name)) + name)
        h.update(struct.pack("<5I", air.width, air.preprocessed_width, air.num_public_values,
                             c.num_aux_columns, log_h if log_h is not None else 0xFFFFFFFF))
        h.update(air_digest(c))
    if prep_root is not None:
        h.update(prep_root)
    h.update(struct.pack("<I", num_pv))
    circuit = h.digest()
    h = blake3.blake3(b"pyzkvm-stark-vk-v4")
    h.update(circuit)
    h.update(struct.pack("<5I", config.num_queries, config.pow_bits, config.log_final_poly_len, config.bus_pow_bits,
                         config.log_fri_arity))
    if config.zk:  # hiding mode changes the proof's shape: its proofs are not another mode's
        h.update(b"zk")
    proved = [blinded(c, _max_degree(config)) for c in compiled] if config.zk else compiled
    return VerifyingKey(config, compiled, prep_root, heights, num_pv, h.digest(), circuit, proved)


def _canonical(x):
    """Leaf arguments as plain ints / strings / tuples (numpy ints print differently)."""
    if isinstance(x, (bool, np.bool_)):
        return int(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, tuple):
        return tuple(_canonical(y) for y in x)
    return str(x)


@without_cycle_collection
def air_digest(c: CompiledAir) -> bytes:
    """BLAKE3 of a canonical serialisation of a compiled AIR: every DAG node in topological order
    as (op, leaf arguments or child indices) — constants, column indices and bus ids included —,
    then the constraints (node index; names are cosmetic and left out), the interactions
    (bus id, value nodes, multiplicity node, sign) and their grouping into helper columns.
    Changing any constant inside a constraint changes this digest, hence the verifying key's.
    Computed once per compiled AIR (kept on it)."""
    cached = getattr(c, "_air_digest", None)
    if cached is not None:
        return cached
    h = blake3.blake3(b"pyzkvm-stark-air-dag-v1")
    parts = []  # hashed as one update: BLAKE3 of a concatenation does not depend on how it is fed
    for node in c.builder.nodes:
        # an operation's arguments are its children's indices, already plain ints
        args = _canonical(node.args) if node.op in LEAF_KINDS else tuple([a.index for a in node.args])
        text = repr((node.op, args)).encode()
        parts.append(struct.pack("<I", len(text)))
        parts.append(text)
    h.update(b"".join(parts))
    h.update(repr([x.expr.index for x in c.all_constraints]).encode())
    h.update(repr([(int(it.bus), [v.index for v in it.values], it.multiplicity.index, int(it.sign))
                   for it in c.interactions]).encode())
    h.update(repr([list(map(int, g)) for g in c.interaction_groups]).encode())
    c._air_digest = h.digest()
    return c._air_digest
