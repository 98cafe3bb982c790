"""16 × 16 word tiles transposed in vector registers: rows of messages ↔ SIMD lanes.

The BLAKE3 lane kernel (blake3_numba.py) hashes 16 messages per vector instruction: word k
of message l sits in lane l of vector k. The messages are the rows of a row-major matrix,
so each 16-word block of 16 rows must be transposed on its way in, and the 16 digests of 8
words on their way out (and in: a Merkle node whose two children are rows of two arrays). Written as plain numba loops, that copy stayed scalar (LLVM emits no
gathers or scatters for the strided side on the AMD Zen 4 it was measured on) and cost ~2 of
every 3 cycles of a leaf hash (bench/results/stark_kernels.md, session 15). Here it is
written in LLVM IR: 16 vector loads, a network of two-input shuffles, 16 vector stores.

The shuffle network (a tile of 16 vectors × 16 positions, element (v, p)): stage j takes
each pair of vectors whose indices differ in bit j and swaps bit j of the vector index with
bit j of the position — one two-input shuffle per output vector. After the four stages
(j = 0 … 3) element (v, p) sits at (p, v): the transpose. A shuffle's mask is worked out
here in Python by following where each element goes (``_network``), so the stage rule is
the whole algorithm. LLVM lowers <16 x i32> shuffles for whatever CPU numba compiles for:
one vpermt2d / vpermt2q / vpunpck[lh]qdq each with AVX-512, a few 256- or 128-bit ones
without it (tests/stark/test_blake3.py passes with NUMBA_CPU_NAME=haswell and =generic; on
the Zen 4 the AVX2 code hashes as fast).

These are numba ``@intrinsic``s: this module imports numba and llvmlite, and is imported
only when a kernel that uses them compiles (blake3_numba refers to them through
lazy_njit.LazyIntrinsic, so that a verifier never imports numba). numba's cache knows a
kernel by its own file only: after editing this one, touch blake3_numba.py and lincomb.py (or
empty the cache) so that hash_rows_kernel and lincomb._combine_rows are compiled again with it.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

TILE = 16  #: messages per tile = 32-bit lanes of a 512-bit vector
_I32, _I64 = ir.IntType(32), ir.IntType(64)
_VEC = ir.VectorType(_I32, TILE)


def _swap_bit(layout: dict, vector_bit: int, position_bit: int) -> dict:
    """The layout after one stage: the element at (v, p) moves to the (v', p') where
    bit ``vector_bit`` of v and bit ``position_bit`` of p are exchanged. layout: (v, p) → label."""
    moved = {}
    for (v, p), label in layout.items():
        bv, bp = (v >> vector_bit) & 1, (p >> position_bit) & 1
        moved[((v & ~(1 << vector_bit)) | (bp << vector_bit), (p & ~(1 << position_bit)) | (bv << position_bit))] = label
    return moved


def _network(builder, vectors: list, layout: dict, target: dict) -> list:
    """Vectors holding ``target``'s layout, each ONE two-input shuffle of the ``vectors`` (in
    ``layout``): every output vector must draw on at most two input vectors."""
    where = {label: vp for vp, label in layout.items()}
    out = []
    for v in range(len(target) // TILE):
        sources, mask = [], []
        for p in range(TILE):
            sv, sp = where[target[(v, p)]]
            if sv not in sources:
                sources.append(sv)
            mask.append(sp + TILE * sources.index(sv))
        assert len(sources) <= 2, "a stage must pair vectors"
        second = vectors[sources[1]] if len(sources) == 2 else ir.Constant(_VEC, None)
        out.append(builder.shuffle_vector(vectors[sources[0]], second, ir.Constant(_VEC, mask)))
    return out


def _vector_at(context, builder, array_type, array, index):
    # a <16 x i32> pointer to array[index] (a 1-D uint32 array; no bounds check: see the callers)
    data = context.make_array(array_type)(context, builder, array).data
    return builder.bitcast(builder.gep(data, [index]), _VEC.as_pointer())


def _words(context, builder, sig, args, *which) -> list:
    # the integer arguments ``which`` as i64 values
    return [context.cast(builder, args[i], sig.args[i], types.int64) for i in which]


def _is_words(t) -> bool:
    return isinstance(t, types.Array) and t.ndim == 1 and t.dtype == types.uint32 and t.layout == "C"


@intrinsic
def rows_to_lanes(typingctx, src, start, stride, words, dst, lane, lanes):
    """dst[k·lanes + lane + i] = src[start + i·stride + k] for i < 16 (16 messages, ``stride``
    words apart) and k < ``words`` ≤ 16; 0 for words ≤ k < 16 (a short block's padding).
    Reads src[start + i·stride + k] for all k < 16: the caller keeps that inside src."""
    if not (_is_words(src) and _is_words(dst)):
        return None
    sig = types.void(src, start, stride, words, dst, lane, lanes)

    def codegen(context, builder, signature, args):
        start_, stride_, words_, lane_, lanes_ = _words(context, builder, signature, args, 1, 2, 3, 5, 6)
        count = builder.trunc(words_, _I32)
        splat = builder.shuffle_vector(builder.insert_element(ir.Constant(_VEC, None), count, ir.Constant(_I32, 0)),
                                       ir.Constant(_VEC, None), ir.Constant(_VEC, [0] * TILE))
        kept = builder.icmp_unsigned("<", ir.Constant(_VEC, list(range(TILE))), splat)  # position k < words
        zero = ir.Constant(_VEC, [0] * TILE)
        rows = []
        for i in range(TILE):
            at = builder.add(start_, builder.mul(stride_, ir.Constant(_I64, i)))
            row = builder.load(_vector_at(context, builder, signature.args[0], args[0], at), align=4)
            rows.append(builder.select(kept, row, zero))
        layout = {(i, k): (i, k) for i in range(TILE) for k in range(TILE)}  # vector i = message i
        for j in range(4):
            moved = _swap_bit(layout, j, j)
            rows = _network(builder, rows, layout, moved)
            layout = moved
        for k in range(TILE):  # vector k = word k of the 16 messages
            builder.store(rows[k], _vector_at(context, builder, signature.args[4], args[4], _lane_vector(builder, lanes_, lane_, k)),
                          align=4)
        return context.get_dummy_value()

    return sig, codegen


def _lane_vector(builder, lanes_, lane_, k: int):
    # the index of word k of lane ``lane`` in a lane array (word k of lane l at k·lanes + l)
    return builder.add(builder.mul(lanes_, ir.Constant(_I64, k)), lane_)


def _regroup_digests(builder, vectors: list, layout: dict, position_bit: int, target: dict) -> list:
    # 8 vectors of 16 digest words between the two layouts (lanes: vector k = word k of 16
    # digests; digests: vector q = digests 2q and 2q + 1): two stages pair the vectors (vector
    # bits 0, 1 ↔ position bits position_bit, position_bit + 1), the last shuffle puts each
    # element in its final place directly
    for j in range(2):
        moved = _swap_bit(layout, j, j + position_bit)
        vectors = _network(builder, vectors, layout, moved)
        layout = moved
    return _network(builder, vectors, layout, target)


#: the two layouts of 16 digests in 8 vectors, element → (digest i, word k): as lanes (vector
#: k, position i) and as digests laid one after another (vector i // 2, position 8·(i & 1) + k)
_AS_LANES = {(k, i): (i, k) for k in range(8) for i in range(TILE)}
_AS_DIGESTS = {(i >> 1, 8 * (i & 1) + k): (i, k) for i in range(TILE) for k in range(8)}


@intrinsic
def lanes_to_digests(typingctx, src, lane, lanes, dst, start):
    """dst[start + 8·i + k] = src[k·lanes + lane + i] for i < 16, k < 8: the 8-word chaining
    values of 16 lanes written out as 16 consecutive digests (128 words)."""
    if not (_is_words(src) and _is_words(dst)):
        return None
    sig = types.void(src, lane, lanes, dst, start)

    def codegen(context, builder, signature, args):
        lane_, lanes_, start_ = _words(context, builder, signature, args, 1, 2, 4)
        words = [builder.load(_vector_at(context, builder, signature.args[0], args[0], _lane_vector(builder, lanes_, lane_, k)),
                              align=4) for k in range(8)]
        digests = _regroup_digests(builder, words, _AS_LANES, 1, _AS_DIGESTS)
        for q in range(8):
            at = builder.add(start_, ir.Constant(_I64, TILE * q))
            builder.store(digests[q], _vector_at(context, builder, signature.args[3], args[3], at), align=4)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def digests_to_lanes(typingctx, src, start, dst, lane, lanes):
    """dst[k·lanes + lane + i] = src[start + 8·i + k] for i < 16, k < 8: 16 consecutive
    8-word digests (128 words) as words 0 … 7 of 16 lanes (lanes_to_digests the other way)."""
    if not (_is_words(src) and _is_words(dst)):
        return None
    sig = types.void(src, start, dst, lane, lanes)

    def codegen(context, builder, signature, args):
        start_, lane_, lanes_ = _words(context, builder, signature, args, 1, 3, 4)
        digests = [builder.load(_vector_at(context, builder, signature.args[0], args[0],
                                           builder.add(start_, ir.Constant(_I64, TILE * q))), align=4) for q in range(8)]
        words = _regroup_digests(builder, digests, _AS_DIGESTS, 0, _AS_LANES)
        for k in range(8):
            builder.store(words[k], _vector_at(context, builder, signature.args[2], args[2], _lane_vector(builder, lanes_, lane_, k)),
                          align=4)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def prefetch(typingctx, src, index):
    """A hint to bring the cache line of src[index] in (llvm.prefetch: read, keep in all
    cache levels); no effect on the result, none on a CPU without prefetch instructions."""
    if not _is_words(src):
        return None
    sig = types.void(src, index)

    def codegen(context, builder, signature, args):
        (at,) = _words(context, builder, signature, args, 1)
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        pointer = builder.bitcast(builder.gep(data, [at]), ir.IntType(8).as_pointer())
        hint = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [pointer.type, _I32, _I32, _I32]),
                                              "llvm.prefetch.p0")
        builder.call(hint, [pointer, ir.Constant(_I32, 0), ir.Constant(_I32, 3), ir.Constant(_I32, 1)])
        return context.get_dummy_value()

    return sig, codegen
