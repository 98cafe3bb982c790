"""Hiding (zero-knowledge) mode: the sizes it adds, and the prover's private randomness.

With ``StarkConfig.zk`` every committed polynomial that depends on the witness is randomised
so that what the verifier sees — values at ζ, ζω and the query points, FRI layers, Merkle
paths — is distributed independently of the witness (docs/stark.md, "Zero knowledge"):

* a trace column f of a table of n rows is committed as f̂ = f + Z_H·r, with r uniform of
  degree < m_r (its m_r coefficients drawn uniformly: prover._hide), so deg f̂ < n + m_r.
  m_r = 2·queries + 8 counts the F_p-linear functionals of r that the verifier sees, or that
  the simulator needs, of one column (``trace_randomiser_size``): f̂ at the query points and at
  their next rows x·ω_n (the quotient's values there depend on both), 4 coordinates each of
  f̂(ζ), f̂(ζω) ∈ F_p^4. r has m_r free coefficients, so those values are jointly uniform
  (more would hide no better: only these m_r functionals of r are ever revealed). D = 2^log_d
  is the rows of the table's coefficient matrices: the least power of two ≥ n + m_r — 2n
  for a table of n ≥ m_r rows — ≥ TINY_DEGREE_FACTOR·m_r, so that a few-row table's
  quotient needs few chunks, and ≥ F (``committed_log_degree``). B is its *committed degree
  bound* (``committed_bound``): FRI's final polynomial has F + 1 coefficients
  (``final_poly_len``, F = 2^log_final_poly_len), so FRI proves each input of h·blowup
  points close to degree < h + h/F, and a *tall* table (n ≥ F·m_r, ``tall``) is committed on
  n·blowup points with B = n + n/F ≥ n + m_r; a shorter one on D·blowup, B = D;
* the quotient Q = Σ α^i C_i(f̂)/Z_H (degree < d·(n + m_r) − n: for d = 3 and D = 2n about
  2n, where an r of D − n coefficients made it d·D − n = 5n) is cut into K chunks of S = B − m_t
  coefficients, Q = Σ_k x^(k·S)·q_k, and each chunk is randomised by a telescoping sum that
  leaves Q unchanged: q̂_k = q_k + x^S·t_(k+1) − t_k (t_0 = t_K = 0, t_k uniform of degree
  < m_t), so every q̂_k has degree < B and Σ_k x^(k·S)·q̂_k = Q; m_t = queries + 4, a chunk's
  column being opened at the query points and at ζ only (``quotient_mask_size``);
* one uniform F_p^4 polynomial R per committed LDE height (the DEEP mask), of degree < the
  largest B there, is committed with the quotient chunks of the first present table of that
  bound and height (``deep_mask_holders``) and batched into that height's DEEP codeword, so each codeword FRI
  folds is uniform given the values the verifier checks it against (one R per table, as
  until issue 18's `hid` task, added nothing: tables of one height share their codeword);
* every witness-bearing Merkle tree (main, aux, quotient) gets one extra matrix of SALT
  random field elements per leaf at its top height, opened with the row (a salted leaf);
* every table's LogUp total is blinded by a ring of random values on a dedicated bus over all
  tables of the statement (blind.py), so the totals are uniform subject to their sum.

The preprocessed columns are public and stay on the key's n·blowup rows: a tall table's
height; a short table's DEEP terms are lifted into its D·blowup FRI input (``prep_lde_log``,
fri.lift), so FRI has one input per table height, as in transparent mode.

Soundness is unchanged in kind: FRI proves each committed polynomial's degree bound at rate
≤ (F + 1)/(F·blowup) (config.security_bits counts it), the out-of-domain identity uses
Σ_k ζ^(k·S)·q̂_k(ζ), and the security estimate's DEEP/FRI term counts the tallest LDE
(docs/stark.md, "Zero knowledge", item 6).

The randomness comes from ``ZkRandomness``: BLAKE3 in keyed XOF mode over a 32-byte secret
(os.urandom per statement; a fixed seed only in tests), one independent stream per
(segment, label), so recomputing a segment's main commitment gives the same tree.
"""

from __future__ import annotations

import os
import struct

import blake3
import numpy as np

from ..errors import StarkConfigError
from ..lazy_njit import njit
from .field import P
from .pool import parallel_for

#: random field elements appended to each leaf of a salted tree (≈ 8 × 30.9 = 247 bits); a
#: salt row is one digest's 8 words (SaltMatrix.digest_rows)
SALT = 8
#: F_p^4 columns of the DEEP mask R of one LDE height (committed as 4 base columns, in the
#: quotient matrix of the table that holds it: deep_mask_holders)
MASK_EXT_COLUMNS = 1
#: XOF words read at once by ZkRandomness.field (bounds its temporaries to 64 KB: they stay
#: in cache and malloc reuses them; 4 MB reads faulted in fresh pages each time, which cost
#: more than the XOF itself — three 2^19-row salts 0.07–0.10 → 0.045 s of CPU)
XOF_CHUNK_WORDS = 1 << 14
#: salt rows a SaltMatrix makes at once when it hashes or opens them (512 KB of salt, in one
#: buffer reused block after block: ZkRandomness.field_rows; its words stay in cache from the
#: XOF to the tree's injection)
SALT_BLOCK_ROWS = 1 << 14


def trace_randomiser_size(cfg) -> int:
    """m_r: the fewest coefficients of a trace column's randomiser r (f̂ = f + Z_H·r).

    What a proof reveals of one base column f̂, as F_p-linear functionals of r: f̂(x) at ≤ q
    query points (one each; Z_H(x) ≠ 0 off H) and f̂(ζ), f̂(ζω) ∈ F_p^4 (4 coordinates each).
    The simulator must also compute the quotient's values at the query points, Q(x) from f̂(x)
    and f̂(x·ω_n): the next-row values, not opened, must be uniform jointly with the rest. So
    ≤ 2q distinct points and 8 coordinates; they are independent functionals on polynomials of
    ≥ 2q + 8 coefficients (Vandermonde at distinct points; the quotient by their vanishing
    polynomial is onto F_p(ζ) × F_p(ζω) by CRT for ζ of degree 4 over F_p, ζω not a conjugate
    of ζ). tests/stark/test_zk_openings.py checks the rank."""
    return 2 * cfg.num_queries + 8


def quotient_mask_size(cfg) -> int:
    """m_t: the coefficients of each telescoping mask t_k of the quotient chunks. A chunk's
    base column is opened at ≤ q query points and at ζ (4 coordinates; not at ζω), so
    x^S·t_(k+1) with q + 4 coefficients makes those values of q̂_k uniform."""
    return cfg.num_queries + 4


#: a hiding table's committed degree bound D is at least this many times m_r: a table of a few
#: rows (f̂ of degree < n + m_r ≈ m_r) then has its quotient (degree < d·(n + m_r) − n) in one
#: or two chunks of S = D − m_t coefficients. At the least power of two ≥ n + m_r (D = 2^7 at
#: 42 queries) a 4-row degree-3 table took 4 chunks + the mask, 20 base columns in every
#: opened row and at ζ, where 1 + the mask take 8 (D = 2^9: a 2,048-row LDE, still small;
#: 8·m_r would make a degree-5 one's 1 chunk, for 4× the 64-row SHA tables' LDE and hashing)
TINY_DEGREE_FACTOR = 4


def tall(cfg, log_n: int) -> bool:
    """Whether a hiding table of n rows is *tall*: m_r ≤ n/F (F = 2^log_final_poly_len), so
    deg f̂ < n + m_r ≤ n + n/F — below what FRI proves of an input of n·blowup points when
    its final polynomial has F + 1 coefficients (``final_poly_len``) — and its LDE is n·blowup,
    not D·blowup (docs/stark.md, "Zero knowledge", item 6). Never in transparent mode."""
    return bool(cfg.zk) and trace_randomiser_size(cfg) << cfg.log_final_poly_len <= 1 << log_n


def final_poly_len(cfg, log_final: int) -> int:
    """Coefficients of FRI's final polynomial, sent on its final codeword of F·blowup entries
    (F = 2^log_final: log_final_poly_len, or less when a transparent proof's least input is
    smaller): F in transparent mode, F + 1 in hiding mode. Folding maps a
    degree bound e on 2^k·F·blowup points to ⌈e/2^k⌉, so F + 1 makes FRI prove each input of
    h·blowup points close to degree < h·(F + 1)/F = h + h/F: room for a tall table's f̂
    (``tall``), at rate (F + 1)/(F·blowup) (config.security_bits). (The final length is F in
    both modes: hiding mode's least LDE is ≥ F·blowup, ``committed_log_degree``.)"""
    return (1 << log_final) + (1 if cfg.zk else 0)


def committed_log_degree(cfg, log_n: int) -> int:
    """log2 D: the rows of a table's committed main/aux/quotient coefficient matrices (= log_n
    in transparent mode; in hiding mode the least power of two ≥ n + m_r, which is 2n for
    n ≥ m_r, ≥ TINY_DEGREE_FACTOR·m_r and ≥ F). A short table's committed degree bound is D,
    a tall one's n + n/F < D (``committed_bound``; rows from it on are zero)."""
    if not cfg.zk:
        return log_n
    n, m_r = 1 << log_n, trace_randomiser_size(cfg)
    return max(log_n + 1, (n + m_r - 1).bit_length(), (TINY_DEGREE_FACTOR * m_r - 1).bit_length(),
               cfg.log_final_poly_len)


def committed_bound(cfg, log_n: int) -> int:
    """B: the table's committed main/aux/quotient polynomials have degree < B — n in
    transparent mode, n + n/F for a tall hiding table (``tall``), D for a short one. FRI
    proves degree < h + h/F of every input of h·blowup points, so B of a tall table is
    exactly FRI's bound at its height; a short one's D is below it."""
    if not cfg.zk:
        return 1 << log_n
    if tall(cfg, log_n):
        return (1 << log_n) + (1 << (log_n - cfg.log_final_poly_len))
    return 1 << committed_log_degree(cfg, log_n)


def hidden_length(cfg, log_n: int) -> int:
    """e: a committed main/aux polynomial has fewer coefficients than this (deg f̂ < e), n in
    transparent mode, n + m_r in hiding mode (f̂ = f + Z_H·r, deg r < m_r)."""
    n = 1 << log_n
    return n + trace_randomiser_size(cfg) if cfg.zk else n


def lde_log(cfg, log_n: int) -> int:
    """log2 of the table's committed LDE (main, aux, quotient): n·blowup for a transparent or
    tall hiding table, D·blowup for a short hiding one."""
    log_h = log_n if not cfg.zk or tall(cfg, log_n) else committed_log_degree(cfg, log_n)
    return log_h + cfg.log_blowup


def prep_lde_log(cfg, log_n: int, has_prep: bool) -> int:
    """log2 of the LDE a table's preprocessed group is opened on and its DEEP term evaluated
    on: n·blowup, the key's commitment (below lde_log for a short hiding table), for a table that has
    preprocessed columns; lde_log for one that has none (its empty group joins the others).

    Every table has one FRI input height, lde_log: a preprocessed group
    below it is lifted there (fri.lift), not rolled in at its own height, where it was a stop
    of the folding schedule (fri.layer_arities: a layer never folds past an input's height).
    Until issue 18's `zkb` task a hiding proof at 2^16 cycles had FRI inputs at 11 heights
    (6 of them only preprocessed groups', 5 of those only empty groups') and 10 layers; now 5
    heights and 6 layers."""
    return log_n + cfg.log_blowup if has_prep else lde_log(cfg, log_n)


class QuotientLayout:
    """How a table's quotient is evaluated and cut (prover and verifier agree on it).

    bound   Q has fewer coefficients than this (deg Q < bound)
    log_q   the quotient domain, where the prover evaluates Q, lies in a coset of 2^log_q ≥ bound points
    size    S, coefficients per chunk: Q = Σ_k x^(k·S)·q_k
    chunks  K, the number of F_p^4 chunks
    mask    F_p^4 mask columns committed after the chunks (hiding mode, the table that holds
            its height's DEEP mask: ``deep_mask_holders``)"""

    def __init__(self, cfg, compiled, log_n: int, deep_mask: bool = True):
        n = 1 << log_n
        if not cfg.zk:  # deg Q < (d − 1)·n: 2^c chunks of n coefficients
            c = compiled.log_quotient_chunks
            self.bound, self.log_q, self.size, self.chunks, self.mask = n << c, log_n + c, n, 1 << c, 0
            return
        log_d = committed_log_degree(cfg, log_n)
        e = hidden_length(cfg, log_n)
        # a constraint of measured degree d is a product of ≤ d factors of degree ≤ e − 1 (f̂ of
        # degree < e = n + m_r, preprocessed columns and first/last-row selectors of degree < n),
        # times transition selectors x − ω^(n−1) that air.py counts as degree 0 (≤ d of them, 1
        # each): deg C ≤ d·e, deg Q ≤ d·e − n. (A dishonest f̂ of degree up to FRI's bound
        # changes nothing for soundness: the verifier checks the identity at ζ of the
        # polynomials FRI bounds, as before.)
        self.bound = max(compiled.max_degree, 2) * e - n + 1  # coefficients of Q
        self.log_q = max((self.bound - 1).bit_length(), log_d)
        # chunks of S = B − m_t coefficients, so deg q̂_k < S + m_t = B (committed_bound)
        self.size = committed_bound(cfg, log_n) - quotient_mask_size(cfg)
        self.chunks = -(-self.bound // self.size)
        self.mask = MASK_EXT_COLUMNS if deep_mask else 0
        if self.log_q > 27:
            raise StarkConfigError(f"table {compiled.air.name!r}: hiding mode needs a quotient domain of 2^{self.log_q} "
                                   "points, beyond the field's two-adicity; use shorter tables")

    @property
    def width(self) -> int:
        """Base columns of the committed quotient matrix: 4 per chunk and per mask column."""
        return 4 * (self.chunks + self.mask)


def deep_mask_holders(cfg, log_heights) -> list:
    """Per table of a proof (log2 rows, None for one left out), whether its quotient matrix
    holds the DEEP mask R of its LDE height: in hiding mode, per height (lde_log), the first
    present table, in key order, of the largest committed bound there (a tall table of n rows
    before a short one of n/2 whose D·blowup is the same height: committed_bound), so R, of
    degree < that bound, covers every DEEP term of the height; prover and verifier derive it
    from the heights alone."""
    best: dict = {}  # LDE height → (bound, index of the table)
    for k, log_n in enumerate(log_heights):
        if cfg.zk and log_n is not None:
            height, bound = lde_log(cfg, log_n), committed_bound(cfg, log_n)
            if height not in best or bound > best[height][0]:
                best[height] = (bound, k)
    holders = {k for _bound, k in best.values()}
    return [k in holders for k in range(len(log_heights))]


def salt_width(cfg) -> int:
    return SALT if cfg.zk else 0


#: a salt matrix of at most this many elements (one XOF chunk, 64 KB) is kept from the
#: commitment to the openings; a larger one is streamed and its opened rows' XOF chunks
#: regenerated (SaltMatrix.rows: ~36 of a 2^18-row salt's 128 chunks at 42 queries). Kept up to
#: 2^22 elements until issue 18's `glue2` task: the three 8 MB salts of a 2^14-cycle proof
#: were fresh pages every proof (its faults ~14,500 → ~6,500, system CPU 0.032 → 0.016 s, peak
#: RSS 324 → 286 MiB; bench/results/glue2.md), more than regenerating the opened chunks
KEEP_SALT_ELEMENTS = XOF_CHUNK_WORDS


class SaltMatrix:
    """A tree's salt (rows, SALT) — uniform elements from ``rng``'s stream ``label`` — whose
    rows are digests already (``digest_rows``: the tree injects a row as is, mmcs.py), not
    kept when large: regenerated (a pure function of the stream) when the tree hashes its rows
    and, only the XOF chunks they fall in (recorded while hashing), when it opens rows, so a
    hiding prover holds no LDE-height salt matrices between the two (at 2^18 cycles three of
    them were 192 MB); one of at most KEEP_SALT_ELEMENTS is kept.
    Duck-types mmcs's matrix sources."""

    #: its rows enter the tree as digests, not hashed (mmcs.py): SALT words = one digest
    digest_rows = True

    def __init__(self, rng: "ZkRandomness", label: str, rows: int):
        self._rng, self._label = rng, label
        self.shape = (int(rows), SALT)
        self._kept: np.ndarray | None = None
        # a streamed salt's XOF chunks, once its rows are hashed: (byte offset, words read,
        # elements before it) each, so ``rows`` regenerates only the chunks the opened rows are in
        self._chunks: np.ndarray | None = None

    def values(self) -> np.ndarray:
        if self._kept is not None:
            return self._kept
        values = self._rng.field(self._label, self.shape)
        if self._small():
            self._kept = values
        return values

    def _small(self) -> bool:
        """Kept whole (values()) rather than streamed in blocks."""
        return self.shape[0] * self.shape[1] <= KEEP_SALT_ELEMENTS

    def row_digests(self) -> np.ndarray:
        """Every salt row as its digest (the row itself: ``digest_rows``)."""
        return self.values()

    def digest_blocks(self):
        """(first row, a block of rows = their digests), SALT_BLOCK_ROWS rows at a time, each
        valid until the next (a tree injects them into its leaves as they come: mmcs._rows_digest)."""
        if self._small():  # kept for the openings too
            yield 0, self.values()
            return
        chunks: list = []
        yield from self._rng.field_rows(self._label, self.shape, SALT_BLOCK_ROWS, chunks)
        self._chunks = np.array(chunks, dtype=np.int64).reshape(-1, 3)

    def rows(self, positions) -> np.ndarray:
        pos = np.asarray(positions, dtype=np.int64).reshape(-1)
        if self._small():
            return self.values()[pos]
        out = np.empty((pos.shape[0], SALT), dtype=np.uint32)
        if self._chunks is None:  # not hashed yet: the whole stream, a block at a time
            for lo, block in self._rng.field_rows(self._label, self.shape, SALT_BLOCK_ROWS):
                hit = (pos >= lo) & (pos < lo + block.shape[0])
                out[hit] = block[pos[hit] - lo]
            return out
        # element e = SALT·row + j is in the chunk whose first element is the last ≤ e
        elements = (pos[:, None] * SALT + np.arange(SALT)).reshape(-1)
        which = np.searchsorted(self._chunks[:, 2], elements, side="right") - 1
        flat = out.reshape(-1)
        count = self.shape[0] * SALT
        for c in np.unique(which):
            seek, want, first = (int(v) for v in self._chunks[c])
            hit = which == c
            flat[hit] = self._rng.kept_chunk(self._label, seek, want, min(want, count - first))[elements[hit] - first]
        return out


@njit(cache=True, nogil=True)
def _keep_canonical(words, out):
    # out ← the words' low 31 bits that are below p, in order, up to out's length; how many
    # (ZkRandomness.field's rejection sampling in one pass). Each word is stored at the next
    # free place and the place advances only if it is kept (no branch on the 6 % rejected: a
    # rejected one is overwritten by the next, or left past the count returned). Over the
    # first len(out) words the place k ≤ i < len(out) cannot run past out, so only the rest
    # test for a full out (0.60 → 0.38 ns a word)
    limit = out.shape[0]
    head = min(limit, words.shape[0])
    k = 0
    for i in range(head):
        x = words[i] & np.uint32(0x7FFFFFFF)
        out[k] = x
        k += x < np.uint32(P)
    for i in range(head, words.shape[0]):
        if k == limit:
            break
        x = words[i] & np.uint32(0x7FFFFFFF)
        out[k] = x
        k += x < np.uint32(P)
    return k


class ZkRandomness:
    """The prover's private randomness for one segment: uniform field elements from BLAKE3's
    keyed XOF. ``field(label, shape)`` is a pure function of (secret, segment, label).
    ``segments``: how many segments the statement has (the blinding ring closes over them;
    default: segment + 1, i.e. this is the last one)."""

    def __init__(self, secret: bytes, segment: int = 0, segments: int | None = None):
        if len(secret) != 32:
            raise StarkConfigError("the zero-knowledge secret must be 32 bytes")
        segments = int(segment) + 1 if segments is None else segments
        if not 0 <= int(segment) < int(segments):
            raise StarkConfigError(f"segment {segment} of a statement of {segments} segments")
        self._key = bytes(secret)
        self._segment = int(segment)
        self._segments = int(segments)

    @classmethod
    def fresh(cls, segment: int = 0) -> "ZkRandomness":
        return cls(os.urandom(32), segment)

    def predecessor(self) -> "ZkRandomness":
        """The stream of the previous segment of the statement (the last one for segment 0):
        its ring exit value is this segment's first σ (blind.py)."""
        return ZkRandomness(self._key, (self._segment - 1) % self._segments, self._segments)

    @staticmethod
    def secret_from_seed(seed) -> bytes:
        """A statement secret: 32 bytes from the OS, or (tests only) derived from ``seed``."""
        if seed is None:
            return os.urandom(32)
        return blake3.blake3(b"pyzkvm-zk-test-seed" + repr(seed).encode()).digest()

    def field(self, label: str, shape) -> np.ndarray:
        """Uniform elements of F_p, by rejection: 31-bit words below p are kept (94%). The
        result is the first ``count`` kept words of the label's stream, read XOF_CHUNK_WORDS at
        a time (the temporaries stay that size, not the result's: a hiding 2^19-row table's
        randomness is ~200 MB), each chunk's kept words written in place."""
        count = int(np.prod(shape))
        out, got = np.empty(count, dtype=np.uint32), 0
        xof = _Xof(self._stream(label), count)
        while got < count:
            got += xof.keep_next_into(out[got:], count - got)
        return out.reshape(shape)

    def field_rows(self, label: str, shape: tuple, block_rows: int, chunks: list | None = None):
        """``field(label, shape)`` of a (rows, w) shape, block_rows rows at a time: yields
        (first row, its block), the same elements in the same order, never the whole matrix;
        a block is valid until the next one is asked for (all are made in one buffer, not in
        fresh pages each). ``chunks`` (a list) gets each XOF chunk read (``_Xof``). A block's
        kept words are written in place, into a buffer one chunk longer: what a chunk keeps
        past the block starts the next one."""
        rows, w = shape
        xof = _Xof(self._stream(label), rows * w, chunks)
        block = min(rows, block_rows) * w
        # a block's words, and what its last chunks keep past it (at most their count)
        buf = np.empty(block + XOF_CHUNK_WORDS * (_chunks_for(block) + 1), dtype=np.uint32)
        have = 0  # kept words in buf: those past the last block's, moved to its start
        for lo in range(0, rows, block_rows):
            size = (min(rows, lo + block_rows) - lo) * w
            while have < size:
                have += xof.keep_next_into(buf[have:], size - have)
            yield lo, buf[:size].reshape(-1, w)
            buf[:have - size] = buf[size:have]  # the words kept past this block start the next
            have -= size

    def _stream(self, label: str):
        return blake3.blake3(b"pyzkvm-zk-v1" + struct.pack("<Q", self._segment) + label.encode(), key=self._key)

    def kept_chunk(self, label: str, seek: int, want: int, limit: int) -> np.ndarray:
        """One chunk of ``_Xof``'s again: the kept words among ``want`` XOF words from byte
        ``seek`` of the label's stream, at most ``limit``."""
        return _kept_of(self._stream(label), seek, want, limit)


class _Xof:
    """One label's XOF stream read chunk by chunk for ``count`` kept words (ZkRandomness.field):
    each chunk XOF_CHUNK_WORDS words, or a little more than the words still wanted (17/16 of
    them, + 16: the rejected 6 %); ``chunks`` (a list) gets (byte offset, words read, kept
    words before) of each (SaltMatrix.rows regenerates only those it needs: kept_chunk)."""

    def __init__(self, stream, count: int, chunks: list | None = None):
        self._stream, self._count, self._chunks = stream, count, chunks
        self._got, self._seek = 0, 0
        self._scratch = np.empty((0, XOF_CHUNK_WORDS), dtype=np.uint32)  # keep_chunks_into's, reused

    def keep_next_into(self, out: np.ndarray, need: int) -> int:
        """The next chunks' kept words written to the start of ``out``, enough for about ``need``
        of them; how many. The chunks that keep about ``need`` words (_chunks_for), as many as
        ``out`` holds, are read side by side (keep_chunks_into) while every one of them is whole
        (XOF_CHUNK_WORDS words, more than one chunk's worth still wanted after it); else one
        chunk (keep_into)."""
        whole = (self._count - self._got) // XOF_CHUNK_WORDS - 1  # every one keeps ≤ C < what is left
        k = min(whole, _chunks_for(need), out.shape[0] // XOF_CHUNK_WORDS)
        return self.keep_chunks_into(out, k) if k >= 2 else self.keep_into(out)

    def keep_chunks_into(self, out: np.ndarray, k: int) -> int:
        """The next ``k`` chunks, each of XOF_CHUNK_WORDS words, read side by side on the pool's
        threads (BLAKE3's XOF at any offset is independent of the rest; the GIL is released
        there and in _keep_canonical; ``digest`` only reads the hasher, which is never updated
        after ZkRandomness._stream makes it): chunk j keeps its words in row j of a scratch matrix,
        then they are copied to ``out`` in order. The kept words and the chunks recorded are
        those of k keep_into calls: every chunk is whole while more than C words are still wanted."""
        c, seek = XOF_CHUNK_WORDS, self._seek
        kept = np.empty(k, dtype=np.int64)
        if self._scratch.shape[0] < k:
            self._scratch = np.empty((k, c), dtype=np.uint32)
        scratch = self._scratch

        def read(lo: int, hi: int) -> None:
            for j in range(lo, hi):
                kept[j] = _keep_into(self._stream, seek + 4 * c * j, c, scratch[j])

        parallel_for(read, k, work_per_item=c)
        got = 0
        for j in range(k):  # over the few chunks: each one's words after the ones before
            if self._chunks is not None:
                self._chunks.append((seek + 4 * c * j, c, self._got + got))
            out[got:got + kept[j]] = scratch[j, :kept[j]]
            got += int(kept[j])
        self._seek += 4 * c * k
        self._got += got
        return got

    def keep_into(self, out: np.ndarray) -> int:
        """The next chunk's kept words (at most the count still wanted) written to the start
        of ``out`` (long enough for them); how many."""
        want = min(_drawn_for(self._count - self._got) + 16, XOF_CHUNK_WORDS)
        if self._chunks is not None:
            self._chunks.append((self._seek, want, self._got))
        kept = _keep_into(self._stream, self._seek, want, out[:min(want, self._count - self._got)])
        self._seek += 4 * want
        self._got += kept
        return kept


def _drawn_for(kept: int) -> int:
    # the XOF words that keep about ``kept`` canonical ones: 17/16 of them (6 % are rejected)
    return kept * 17 // 16


def _chunks_for(words: int) -> int:
    # the XOF chunks that keep about ``words`` words (_drawn_for), rounded up
    return -(-_drawn_for(words) // XOF_CHUNK_WORDS)


def _kept_of(stream, seek: int, want: int, limit: int) -> np.ndarray:
    # the canonical words (rejection sampling) among `want` XOF words from byte `seek`, ≤ limit
    keep = np.empty(limit, dtype=np.uint32)
    return keep[:_keep_into(stream, seek, want, keep)]


def _keep_into(stream, seek: int, want: int, out: np.ndarray) -> int:
    # those words written to out's start, at most len(out); how many
    words = np.frombuffer(stream.digest(length=4 * want, seek=seek), dtype="<u4")
    return _keep_canonical(words, out)
