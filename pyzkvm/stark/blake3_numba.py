"""BLAKE3 in numba: the compression function and full hashing of word-aligned messages.

This is the hash under every Merkle commitment (leaves = a trace row's bytes, nodes = two
child digests) and under the Fiat–Shamir proof-of-work. It agrees byte for byte with the
reference ``blake3`` package (tests/stark/test_blake3.py checks it).

BLAKE3 in one paragraph (https://github.com/BLAKE3-team/BLAKE3-specs): the message is split
into 1024-byte chunks, each chunk into 64-byte blocks. The compression function maps a
chaining value cv (8 words), a block (16 words), a 64-bit counter, the block length and flags
to 16 words; a chunk chains its blocks through cv (starting from the IV, counter = chunk
index, CHUNK_START on its first block, CHUNK_END on its last). Chunk chaining values are then
combined pairwise in a binary tree by PARENT compressions (block = left cv ‖ right cv,
counter 0), the left subtree always holding the largest power of two of chunks. The last
compression of the whole message also carries ROOT; the hash is its first 8 words.

A Merkle node blake3(left ‖ right) of two 32-byte digests is therefore ONE compression: a
single chunk with a single 64-byte block, flags CHUNK_START | CHUNK_END | ROOT = 11.

Words are uint32 locals: every sum and rotation is written as np.uint32(...) of numba's
64-bit result, which LLVM narrows back to 32-bit instructions (and, in the lane kernel, to
16 words per AVX-512 instruction, a rotation one vprold; 8 per instruction on AVX2).

Two implementations of the same function live here: a scalar one (one message at a time,
every state word a local variable: hash_words, compress — the readable reference, used by
the tests) and a lane-parallel one that the prover runs (LANES messages side by side, SIMD
over the lanes: Merkle leaves and nodes, hash_rows_lanes and compress_pairs_lanes, and the
proof-of-work search, grind_kernel). Both call the same round function; the tests check both
against the blake3 package.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import blake3
import numpy as np
from ..lazy_njit import LazyIntrinsic, njit

from .._jit import inner

from .pool import parallel_for

IV = np.array(
    [0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19],
    dtype=np.uint32,
)
CHUNK_START = 1
CHUNK_END = 2
PARENT = 4
ROOT = 8
NODE_FLAGS = CHUNK_START | CHUNK_END | ROOT  #: flags of a one-block message such as a Merkle node
BLOCK_WORDS = 16
CHUNK_WORDS = 256  # 1024 bytes

_U32 = np.uint32
_IV0, _IV1, _IV2, _IV3 = (np.uint32(int(v)) for v in IV[:4])
_IV4, _IV5, _IV6, _IV7 = (np.uint32(int(v)) for v in IV[4:])


# the rotation amounts of G, as uint32 constants: _rotr is then ONE compiled function (with
# int literals numba compiled it once per literal, four times)
_R16, _R12, _R8, _R7 = _U32(16), _U32(12), _U32(8), _U32(7)
_R32 = _U32(32)


@inner
def _rotr(x, n):
    # x ⋙ n on a 32-bit word (LLVM emits a rotate, or a byte shuffle for n = 8, 16)
    return _U32((x >> n) | (x << (_R32 - n)))


@inner
def _g(a, b, c, d, mx, my):
    # The quarter-round G: mixes one column or diagonal of the 4×4 state with two message words.
    a = _U32(a + b + mx)
    d = _rotr(_U32(d ^ a), _R16)
    c = _U32(c + d)
    b = _rotr(_U32(b ^ c), _R12)
    a = _U32(a + b + my)
    d = _rotr(_U32(d ^ a), _R8)
    c = _U32(c + d)
    b = _rotr(_U32(b ^ c), _R7)
    return a, b, c, d


@inner
def _round(v, m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15):
    # One round on the state v (a 16-tuple): G on the four columns, then on the four diagonals.
    v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15 = v
    v0, v4, v8, v12 = _g(v0, v4, v8, v12, m0, m1)
    v1, v5, v9, v13 = _g(v1, v5, v9, v13, m2, m3)
    v2, v6, v10, v14 = _g(v2, v6, v10, v14, m4, m5)
    v3, v7, v11, v15 = _g(v3, v7, v11, v15, m6, m7)
    v0, v5, v10, v15 = _g(v0, v5, v10, v15, m8, m9)
    v1, v6, v11, v12 = _g(v1, v6, v11, v12, m10, m11)
    v2, v7, v8, v13 = _g(v2, v7, v8, v13, m12, m13)
    v3, v4, v9, v14 = _g(v3, v4, v9, v14, m14, m15)
    return v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15


@inner
def _compress8(c0, c1, c2, c3, c4, c5, c6, c7,
               m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15,
               counter, block_len, flags):
    """The compression function, truncated to the 8 output words a hash needs:
    state = (cv, IV[0..4], counter_lo, counter_hi, block_len, flags); 7 rounds, the message
    words permuted by σ = [2,6,3,10,7,0,4,13,1,11,12,5,9,14,15,8] between rounds; output
    word i = state[i] ⊕ state[i+8]."""
    v = (_U32(c0), _U32(c1), _U32(c2), _U32(c3), _U32(c4), _U32(c5), _U32(c6), _U32(c7),
         _IV0, _IV1, _IV2, _IV3, _U32(np.uint64(counter) & np.uint64(0xFFFFFFFF)),
         _U32(np.uint64(counter) >> np.uint64(32)), _U32(block_len), _U32(flags))
    for _round_index in range(7):
        v = _round(v, m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15)
        # message permutation σ: new m_i = old m_σ(i)
        m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15 = (
            m2, m6, m3, m10, m7, m0, m4, m13, m1, m11, m12, m5, m9, m14, m15, m8)
    return (v[0] ^ v[8], v[1] ^ v[9], v[2] ^ v[10], v[3] ^ v[11],
            v[4] ^ v[12], v[5] ^ v[13], v[6] ^ v[14], v[7] ^ v[15])


@inner
def _load_block(msg, pos, end):
    # 16 little-endian message words msg[pos:pos+16], zero-padded past `end`.
    out = (_U32(msg[pos]) if pos < end else _U32(0),
           _U32(msg[pos + 1]) if pos + 1 < end else _U32(0),
           _U32(msg[pos + 2]) if pos + 2 < end else _U32(0),
           _U32(msg[pos + 3]) if pos + 3 < end else _U32(0),
           _U32(msg[pos + 4]) if pos + 4 < end else _U32(0),
           _U32(msg[pos + 5]) if pos + 5 < end else _U32(0),
           _U32(msg[pos + 6]) if pos + 6 < end else _U32(0),
           _U32(msg[pos + 7]) if pos + 7 < end else _U32(0),
           _U32(msg[pos + 8]) if pos + 8 < end else _U32(0),
           _U32(msg[pos + 9]) if pos + 9 < end else _U32(0),
           _U32(msg[pos + 10]) if pos + 10 < end else _U32(0),
           _U32(msg[pos + 11]) if pos + 11 < end else _U32(0),
           _U32(msg[pos + 12]) if pos + 12 < end else _U32(0),
           _U32(msg[pos + 13]) if pos + 13 < end else _U32(0),
           _U32(msg[pos + 14]) if pos + 14 < end else _U32(0),
           _U32(msg[pos + 15]) if pos + 15 < end else _U32(0))
    return out


@njit(cache=True, nogil=True)
def compress(cv, block, counter, block_len, flags):
    """BLAKE3's compression function on arrays: cv (8,) and block (16,) uint32 words, a 64-bit
    counter, block length in bytes and flags. Returns the first 8 output words (uint32)."""
    m = _load_block(block, 0, 16)
    o = _compress8(cv[0], cv[1], cv[2], cv[3], cv[4], cv[5], cv[6], cv[7],
                   m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7],
                   m[8], m[9], m[10], m[11], m[12], m[13], m[14], m[15],
                   counter, block_len, flags)
    out = np.empty(8, dtype=np.uint32)
    for i in range(8):
        out[i] = o[i]
    return out


@inner
def _chunk_cv(msg, start, end, chunk_index, root):
    # Chain the blocks of one chunk msg[start:end] (≤ 256 words) from the IV.
    c = (_IV0, _IV1, _IV2, _IV3, _IV4, _IV5, _IV6, _IV7)
    nwords = end - start
    nblocks = max(1, (nwords + BLOCK_WORDS - 1) // BLOCK_WORDS)
    for b in range(nblocks):
        pos = start + b * BLOCK_WORDS
        m = _load_block(msg, pos, end)
        flags = 0
        if b == 0:
            flags |= CHUNK_START
        if b == nblocks - 1:
            flags |= CHUNK_END
            if root:
                flags |= ROOT
        block_len = 4 * min(BLOCK_WORDS, end - pos)
        c = _compress8(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
                       m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7],
                       m[8], m[9], m[10], m[11], m[12], m[13], m[14], m[15],
                       chunk_index, block_len, flags)
    return c


@inner
def _parent(stack, k, c, flags):
    # PARENT compression of (stack[k] ‖ c) with the IV as key.
    return _compress8(_IV0, _IV1, _IV2, _IV3, _IV4, _IV5, _IV6, _IV7,
                      stack[k, 0], stack[k, 1], stack[k, 2], stack[k, 3], stack[k, 4], stack[k, 5], stack[k, 6], stack[k, 7],
                      c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
                      0, 64, flags)


@inner
def _hash_words_multichunk(msg, start, end):
    # More than one chunk: a stack of subtree chaining values, merged as in the reference
    # implementation (after the t-th chunk, merge once per trailing zero bit of t).
    nwords = end - start
    nchunks = (nwords + CHUNK_WORDS - 1) // CHUNK_WORDS
    stack = np.empty((64, 8), dtype=np.uint32)
    depth = 0
    for i in range(nchunks - 1):
        s = start + i * CHUNK_WORDS
        c = _chunk_cv(msg, s, s + CHUNK_WORDS, i, False)
        total = i + 1
        while total & 1 == 0:
            depth -= 1
            c = _parent(stack, depth, c, PARENT)
            total >>= 1
        for k in range(8):
            stack[depth, k] = c[k]
        depth += 1
    s = start + (nchunks - 1) * CHUNK_WORDS
    c = _chunk_cv(msg, s, end, nchunks - 1, False)
    while depth > 0:
        depth -= 1
        c = _parent(stack, depth, c, (PARENT | ROOT) if depth == 0 else PARENT)
    return c


@inner
def _hash_words(msg, start, end):
    # The BLAKE3 hash of the little-endian bytes of msg[start:end] (a word-aligned message).
    if end - start <= CHUNK_WORDS:
        return _chunk_cv(msg, start, end, 0, True)
    return _hash_words_multichunk(msg, start, end)


@njit(cache=True, nogil=True)
def hash_words(msg):
    """BLAKE3 digest (8 uint32 words) of the bytes of a uint32 array, little-endian words."""
    c = _hash_words(msg, 0, msg.shape[0])
    out = np.empty(8, dtype=np.uint32)
    for i in range(8):
        out[i] = c[i]
    return out


# --- many messages at once: one SIMD lane per message ------------------------------------
#
# Merkle leaves and nodes are many independent messages of the same length, so they follow
# the same sequence of compressions with the same flags. The lane kernel below runs LANES
# messages side by side: _compress_lanes is ONE loop over the lanes whose body is a whole
# compression on 16 + 16 local words (all 7 rounds written out, the message words loaded
# once), so LLVM vectorises the loop across lanes: each AVX-512 instruction does one step of
# 16 messages' compressions (8 with AVX2), the state stays in registers. (The earlier kernel
# kept the state in a (16, LANES) array and looped over the lanes inside every step of G: a
# load and a store per word per step, and 2.5–4× slower: bench/results/stark_kernels.md.)
#
# The messages are rows of a row-major matrix, and the lanes want word k of every message
# side by side: a block enters the lanes, and the digests leave them, 16 rows at a time
# through register transposes (lane_tiles.py, LLVM IR: 16 vector loads, 64 two-input
# shuffles, 16 stores per 16 × 16 tile). Written as numba loops that copy was scalar and
# took ~2/3 of a leaf hash's time (session 15: 30 → 87 M compressions/s at 1 thread).
#
# The sequence of compressions for a message of w words — each chunk's blocks, then the
# PARENT merges of the chunk tree — depends on w only, so it is worked out once in Python
# (hash_plan) and the kernel just walks it: ONE copy of the compression function in the
# compiled code. (Written as nested numba functions, with a chunk and a parent call site,
# the same kernel took ~9–10 s of CPU to compile, LLVM optimising each level's inlined
# copy again: bench/results/cold_start.md.) The helpers are @inner (no Python wrappers:
# only compiled code calls them). Measured and not kept: _compress_lanes inlined into
# hash_rows_kernel (inline="always") compiled ~1 s faster but hashed ~7 % slower.

LANES = 64


@inner
def _compress_lanes(cv, m, counter_lo, counter_hi, block_len, flags):
    """LANES compressions side by side, in place on the chaining values: cv (8·LANES,) and
    the message blocks m (16·LANES,) hold word k of lane l at [k·LANES + l] (flat, so that
    every access is contiguous in l: a 2-D index or 24 row views would stop LLVM from
    vectorising). Same counter, block length and flags in every lane. Round r uses the
    message words in the order σ^r(0..15) (σ: see _compress8), written out."""
    L = LANES
    for l in range(L):
        v = (cv[l], cv[L + l], cv[2 * L + l], cv[3 * L + l], cv[4 * L + l], cv[5 * L + l], cv[6 * L + l], cv[7 * L + l],
             _IV0, _IV1, _IV2, _IV3, counter_lo, counter_hi, block_len, flags)
        m0, m1, m2, m3 = m[l], m[L + l], m[2 * L + l], m[3 * L + l]
        m4, m5, m6, m7 = m[4 * L + l], m[5 * L + l], m[6 * L + l], m[7 * L + l]
        m8, m9, m10, m11 = m[8 * L + l], m[9 * L + l], m[10 * L + l], m[11 * L + l]
        m12, m13, m14, m15 = m[12 * L + l], m[13 * L + l], m[14 * L + l], m[15 * L + l]
        v = _round(v, m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15)
        v = _round(v, m2, m6, m3, m10, m7, m0, m4, m13, m1, m11, m12, m5, m9, m14, m15, m8)
        v = _round(v, m3, m4, m10, m12, m13, m2, m7, m14, m6, m5, m9, m0, m11, m15, m8, m1)
        v = _round(v, m10, m7, m12, m9, m14, m3, m13, m15, m4, m0, m11, m2, m5, m8, m1, m6)
        v = _round(v, m12, m13, m9, m11, m15, m10, m14, m8, m7, m2, m5, m3, m0, m1, m6, m4)
        v = _round(v, m9, m14, m11, m5, m8, m12, m15, m1, m13, m3, m0, m10, m2, m6, m4, m7)
        v = _round(v, m11, m15, m5, m0, m1, m9, m8, m6, m14, m10, m2, m12, m3, m4, m7, m13)
        # the first 8 output words: state[k] ⊕ state[k + 8] (written out: a tuple indexed by
        # a loop variable would go through memory and stop the vectorisation)
        cv[l], cv[L + l], cv[2 * L + l], cv[3 * L + l] = v[0] ^ v[8], v[1] ^ v[9], v[2] ^ v[10], v[3] ^ v[11]
        cv[4 * L + l], cv[5 * L + l], cv[6 * L + l], cv[7 * L + l] = v[4] ^ v[12], v[5] ^ v[13], v[6] ^ v[14], v[7] ^ v[15]


# a plan step: (source, first word, words, counter, block_len, flags, push)
#   source −1: a message block, words [first, first + words) of the row (zero-padded), chained
#              from the IV when flags has CHUNK_START, else from the previous step's output;
#   source d ≥ 0: a PARENT merge, block = stack[d] ‖ the previous output, keyed with the IV;
#   push ≥ 0: the step's output is also saved as stack[push] (a finished left subtree).
_SRC, _FIRST, _WORDS, _COUNTER, _LEN, _FLAGS, _PUSH = range(7)


@lru_cache(maxsize=64)
def hash_plan(w: int) -> np.ndarray:
    """The compressions hashing a w-word message, in order (int64 (steps, 7), see above):
    exactly _hash_words_multichunk's chunk tree (merge once per trailing zero bit of the
    chunk count after an inner chunk; all the way to the root after the last)."""
    steps = []
    nchunks = max(1, (w + CHUNK_WORDS - 1) // CHUNK_WORDS)
    depth = 0
    for i in range(nchunks):
        last = i == nchunks - 1
        start, end = i * CHUNK_WORDS, min(w, (i + 1) * CHUNK_WORDS)
        nblocks = max(1, (end - start + BLOCK_WORDS - 1) // BLOCK_WORDS)
        for b in range(nblocks):
            pos = start + b * BLOCK_WORDS
            words = min(BLOCK_WORDS, end - pos)
            flags = (CHUNK_START if b == 0 else 0) | (CHUNK_END if b == nblocks - 1 else 0)
            if b == nblocks - 1 and nchunks == 1:
                flags |= ROOT
            steps.append([-1, pos, words, i, 4 * words, flags, -1])
        merges = depth if last else 0
        total = i + 1
        while not last and total & 1 == 0:
            merges += 1
            total >>= 1
        for _ in range(merges):
            depth -= 1
            steps.append([depth, 0, BLOCK_WORDS, 0, 64, (PARENT | ROOT) if (last and depth == 0) else PARENT, -1])
        if not last:
            steps[-1][_PUSH] = depth
            depth += 1
    plan = np.array(steps, dtype=np.int64)
    plan.setflags(write=False)
    return plan


#: the tile transpositions between rows and lanes (lane_tiles.py: LLVM IR, numba imported
#: only when hash_rows_kernel compiles)
_rows_to_lanes = LazyIntrinsic("pyzkvm.stark.lane_tiles", "rows_to_lanes")
_lanes_to_digests = LazyIntrinsic("pyzkvm.stark.lane_tiles", "lanes_to_digests")
_digests_to_lanes = LazyIntrinsic("pyzkvm.stark.lane_tiles", "digests_to_lanes")
_prefetch = LazyIntrinsic("pyzkvm.stark.lane_tiles", "prefetch")
TILE = 16  # messages per tile (lane_tiles.TILE)


@njit(cache=True, nogil=True)
def hash_rows_kernel(matrix, out, plan, g0, g1):
    """out[i] = BLAKE3(LE bytes of matrix[i, :w]) for the rows of groups g0 … g1 − 1 (LANES
    rows per group; a group at the end of the matrix is hashed from a copy with its final row
    repeated in the spare lanes, which are discarded), following plan = hash_plan(w), w ≤
    matrix.shape[1] (a padded block's rows are read in place, its padding columns never).
    A message block enters the lanes, and the digests leave them, 16 rows at a time through
    lane_tiles' register transposes. Runs without the GIL: hash_rows_lanes runs chunks of
    groups side by side on the thread pool (pool.parallel_for)."""
    n, w = matrix.shape  # w: the row stride here; the message width is the plan's
    L = LANES
    rows, digests = matrix.reshape(-1), out.reshape(-1)  # flat views (C-contiguous arrays)
    cv = np.empty(8 * L, dtype=np.uint32)   # the chaining value of every lane: word k at [k·L + l]
    m = np.empty(16 * L, dtype=np.uint32)   # the message block of every lane, the same layout
    depth = 1  # left subtrees' cvs held at once: 1 + the deepest push (a loop, not np.max: numba's
    for s in range(plan.shape[0]):  # max over a strided column costs ~0.4 s more of compile)
        depth = max(depth, plan[s, _PUSH] + 1)
    stack = np.empty((depth, 8 * L), dtype=np.uint32)  # left subtrees' cvs
    # a tile reads 16 words of each row from a block's first word on, past a short block's end
    # into the next rows: a group whose reads would leave the matrix is hashed from ``tail``,
    # its rows copied (the final one repeated) with room for the overrun
    tail = np.zeros(L * w + BLOCK_WORDS, dtype=np.uint32)
    tail_digests = np.empty(8 * L, dtype=np.uint32)
    for g in range(g0, g1):
        at_end = (g + 1) * L * w + BLOCK_WORDS > n * w
        src, base = rows, g * L * w
        if at_end:
            for l in range(L):
                r = min(g * L + l, n - 1)
                for k in range(w):
                    tail[l * w + k] = rows[r * w + k]
            src, base = tail, 0
        elif plan.shape[0] > 1 and (g + 2) * L * w <= n * w:
            # rows of several blocks: the next group's rows asked for while this one is hashed
            # (its blocks read across 64 rows at once outrun the hardware's own prefetch:
            # +7–16 % at 35–89 words from memory; at ≤ 16 words it is ~15 % slower)
            for i in range((g + 1) * L * w, (g + 2) * L * w, BLOCK_WORDS):
                _prefetch(rows, i)
        for s in range(plan.shape[0]):
            source, first, words, flags = plan[s, _SRC], plan[s, _FIRST], plan[s, _WORDS], plan[s, _FLAGS]
            if source < 0:  # a block of the message: word k of row l → m[k·L + l], zeros past `words`
                if flags & CHUNK_START:
                    for k in range(8):
                        for l in range(L):
                            cv[k * L + l] = IV[k]
                for l0 in range(0, L, TILE):
                    _rows_to_lanes(src, base + l0 * w + first, w, words, m, l0, L)
            else:  # PARENT: block = left subtree's cv ‖ this cv, key = IV
                for i in range(8 * L):
                    m[i] = stack[source, i]
                    m[8 * L + i] = cv[i]
                for k in range(8):
                    for l in range(L):
                        cv[k * L + l] = IV[k]
            counter = plan[s, _COUNTER]
            _compress_lanes(cv, m, _U32(counter & 0xFFFFFFFF), _U32(counter >> 32), _U32(plan[s, _LEN]), _U32(flags))
            if plan[s, _PUSH] >= 0:
                for i in range(8 * L):
                    stack[plan[s, _PUSH], i] = cv[i]
        dst, at = (tail_digests, 0) if at_end else (digests, 8 * g * L)
        for l0 in range(0, L, TILE):
            _lanes_to_digests(cv, l0, L, dst, at + 8 * l0)
        if at_end:  # only the group's real rows
            for i in range(8 * min(L, n - g * L)):
                digests[8 * g * L + i] = tail_digests[i]


@njit(cache=True, nogil=True)
def compress_each_kernel(left, right, out, g0, g1):
    """out[i] = BLAKE3(left[i] ‖ right[i]) — one compression of the two 8-word digests, flags
    NODE_FLAGS — for the rows of groups g0 … g1 − 1 (LANES rows per group; left, right, out
    (n, 8) C-contiguous, out may be left itself: a group's rows are read before its digests
    are written). Each digest enters its lanes straight from its array (lane_tiles'
    digests_to_lanes: left's as words 0 … 7, right's as 8 … 15), so the pairs are never laid
    side by side in memory; a group at the end of the arrays goes through copies with its final
    row repeated in the spare lanes, which are discarded. Runs without the GIL (pool.parallel_for)."""
    n = left.shape[0]
    L = LANES
    lw, rw, dw = left.reshape(-1), right.reshape(-1), out.reshape(-1)
    cv = np.empty(8 * L, dtype=np.uint32)
    m = np.empty(16 * L, dtype=np.uint32)
    tail = np.empty((3, 8 * L), dtype=np.uint32)  # a short last group's left, right, digests
    zero = _U32(0)
    for g in range(g0, g1):
        at_end = (g + 1) * L > n
        a, b, d, base = lw, rw, dw, 8 * g * L
        if at_end:
            for l in range(L):
                r = min(g * L + l, n - 1)
                for k in range(8):
                    tail[0, 8 * l + k] = lw[8 * r + k]
                    tail[1, 8 * l + k] = rw[8 * r + k]
            a, b, d, base = tail[0], tail[1], tail[2], 0
        for l0 in range(0, L, TILE):
            _digests_to_lanes(a, base + 8 * l0, m, l0, L)
            _digests_to_lanes(b, base + 8 * l0, m, 8 * L + l0, L)
        for k in range(8):
            for l in range(L):
                cv[k * L + l] = IV[k]
        _compress_lanes(cv, m, zero, zero, _U32(64), _U32(NODE_FLAGS))
        for l0 in range(0, L, TILE):
            _lanes_to_digests(cv, l0, L, d, base + 8 * l0)
        if at_end:  # only the group's real rows
            for i in range(8 * (n - g * L)):
                dw[8 * g * L + i] = tail[2, i]


#: Batches of fewer messages than this are hashed by the reference ``blake3`` package (C), one
#: call per message: a verifier opens a few rows and path nodes at a time, and this way it
#: needs no numba kernel at all (compiling hash_rows_kernel costs ~3 s of CPU once per
#: cache — ~11 s with the old nested kernels — which a first `pyzkvm verify` would otherwise
#: pay: see bench/results/cold_start.md). Same bytes either way (tests/stark/test_blake3.py checks
#: both paths); at most a few hundred microseconds on a batch this small. A process that has the
#: kernel loaded already (a prover's) hashes every batch with it (_by_package).
SMALL_BATCH = 256


def _kernel_loaded() -> bool:
    """Whether this process has made the lane kernel's dispatcher (a prover hashed with it)."""
    return getattr(hash_rows_kernel, "materialized", False) is True  # a lazy Kernel's property


def _by_package(n: int) -> bool:
    """A batch of n messages goes to the ``blake3`` package: fewer than SMALL_BATCH, while the
    lane kernel is not loaded (a verifier then compiles none). Once it is, the kernel is the
    faster for any batch (the package costs ~1 µs of Python per message: a prover's small
    tables and Merkle levels near the root made ~9,000 such calls per proof at 2^16 cycles)."""
    return 0 < n < SMALL_BATCH and not _kernel_loaded()


def _hash_rows_small(matrix, out):
    # out[i] = the 8 little-endian words of BLAKE3(row i's little-endian bytes). One hasher,
    # reset per row (a third cheaper than a new object per call), rows sliced from one bytes
    # buffer and the digests joined into one array: the per-row cost is the package call alone
    rows = np.ascontiguousarray(matrix, dtype="<u4")
    data, width = memoryview(rows.tobytes()), 4 * rows.shape[1]
    hasher = blake3.blake3()
    reset, update, digest = hasher.reset, hasher.update, hasher.digest
    parts = []
    for start in range(0, rows.shape[0] * width, width) if width else [0] * rows.shape[0]:
        reset()
        update(data[start:start + width])
        parts.append(digest())
    out[:] = np.frombuffer(b"".join(parts), dtype="<u4").reshape(-1, 8)


def _hash_rows_numba(matrix, out, width: int | None = None):
    # the lane kernel over groups of LANES rows (their first `width` words), chunks of groups on the thread pool
    w = matrix.shape[1] if width is None else width
    parallel_for(hash_rows_kernel, (matrix.shape[0] + LANES - 1) // LANES, matrix, out, hash_plan(w),
                 work_per_item=LANES * max(16, w))


def hash_rows_lanes(matrix, out, width: int | None = None):
    """Python entry: see hash_rows_kernel (matrix (n, ≥ width) C-contiguous uint32, out (n, 8)
    uint32; width: the words hashed of each row, default all); a batch of fewer than
    SMALL_BATCH rows goes to the ``blake3`` package instead (_by_package)."""
    if _by_package(matrix.shape[0]):
        _hash_rows_small(matrix if width is None else matrix[:, :width], out)
    elif matrix.shape[0]:
        _hash_rows_numba(matrix, out, width)
    return out


def compress_pairs_lanes(digests, out):
    """out[i] = blake3(digests[2i] ‖ digests[2i+1]) (digests (2m, 8), out (m, 8)); fewer than
    SMALL_BATCH nodes go to the ``blake3`` package (a node is the hash of its two children's
    64 bytes, exactly one compression with flags NODE_FLAGS)."""
    if _by_package(out.shape[0]):
        _hash_rows_small(np.ascontiguousarray(digests).reshape(-1, 16), out)
    elif out.shape[0]:
        # a node is a 16-word message (left ‖ right): its plan is that one compression
        _hash_rows_numba(np.ascontiguousarray(digests).reshape(-1, 16), out)
    return out


def compress_each_lanes(left, right, out):
    """out[i] = blake3(left[i] ‖ right[i]) (left, right, out (n, 8) C-contiguous uint32; out may
    be left): compress_each_kernel on the thread pool, or the ``blake3`` package for fewer
    than SMALL_BATCH nodes while the lane kernels are not loaded (_by_package)."""
    if _by_package(out.shape[0]):
        _hash_rows_small(np.concatenate((left, right), axis=1), out)
    elif out.shape[0]:
        parallel_for(compress_each_kernel, (out.shape[0] + LANES - 1) // LANES, left, right, out,
                     work_per_item=LANES * 16)
    return out


def inject_row_hashes_lanes(nodes, matrix, width: int):
    """nodes[i] = blake3(nodes[i] ‖ H(matrix[i, :width])), H = hash_rows_kernel's row hash
    (nodes (n, 8), matrix (n, ≥ width) C-contiguous uint32): both in one loop on the thread
    pool, each chunk hashing its rows INJECT_PIECE_ROWS at a time into a buffer of its own and
    compressing them into their nodes at once (a hash loop and an injection loop per piece, as
    mmcs injected an LDE block's digests before, left a thread idle at each of their ends:
    ~0.2 s of a 2^20-cycle commit on 2 threads)."""
    if matrix.shape[0]:
        parallel_for(_inject_row_hashes_chunk, (matrix.shape[0] + LANES - 1) // LANES, nodes, matrix, hash_plan(width),
                     work_per_item=LANES * max(16, width))
    return nodes


#: rows a chunk of inject_row_hashes_lanes hashes at once (their digests: 512 KB)
INJECT_PIECE_ROWS = 1 << 14


def _inject_row_hashes_chunk(nodes, matrix, plan, g0, g1):
    # lane groups g0 … g1 − 1 of inject_row_hashes_lanes, a piece at a time (the kernels
    # release the GIL; this loop is a few calls per piece)
    n, step = matrix.shape[0], INJECT_PIECE_ROWS // LANES
    digests = np.empty((min(INJECT_PIECE_ROWS, (g1 - g0) * LANES), 8), dtype=np.uint32)
    for a in range(g0, g1, step):
        r0, r1 = a * LANES, min(n, min(g1, a + step) * LANES)
        groups = (r1 - r0 + LANES - 1) // LANES
        hash_rows_kernel(matrix[r0:r1], digests[:r1 - r0], plan, 0, groups)
        compress_each_kernel(nodes[r0:r1], digests[:r1 - r0], nodes[r0:r1], 0, groups)


#: nonces hashed per batch by the proof-of-work search (a (batch, 10) matrix: 640 KiB)
POW_BATCH = 1 << 14
#: batches per round of the search (one pool.parallel_for each)
POW_ROUND_BATCHES = 8


def grind_kernel(state_words, bits, start, count):
    """The smallest proof-of-work nonce in [start, start + count), or −1; 1 ≤ bits ≤ 63.

    BLAKE3(state (32 bytes) ‖ nonce (8 bytes LE)) is a 10-word message: the same lane kernel
    as the Merkle leaves hashes a batch of them, one row per nonce (state words, nonce low,
    nonce high), so the search compiles no kernel of its own. A nonce is accepted when the
    digest's first 8 bytes, read as a little-endian u64, are < 2^(64−bits).

    The search goes in rounds of POW_ROUND_BATCHES batches, a round's batches the items of one
    parallel_for, each batch whole on one thread: the pool's threads take them in order from its
    counter, so no thread waits on another between batches (batches split among the threads met
    once per batch: 2 threads were ~25 % slower than 1). A batch after one that has found a hit
    is skipped, for its nonces are larger; none before the lowest batch with a hit is, so that
    batch's first hit is the smallest nonce, and the search ends with its round."""
    state_words = np.ascontiguousarray(state_words, dtype=np.uint32)
    buffers: dict = {}  # thread id → its (rows, digests) for a batch
    end = start + count
    for round_start in range(start, end, POW_BATCH * POW_ROUND_BATCHES):
        batches = min(POW_ROUND_BATCHES, -(-(end - round_start) // POW_BATCH))
        first_hit = [-1] * batches
        lowest = [batches]  # the round's lowest batch with a hit so far
        # one batch a chunk: a thread takes the next batch when it is done with one
        parallel_for(_search_batches, batches, state_words, bits, round_start, end, buffers, first_hit, lowest,
                     work_per_item=POW_BATCH * 16, chunks_per_thread=batches)
        found = [nonce for nonce in first_hit if nonce >= 0]
        if found:
            return found[0]
    return -1


def _search_batches(state_words, bits: int, round_start: int, end: int, buffers: dict, first_hit: list, lowest: list,
                    lo: int, hi: int) -> None:
    # batches lo … hi − 1 of a grind_kernel round (a chunk of pool.parallel_for): each batch's
    # first hit into first_hit, the lowest batch with one into lowest[0]
    buffer = buffers.get(threading.get_ident())
    if buffer is None:
        buffer = np.empty((POW_BATCH, 10), dtype=np.uint32), np.empty((POW_BATCH, 8), dtype=np.uint32)
        buffer[0][:, :8] = state_words
        buffers[threading.get_ident()] = buffer
    rows, digests = buffer
    for b in range(lo, hi):
        if lowest[0] < b:  # a smaller nonce is found: this chunk's later batches are larger still
            return
        first = round_start + b * POW_BATCH
        m = min(POW_BATCH, end - first)
        _nonce_words(rows[:m], first)
        hash_rows_kernel(rows[:m], digests[:m], hash_plan(10), 0, -(-m // LANES))
        hits = np.flatnonzero(_meets_target(digests[:m], bits))
        if hits.size:
            first_hit[b] = first + int(hits[0])
            lowest[0] = min(lowest[0], b)  # (a race loses nothing: each batch below it is searched whole)
            return


def _nonce_words(rows: np.ndarray, first: int) -> None:
    """Words 8 and 9 of each row: the nonces first, first + 1, … as little-endian u64 (the low
    word counts up modulo 2^32 from first's; the high word steps at most once in a batch)."""
    m = rows.shape[0]
    low, high = first & 0xFFFFFFFF, first >> 32
    np.add(np.arange(m, dtype=np.uint32), np.uint32(low), out=rows[:, 8])  # (uint32: wraps at 2^32)
    wrap = min(m, (1 << 32) - low)  # the rows before the low word wraps
    rows[:wrap, 9] = high & 0xFFFFFFFF
    rows[wrap:, 9] = (high + 1) & 0xFFFFFFFF


def _meets_target(digests: np.ndarray, bits: int) -> np.ndarray:
    """digest's first 8 bytes as a little-endian u64 < 2^(64 − bits), per row: words 0 (low)
    and 1 (high) of the digest."""
    if bits <= 32:  # the high word's top ``bits`` bits are zero
        return digests[:, 1] >> np.uint32(32 - bits) == 0
    return (digests[:, 1] == 0) & (digests[:, 0] >> np.uint32(64 - bits) == 0)
