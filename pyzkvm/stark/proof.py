"""The STARK proof object and its versioned byte encoding.

Layout, version 13 (little-endian; every array carries its shape)::

    proof      = magic "PZKSTARK" ‖ u16 version ‖ u16 n_tables ‖ header ‖ commitments
                 ‖ ood_openings ‖ trace_queries ‖ fri
    header     = n_tables × (u8 log_height ‖ u8 flags)     flags bit0: has aux, bit1: has prep;
                 a table left out (optional.py) is (0, ABSENT_FLAG): nothing else of it follows
    commitments= main_root[32] ‖ u64 bus_pow_nonce ‖ aux_root[32] if any table has aux ‖ quotient_root[32]
                 ‖ per table with aux: cumsum ext-array ‖ u16 n_fri_layers ‖ n × root[32]
    ood        = per present table: ext-array × (prep, main, aux, quotient at ζ; prep, main, aux at ζω),
                 at ζω only the columns a constraint reads at the next row (openings.py: the AIR
                 says which, the verifier refuses a value more or fewer); one value per base
                 column of prep and main, one per F_p^4 column (4 base columns) of aux and
                 quotient: f(z) = Σ_c X^c·f_c(z) (deep.py)
    queries    = per phase (prep if any, main, aux if any, quotient): per member table (present,
                 and with that phase) its rows array — one row per distinct position the queries
                 open in it, ascending (mmcs.py) —, then the phase's paths
    fri        = final_poly ext-array ‖ u64 pow_nonce ‖ per layer: rows array (q, 4·(2^k − 1):
                 the opened cosets less each query's own entry, fri.py) ‖ paths
    array      = u8 ndim ‖ ndim × u32 dim ‖ prod(dims) field elements, 31 bits each, packed
                 little-endian (pack31), the last byte zero-padded
    paths      = u8 depth ‖ depth × (u16 k ‖ k digests[32]): a Merkle multiproof (multiproof.py),
                 per level only the siblings the verifier cannot compute from the opened rows,
                 in position order; k is fixed by the query positions (checked on verify)

Version 16 is a hiding-mode proof (zk.py): the same layout, where the main, aux and quotient
phases' trees carry one more matrix, the leaves' salt, whose rows follow the member tables'
rows, and every table's main columns end with the blinding ring's 4 (blind.py; every table
has aux columns then). (Versions 2 to 6 — before tables could be left out, before the ring,
and with arity-2 FRI and per-query paths — are no longer read; neither are 7 and 10, whose
LogUp running sum included its own row, so every LogUp helper was opened at ζω: logup.py,
and whose F_p^4 columns were opened as 4 values each.)

Each phase commits all its tables in one mixed-matrix tree (mmcs.py), so a query opens one
path per phase. Decoding is strict: bad magic or version, a length past the end or above a
cap, a field element ≥ p, a malformed path level, or trailing bytes raise
ProofFormatError. ``encode_proof`` also reports each section's byte range (the size
breakdown; the soundness tests flip bytes in each).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field as dc_field

import numpy as np

from ..errors import ProofFormatError
from .field import P
from .fri import FriProof
from .multiproof import Multiproof
from .rounds import LOCAL_GROUPS, NEXT_GROUPS

MAGIC = b"PZKSTARK"
#: 13 (8 to 12 are hiding formats' numbers) since the LogUp running sum S_i sums the rows
#: before i (logup.py): only S, not the helpers, is opened at ζω, and the F_p^4 columns (aux,
#: quotient) are opened as one F_p^4 value each, not 4 (7 opened every aux column at ζω, 4
#: values per F_p^4 column)
VERSION = 13
#: hiding proofs: 16 since a table of n ≥ F·m_r rows is committed on n·blowup points and FRI's
#: final polynomial has F + 1 coefficients (zk.tall, zk.final_poly_len: the tall tables'
#: quotients take more chunks of fewer coefficients); 15 since the blinding ring's two entries are the LogUp running sum's
#: boundaries (S_0 = 1/d(ρ), cumsum = … − 1/d(σ): logup.boundary_interaction), not a helper
#: column's (34 of the machine's 47 chips had one more aux column); 14 for the same reasons as
#: 13 (12 had them without the lifting); 11 since a table's preprocessed group is lifted into
#: its FRI input and a table without one adds no empty group at n·blowup (zk.prep_lde_log: one
#: FRI input per table height, fewer layers, a longer final polynomial); 10 since r has m_r
#: coefficients (deg f̂ < n + m_r) and a few-row table's D is at least 4·m_r, so fewer quotient
#: chunks (zk.py), and the blinding ring takes 4 main columns and one interaction, not 8 and
#: two (blind.py), and one DEEP mask per LDE height, not per table (zk.deep_mask_holders), and
#: salt rows injected unhashed (mmcs.py); 9 had r of D − n coefficients, 8 counted q + 2
#: openings: an older proof's chunk layout is not this reader's
ZK_VERSION = 16
#: the header flags of a table the proof leaves out (with log height 0)
ABSENT_FLAG = 4
#: the phases whose trees are salted in hiding mode (the preprocessed columns are public)
SALTED_PHASES = ("main", "aux", "quotient")
MAX_TABLES = 256
MAX_ELEMENTS = 1 << 26  # per array: far above any real proof, far below memory trouble
SECTIONS = ("header", "commitments", "ood_openings", "trace_queries", "fri")
PHASES = ("prep", "main", "aux", "quotient")


@dataclass
class TableProof:
    """One table's part: its height, LogUp total, and its columns' values at ζ and ζω.
    A table left out of the proof (optional.py) has log_height None and nothing else."""

    log_height: int | None
    has_aux: bool
    has_prep: bool
    cumsum: np.ndarray | None   # (4,) the table's LogUp total: S_(n−1) + Σ h[n−1] (logup.py)
    open_local: dict            # group → (w, 4)
    open_next: dict

    @property
    def present(self) -> bool:
        return self.log_height is not None

    @classmethod
    def left_out(cls) -> "TableProof":
        return cls(None, False, False, None, {}, {})


@dataclass
class Proof:
    """A multi-table STARK proof: per-phase roots, per-table openings, queries, FRI."""

    tables: list
    main_root: bytes
    aux_root: bytes | None
    quotient_root: bytes
    queries: dict               # phase → (rows per member table (q, w) [+ salt rows], Multiproof)
    fri: FriProof
    #: the proof of work ground before the bus challenges (for one proof of a joint
    #: statement: the joint transcript's nonce, the same in every proof)
    bus_pow_nonce: int = 0
    #: a hiding-mode proof (format version 14: salted trees, the blinding ring)
    zk: bool = False
    sizes: dict = dc_field(default_factory=dict)  # section → bytes, filled by encode/decode
    item_sizes: dict = dc_field(default_factory=dict)  # finer: item → bytes, filled by encode

    def to_bytes(self) -> bytes:
        return encode_proof(self)[0]

    @classmethod
    def from_bytes(cls, data: bytes) -> "Proof":
        return decode_proof(data)

    def size_breakdown(self) -> dict:
        """Bytes per section of the encoding: header, commitments, OOD openings, trace queries, FRI."""
        encode_proof(self)
        return dict(self.sizes)

    def item_breakdown(self) -> dict:
        """Bytes per item of the encoding, finer than the sections: "header",
        "commitments/…", "ood/table k", "queries/<phase>/rows/table k" (k = the table's index;
        "salt" for a hiding tree's salt), "queries/<phase>/paths", "fri/final polynomial and
        PoW", "fri/layer r/values", "fri/layer r/paths" (bench/proof_size.py prints them)."""
        encode_proof(self)
        return dict(self.item_sizes)


def opened_arrays(tables: list, phase: str, zk: bool) -> int:
    """How many row arrays a phase's query opening holds: one per member table, + the salt."""
    members = len(phase_members(tables, phase))
    return members + (1 if zk and members and phase in SALTED_PHASES else 0)


def phase_members(tables: list, phase: str) -> list:
    """Indices of the tables committed in a phase's tree (a table left out is in none)."""
    if phase == "prep":
        return [i for i, t in enumerate(tables) if t.present and t.has_prep]
    if phase == "aux":
        return [i for i, t in enumerate(tables) if t.present and t.has_aux]
    return [i for i, t in enumerate(tables) if t.present]


# --- 31-bit packing ---------------------------------------------------------------------------
# Every array of a proof holds canonical field elements, < p < 2^31: each is written as 31 bits
# (little-endian bit order, element after element), the last byte zero-padded — 3 % less than
# 4 bytes each. Vectorised with numpy's bit (un)packing.


def packed_size(count: int) -> int:
    """Bytes of ``count`` packed field elements."""
    return (31 * count + 7) // 8


def pack31(a: np.ndarray) -> bytes:
    """Field elements as a stream of 31-bit fields (ProofFormatError if one is ≥ 2^31)."""
    v = np.ascontiguousarray(a, dtype="<u4").reshape(-1)
    if v.size and int(v.max()) >= 1 << 31:
        raise ProofFormatError("a proof array holds a value ≥ 2^31: not a field element")
    bits = np.unpackbits(v.view(np.uint8).reshape(-1, 4), axis=1, bitorder="little")[:, :31]
    return np.packbits(bits.reshape(-1), bitorder="little").tobytes()


def unpack31(data: bytes, count: int, what: str) -> np.ndarray:
    """The inverse of pack31: ``count`` elements (uint32); padding bits must be zero."""
    return unpack31_many(data, [(0, count, what)])[0][:count]


#: unpack31_many's batch: 4,000 groups, so its (g, 32)-byte windows are 125 KiB
_UNPACK_BATCH = 4000


def unpack31_many(data, parts: list) -> tuple:
    """unpack31 of several packed arrays in one buffer, in one vectorised pass (a proof holds
    ~200 arrays: one pass is a few numpy calls, not a few per array). ``parts``: (byte offset,
    count, what) of each. Returns (every part's elements, each part's first element's index
    in them: parts start on a multiple of 8, the unused slots of a part's last group are 0).

    8 elements are 31 bytes (248 bits), and every part starts on a byte: a part is cut into
    31-byte groups, each read as 4 little-endian u64 words w_0…w_3 (32 bytes, the last
    one past the group), and element j of a group is the 31 bits at bit 31·j of them (a
    shift of one word, or of two joined when they straddle a word boundary: j = 2, 4, 6)."""
    buf = np.frombuffer(data, dtype=np.uint8)
    offsets = np.array([o for o, _c, _w in parts], dtype=np.int64)
    counts = np.array([c for _o, c, _w in parts], dtype=np.int64)
    groups = (counts + 7) >> 3
    first_group = np.cumsum(groups) - groups
    # byte where each group starts: its part's offset + 31 per group before it in the part
    start = np.repeat(offsets - 31 * first_group, groups) + 31 * np.arange(int(groups.sum()), dtype=np.int64)
    values = np.empty((start.shape[0], 8), dtype=np.uint32)
    mask = np.uint64(0x7FFFFFFF)
    # in batches of _UNPACK_BATCH groups: each temporary stays under malloc's mmap threshold
    # (128 KiB), so a verify does not page-fault in fresh memory for them every time
    for lo in range(0, start.shape[0], _UNPACK_BATCH):
        at = start[lo:lo + _UNPACK_BATCH]
        first, last = int(at.min()), int(at.max()) + 32
        seg = buf[first:last] if last <= buf.shape[0] else \
            np.concatenate([buf[first:], np.zeros(last - buf.shape[0], dtype=np.uint8)])  # the last group's word 3 runs past the end
        windows = np.lib.stride_tricks.as_strided(seg, shape=(seg.shape[0] - 31, 32), strides=(1, 1))
        w = windows[at - first].view("<u8")  # (g, 4) little-endian u64 words
        out = values[lo:lo + _UNPACK_BATCH]
        for j in range(8):  # element j: bits 31j … 31j + 30, in word 31j // 64 (and the next one)
            word, shift = divmod(31 * j, 64)
            v = w[:, word] >> np.uint64(shift)
            if shift > 33:  # straddles into the next word
                v |= w[:, word + 1] << np.uint64(64 - shift)
            out[:, j] = v & mask
    # a part's last group may run into the next part's bytes: zero its slots past the count
    rest = counts & 7
    cut = np.flatnonzero(rest)
    values[(first_group[cut] + groups[cut] - 1)[:, None], np.arange(8)[None, :]] *= \
        (np.arange(8)[None, :] < rest[cut][:, None])
    end = 8 * offsets + 31 * counts  # the bit after each part's last element: the rest of its byte is padding
    padded = np.flatnonzero(end & 7)  # (a part that ends on a byte boundary has no padding bits)
    bad = (buf[end[padded] >> 3] >> (end[padded] & 7).astype(np.uint8)) != 0
    if bad.any():
        what = parts[int(padded[np.flatnonzero(bad)[0]])][2]
        raise ProofFormatError(f"{what}: the padding bits after the last element are not zero (not canonical)")
    return values.reshape(-1), 8 * first_group


# --- writer ----------------------------------------------------------------------------------


class _Writer:
    def __init__(self):
        self.parts = []
        self.size = 0
        self.item = "header"   # what the next bytes belong to (the fine size breakdown)
        self.items = {}        # item → bytes

    def raw(self, b: bytes):
        self.parts.append(b)
        self.size += len(b)
        self.items[self.item] = self.items.get(self.item, 0) + len(b)

    def u8(self, v):
        self.raw(struct.pack("<B", v))

    def u16(self, v):
        self.raw(struct.pack("<H", v))

    def u64(self, v):
        self.raw(struct.pack("<Q", v))

    def array(self, a):
        a = np.ascontiguousarray(a, dtype="<u4")
        self.raw(struct.pack(f"<B{a.ndim}I", a.ndim, *a.shape))
        self.raw(pack31(a))

    def paths(self, paths):
        """A multiproof (multiproof.py): its depth, then per level the count and the digests."""
        self.u8(paths.depth)
        for level in paths.levels:
            self.u16(level.shape[0])
            self.raw(np.ascontiguousarray(level, dtype="<u4").tobytes())


def encode_proof(proof: Proof) -> tuple:
    """Serialise a proof. Returns (bytes, {section: size_in_bytes}) and records the sizes."""
    w = _Writer()
    marks = {}
    start = 0

    def mark(section):
        nonlocal start
        marks[section] = (start, w.size)
        start = w.size

    w.raw(MAGIC)
    w.u16(ZK_VERSION if proof.zk else VERSION)
    w.u16(len(proof.tables))
    for t in proof.tables:
        if not t.present:
            w.u8(0)
            w.u8(ABSENT_FLAG)
            continue
        w.u8(t.log_height)
        w.u8((1 if t.has_aux else 0) | (2 if t.has_prep else 0))
    mark("header")
    w.item = "commitments/roots and nonce"
    w.raw(proof.main_root)
    w.u64(proof.bus_pow_nonce)
    with_aux = phase_members(proof.tables, "aux")
    if with_aux:
        assert proof.aux_root is not None  # the prover commits an aux tree whenever a table has aux columns
        w.raw(proof.aux_root)
    w.raw(proof.quotient_root)
    w.item = "commitments/LogUp totals"
    for i in with_aux:
        w.array(proof.tables[i].cumsum)
    w.item = "commitments/FRI layer roots"
    w.u16(len(proof.fri.layer_roots))
    for r in proof.fri.layer_roots:
        w.raw(r)
    mark("commitments")
    for k, t in enumerate(proof.tables):
        if not t.present:
            continue
        w.item = f"ood/table {k}"
        for g in LOCAL_GROUPS:
            w.array(t.open_local[g])
        for g in NEXT_GROUPS:
            w.array(t.open_next[g])
    mark("ood_openings")
    for phase in PHASES:
        members = phase_members(proof.tables, phase)
        if not members:
            continue
        rows, paths = proof.queries[phase]
        if len(rows) != opened_arrays(proof.tables, phase, proof.zk):
            raise ProofFormatError(f"{phase} queries open {len(rows)} matrices, the header says "
                                   f"{opened_arrays(proof.tables, phase, proof.zk)}")
        for k, r in zip(members + ["salt"], rows):
            w.item = f"queries/{phase}/rows/table {k}"
            w.array(r)
        w.item = f"queries/{phase}/paths"
        w.paths(paths)
    mark("trace_queries")
    w.item = "fri/final polynomial and PoW"
    w.array(proof.fri.final_poly)
    w.u64(proof.fri.pow_nonce)
    for k, (rows, paths) in enumerate(proof.fri.layer_openings):
        w.item = f"fri/layer {k}/values"
        w.array(rows)
        w.item = f"fri/layer {k}/paths"
        w.paths(paths)
    mark("fri")
    data = b"".join(w.parts)
    proof.sizes = {k: b - a for k, (a, b) in marks.items()} | {"total": len(data)}
    proof.item_sizes = dict(w.items)
    return data, marks


# --- reader ----------------------------------------------------------------------------------


_U8, _U16, _U64 = struct.Struct("<B"), struct.Struct("<H"), struct.Struct("<Q")
_HEADERS = {d: struct.Struct(f"<B{d}I") for d in (1, 2, 3)}  # an array's header: ndim, shape


class _Reader:
    def __init__(self, data: bytes):
        self.data = memoryview(data)
        self.pos = 0
        self.pending: list = []  # (shape, (byte offset, count, what)) per array read

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ProofFormatError(f"proof is truncated: {what} needs {n} bytes at offset {self.pos}, "
                                   f"{len(self.data) - self.pos} left")
        b = bytes(self.data[self.pos:self.pos + n])
        self.pos += n
        return b

    def skip(self, n: int, what: str) -> None:
        """take without the copy: the packed arrays are read in one pass at the end."""
        if n < 0 or self.pos + n > len(self.data):
            raise ProofFormatError(f"proof is truncated: {what} needs {n} bytes at offset {self.pos}, "
                                   f"{len(self.data) - self.pos} left")
        self.pos += n

    def _unpack(self, fmt: struct.Struct, what: str) -> tuple:
        """fmt's fields at the current offset (struct.unpack_from: no copy of the bytes)."""
        if self.pos + fmt.size > len(self.data):
            raise ProofFormatError(f"proof is truncated: {what} needs {fmt.size} bytes at offset {self.pos}, "
                                   f"{len(self.data) - self.pos} left")
        values = fmt.unpack_from(self.data, self.pos)
        self.pos += fmt.size
        return values

    def u8(self, what):
        return self._unpack(_U8, what)[0]

    def u16(self, what):
        return self._unpack(_U16, what)[0]

    def u64(self, what):
        return self._unpack(_U64, what)[0]

    def array(self, what: str, ndim: int, last: int | None = None) -> int:
        """Read an array's header and skip its packed elements; returns its number among the
        arrays read, for unpack_arrays' list (every array is unpacked at the end, in one pass)."""
        at = self.pos
        if at < len(self.data) and self.data[at] != ndim:
            raise ProofFormatError(f"{what}: expected a {ndim}-D array, found {self.data[at]}-D at offset {at}")
        _d, *shape = self._unpack(_HEADERS[ndim], what)
        count = 1
        for s in shape:
            count *= s
        if count > MAX_ELEMENTS:
            raise ProofFormatError(f"{what}: {count} elements is over the cap of {MAX_ELEMENTS}")
        if last is not None and shape[-1] != last:
            raise ProofFormatError(f"{what}: last dimension is {shape[-1]}, expected {last}")
        start = self.pos
        self.skip(packed_size(count), what)
        self.pending.append((shape, (start, count, what)))
        return len(self.pending) - 1

    def unpack_arrays(self) -> list:
        """Every array read so far (in order) from its packed bits, in one pass (unpack31_many):
        each a view of the one unpacked buffer, (uint32, the shape read); each must hold field
        elements < p (ProofFormatError naming the first that does not)."""
        if not self.pending:
            return []
        values, first = unpack31_many(self.data, [part for _s, part in self.pending])
        high = np.flatnonzero(values >= P)
        if high.size:
            what = self.pending[int(np.searchsorted(first, high[0], side="right")) - 1][1][2]
            raise ProofFormatError(f"{what}: holds a value ≥ p (not a canonical field element)")
        out = [values[at:at + count].reshape(shape)
               for (shape, (_start, count, _what)), at in zip(self.pending, first.tolist())]
        self.pending = []
        return out


def _read_paths(r: _Reader, what: str) -> Multiproof:
    depth = r.u8(what)
    if depth > 32:
        raise ProofFormatError(f"{what}: depth {depth} is over 32")
    first, spans, data, end = r.pos, [], r.data, len(r.data)
    for _ in range(depth):  # per level: its count (u16), then its digests
        if r.pos + 2 > end:
            r.u16(what)  # raises: truncated
        n = _U16.unpack_from(data, r.pos)[0]  # the verifier checks it against the count the positions imply
        r.pos += 2
        spans.append((r.pos - first, n))
        r.skip(32 * n, what)
    # one copy of the multiproof's bytes (its counts included), each level a view of its digests
    region = np.frombuffer(r.data, dtype=np.uint8, count=r.pos - first, offset=first).copy()
    return Multiproof([region[at:at + 32 * n].view("<u4").reshape(n, 8) for at, n in spans])


def decode_proof(data: bytes) -> Proof:
    """Parse proof bytes (strict; ProofFormatError on anything malformed)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ProofFormatError("proof must be bytes")
    r = _Reader(bytes(data))
    if r.take(len(MAGIC), "magic") != MAGIC:
        raise ProofFormatError("not a pyzkvm STARK proof (bad magic)")
    version = r.u16("version")
    if version not in (VERSION, ZK_VERSION):
        raise ProofFormatError(f"unsupported STARK proof version {version} (this reader knows {VERSION} "
                               f"and {ZK_VERSION})")
    zk = version == ZK_VERSION
    n_tables = r.u16("table count")
    if not 1 <= n_tables <= MAX_TABLES:
        raise ProofFormatError(f"table count {n_tables} is outside 1..{MAX_TABLES}")
    tables = []
    for i in range(n_tables):
        log_h = r.u8("table log height")
        flags = r.u8("table flags")
        if (log_h, flags) == (0, ABSENT_FLAG):
            tables.append(TableProof.left_out())
            continue
        if flags > 3 or not 2 <= log_h <= 27:
            raise ProofFormatError(f"table {i}: bad header (log height {log_h}, flags {flags})")
        tables.append(TableProof(log_h, bool(flags & 1), bool(flags & 2), None, {}, {}))
    main_root = r.take(32, "main root")
    bus_nonce = r.u64("bus proof-of-work nonce")
    aux_root = r.take(32, "aux root") if any(t.has_aux for t in tables) else None
    quotient_root = r.take(32, "quotient root")
    # the arrays are read as numbers (r.array) and unpacked at the end, all at once
    cumsums = {k: r.array("cumulative sum", 1, 4) for k, t in enumerate(tables) if t.has_aux}
    n_layers = r.u16("FRI layer count")
    if n_layers > 27:
        raise ProofFormatError(f"FRI layer count {n_layers} is over 27")
    layer_roots = [r.take(32, "FRI layer root") for _ in range(n_layers)]
    openings = {k: ({g: r.array(f"{g} opening at zeta", 2, 4) for g in LOCAL_GROUPS},
                    {g: r.array(f"{g} opening at zeta*omega", 2, 4) for g in NEXT_GROUPS})
                for k, t in enumerate(tables) if t.present}
    query_rows, query_paths = {}, {}
    for phase in PHASES:
        members = phase_members(tables, phase)
        if not members:
            continue
        query_rows[phase] = [r.array(f"{phase} query rows", 2) for _ in range(opened_arrays(tables, phase, zk))]
        query_paths[phase] = _read_paths(r, f"{phase} query paths")
    final_poly = r.array("FRI final polynomial", 2, 4)
    nonce = r.u64("proof-of-work nonce")
    layers = []
    for _ in range(n_layers):
        layer_rows = r.array("FRI layer rows", 2)  # (q, 4·(2^k − 1)): the verifier checks k against its schedule
        layers.append((layer_rows, _read_paths(r, "FRI layer paths")))
    if r.pos != len(r.data):
        raise ProofFormatError(f"{len(r.data) - r.pos} trailing bytes after the proof")
    arrays = r.unpack_arrays()
    for k, at in cumsums.items():
        tables[k].cumsum = arrays[at]
    for k, (local, nxt) in openings.items():
        tables[k].open_local = {g: arrays[at] for g, at in local.items()}
        tables[k].open_next = {g: arrays[at] for g, at in nxt.items()}
    queries = {phase: ([arrays[at] for at in rows], query_paths[phase]) for phase, rows in query_rows.items()}
    layer_openings = [(arrays[at], paths) for at, paths in layers]
    proof = Proof(tables, main_root, aux_root, quotient_root, queries,
                  FriProof(layer_roots, arrays[final_poly], nonce, layer_openings), bus_nonce, zk)
    proof.sizes = {"total": len(r.data)}
    return proof
