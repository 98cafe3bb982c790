"""The machine's preprocessed root at any blowup, for image IDs (machine/image_id.py): the root
stark/keys.setup commits, without building a proving key, and with the program-independent
part hashed once.

setup commits one mixed-matrix tree (stark/mmcs.py) over every table's preprocessed LDE. When
one table is taller than every other — the byte table: 2^16 rows, the same for every program,
while a program's own tables (program, memory image) are usually far shorter — the tree's
levels down to the next table's height depend on that table alone. Those node digests are
kept (in this process and in pyzkvm/memo.py), keyed by the table's trace digest, shape, the
blowup and the level, and the tree is finished from there with the program's own tables
(mmcs.fold_levels): an image ID's setups at blowups 8 and 16 then cost the program's tables,
not a 2^20-row LDE of the byte table. tests/machine/test_image_id_v3.py checks the roots
against setup's.

A prove's setup (``commit_preprocessed``) starts from the same place: the byte table's LDE
and every level of the tree over it alone are stored once per blowup and mapped from the memo,
so a prove computes and hashes only the program's own tables.

A process that has not loaded numba (``pyzkvm info``, ``verify --elf``, ``prove --backend
trace``) transforms and hashes with numpy instead (stark/ntt_numpy.py, stark/blake3_numpy.py:
the same bytes, ~0.1 s for a small program's tables, where loading numba's kernels takes
seconds and compiling them on a cold cache ~7 s); a prove, which has loaded numba, uses its
kernels. On a machine whose memo is empty the byte table's level comes from the package
(pyzkvm/shipped.py: the level that programs of up to 2^SHIPPED_LOG_ROWS rows per table need,
at each image ID blowup); a taller program computes it once (~8 s of CPU with numpy).
"""

from __future__ import annotations

import sys

import blake3
import numpy as np

from .. import memo, shipped
from ..stark.keys import check_trace, lde_shift
from ..stark.merkle import digest_bytes
from ..stark.mmcs import fold_levels

#: pyzkvm/memo.py's (and pyzkvm/shipped.py's) namespace for the fixed table's subtree levels
FIXED_SUBTREES = "fixed-subtree"
#: the memo's namespace of the fixed table's LDE and tree levels a prove maps (commit_preprocessed)
FIXED_COMMITMENTS = "fixed-commitment"
#: the fixed table's subtree is kept at its level of 2^17 nodes (4 MB), and compressed from
#: there to the level a program needs (program tables up to 2^(16 − log2 blowup) rows)
KEPT_LOG_NODES = 17
#: the package ships, per image ID blowup b, the level a program needs whose tables have at most
#: 2^SHIPPED_LOG_ROWS rows (every prebuilt guest but rv32im-selftest):
#: 2^(SHIPPED_LOG_ROWS + log2 b + 1) nodes, 3.5 MB for blowups 4, 8 and 16
SHIPPED_LOG_ROWS = 11
#: numpy commits a program's own tables up to 2^14 rows (rv32im-selftest's; ~1 s of CPU at the
#: three blowups); taller ones (up to 2^22: a 16 MiB image) take numba's kernels, which work in
#: blocks where numpy's uint64 arrays of the whole LDE would need gigabytes
NUMPY_MAX_LOG_ROWS = 14
_KEPT: dict = {}


def _kernels(program_log_rows: int = 0) -> tuple:
    """(coset_lde, module with hash_rows and compress_pairs): numba's where this process has
    loaded numba or the program's own tables are taller than 2^NUMPY_MAX_LOG_ROWS rows, else
    numpy's (module docstring)."""
    if "numba" in sys.modules or program_log_rows > NUMPY_MAX_LOG_ROWS:
        from ..stark import merkle, ntt

        return ntt.coset_lde, merkle
    from ..stark import blake3_numpy, ntt_numpy

    return ntt_numpy.coset_lde, blake3_numpy


def _lde(trace: np.ndarray, config, coset_lde) -> np.ndarray:
    return coset_lde(trace, config.log_blowup, shift=lde_shift(trace.shape[0].bit_length() - 1, config))


def _level_key(trace: np.ndarray, config, log_nodes: int) -> bytes:
    """The memo's (and the package's) key of the tree's level of 2^log_nodes nodes over this
    one table's LDE."""
    return blake3.blake3(np.ascontiguousarray(trace).tobytes()
                         + repr((trace.shape, config.log_blowup, log_nodes)).encode()).digest()


def _stored_level(trace: np.ndarray, config, log_nodes: int) -> np.ndarray | None:
    """That level from this process, the memo or the package, or None."""
    key = _level_key(trace, config, log_nodes)
    if key not in _KEPT:
        for where in (memo, shipped):
            stored = where.get(FIXED_SUBTREES, key)
            if stored is not None and len(stored) == 32 << log_nodes:
                _KEPT[key] = np.frombuffer(stored, dtype="<u4").reshape(-1, 8).astype(np.uint32)
                break
        else:
            return None
    return _KEPT[key]


def _fixed_level(trace: np.ndarray, config, log_nodes: int, kernels: tuple) -> np.ndarray:
    """The 2^log_nodes (≤ 2^KEPT_LOG_NODES) node digests of the tree over this one table's LDE
    alone: compressed from a stored level with at least that many nodes (the shipped one, the
    kept one), else from the leaves (and that level kept)."""
    leaves = trace.shape[0].bit_length() - 1 + config.log_blowup
    keep = min(KEPT_LOG_NODES, leaves)
    ship = min(SHIPPED_LOG_ROWS + config.log_blowup + 1, leaves)
    for level in ([ship] if log_nodes <= ship else []) + [keep]:
        nodes = _stored_level(trace, config, level)
        if nodes is not None:
            return _compress_to(nodes, log_nodes, kernels[1])
    nodes = _level_from_leaves(trace, config, keep, kernels)
    memo.put(FIXED_SUBTREES, _level_key(trace, config, keep), np.ascontiguousarray(nodes, dtype="<u4").tobytes())
    _KEPT[_level_key(trace, config, keep)] = nodes
    return _compress_to(nodes, log_nodes, kernels[1])


def _level_from_leaves(trace: np.ndarray, config, log_nodes: int, kernels: tuple) -> np.ndarray:
    coset_lde, hashes = kernels
    return _compress_to(hashes.hash_rows(_lde(trace, config, coset_lde)), log_nodes, hashes)


def _compress_to(nodes: np.ndarray, log_nodes: int, hashes) -> np.ndarray:
    while nodes.shape[0] > 1 << log_nodes:
        nodes = hashes.compress_pairs(nodes)
    return nodes


def shipped_levels(trace: np.ndarray, log_blowups) -> list:
    """(namespace, key, value) of the fixed table's levels the package ships (SHIPPED_LOG_ROWS),
    one per blowup, computed from the leaves (never read back from the memo or the package)."""
    from ..stark import DEFAULT
    from dataclasses import replace

    out = []
    for b in log_blowups:
        config = replace(DEFAULT, log_blowup=b)
        level = min(SHIPPED_LOG_ROWS + b + 1, trace.shape[0].bit_length() - 1 + b)
        nodes = _level_from_leaves(trace, config, level, _kernels())
        out.append((FIXED_SUBTREES, _level_key(trace, config, level), np.ascontiguousarray(nodes, "<u4").tobytes()))
    return out


def commit_preprocessed(config, traces: list) -> tuple:
    """stark/keys.commit_preprocessed's (LDEs, tree) for a prove, the fixed table's part mapped
    from the memo: when one table (the byte table) is taller than the others by 2 or more
    rows' doublings, its LDE and the levels of the tree over it alone, from level 1 to the
    level above the first injection (module docstring), are the same for every program. They
    are stored once (FIXED_COMMITMENTS: ~16 MB at blowup 4) and mapped copy-on-write, so a
    prove reads only the pages its openings use (~0.1 s of CPU and ~6,000 page faults for
    the LDE and the hashes otherwise); the program's tables are injected from there as
    MixedMatrixTree.commit does (mmcs.fold_levels). Anything else: commit_preprocessed."""
    from ..stark.keys import commit_preprocessed as commit_all, preprocessed_lde
    from ..stark.mmcs import MixedMatrixTree

    heights = [t.shape[0].bit_length() - 1 for t in traces if t is not None]
    top = max(heights, default=0)
    shorter = max((h for h in heights if h < top), default=None)
    if memo.memo_dir() is None or heights.count(top) != 1 or shorter is None or top - shorter < 2:
        return commit_all(config, traces)
    fixed = next(t for t in traces if t is not None and t.shape[0] == 1 << top)
    lde, levels = _fixed_commitment(fixed, config)
    ldes = [lde if t is fixed else None if t is None else preprocessed_lde(t, config) for t in traces]
    present = [m for m in ldes if m is not None]
    # levels[k] has 2^(top + b − k) nodes: start folding at the level of 2^(shorter + b + 1)
    start = levels[:top - shorter]
    return ldes, MixedMatrixTree(present, fold_levels(start, [m for m in present if m is not lde]))


def _fixed_commitment(trace: np.ndarray, config) -> tuple:
    """(the fixed table's LDE, the levels of the tree over it alone: [None, level 1, …, root]),
    mapped from the memo, or computed and stored there."""
    from ..stark.keys import preprocessed_lde
    from ..stark.mmcs import MixedMatrixTree

    key = _level_key(trace, config, -1)
    rows, width = trace.shape[0] << config.log_blowup, trace.shape[1]
    sizes = [rows * width] + [8 << k for k in range(rows.bit_length() - 2, -1, -1)]  # words: LDE, levels 1..
    stored = memo.mapped(FIXED_COMMITMENTS, key)
    if stored is not None and len(stored) == 4 * sum(sizes):
        words = np.frombuffer(stored, dtype=np.uint32)
        ends = np.cumsum(sizes).tolist()
        parts = [words[end - size:end] for end, size in zip(ends, sizes)]
        return parts[0].reshape(rows, width), [None] + [p.reshape(-1, 8) for p in parts[1:]]
    lde = preprocessed_lde(trace, config)
    levels = MixedMatrixTree.commit([lde], recomputed=1).levels  # every level above the leaves, stored
    memo.put(FIXED_COMMITMENTS, key, b"".join(np.ascontiguousarray(a, dtype="<u4").tobytes() for a in [lde, *levels[1:]]))
    return lde, levels


def preprocessed_root(config, airs) -> tuple:
    """(root or None, preprocessed log-height or None per AIR): what keys.setup would put in
    the verifying key for these AIRs at ``config``'s blowup."""
    traces = [check_trace(a, a.preprocessed_trace(), "preprocessed", a.preprocessed_width) if a.preprocessed_width
              else None for a in airs]
    heights = [None if t is None else t.shape[0].bit_length() - 1 for t in traces]
    present = [t for t in traces if t is not None]
    if not present:
        return None, heights
    top = max(h for h in heights if h is not None)
    ranked = sorted(h for h in heights if h is not None)
    kernels = _kernels(ranked[-2] if len(ranked) > 1 else 0)  # the tallest but one: the program's own
    coset_lde, hashes = kernels
    tallest = [t for t in present if t.shape[0] == 1 << top]
    shorter = [_lde(t, config, coset_lde) for t in present if t.shape[0] < 1 << top]
    # the level above the first injection: 2^(tallest shorter LDE + 1) nodes, or the root alone
    log_nodes = max(s.shape[0].bit_length() for s in shorter) if shorter else 0
    if len(tallest) == 1 and log_nodes <= KEPT_LOG_NODES:
        levels = [_fixed_level(tallest[0], config, log_nodes, kernels)]
    else:  # as MixedMatrixTree.commit does it
        from ..stark.mmcs import MixedMatrixTree

        return MixedMatrixTree.commit([_lde(t, config, coset_lde) for t in present], hashes).root, heights
    return digest_bytes(fold_levels(levels, shorter, hashes)[-1][0]), heights
