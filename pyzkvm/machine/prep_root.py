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
"""

from __future__ import annotations

import blake3
import numpy as np

from .. import memo
from ..stark.keys import check_trace, lde_shift
from ..stark.merkle import compress_pairs, digest_bytes, hash_rows
from ..stark.mmcs import fold_levels
from ..stark.ntt import coset_lde

#: pyzkvm/memo.py's namespace for the fixed table's subtree levels
FIXED_SUBTREES = "fixed-subtree"
#: the fixed table's subtree is kept at its level of 2^17 nodes (4 MB), and compressed from
#: there to the level a program needs (program tables up to 2^(16 − log2 blowup) rows)
KEPT_LOG_NODES = 17
_KEPT: dict = {}


def _lde(trace: np.ndarray, config) -> np.ndarray:
    return coset_lde(trace, config.log_blowup, shift=lde_shift(trace.shape[0].bit_length() - 1, config))


def _fixed_level(trace: np.ndarray, config, log_nodes: int) -> np.ndarray:
    """The 2^log_nodes (≤ 2^KEPT_LOG_NODES) node digests of the tree over this one table's LDE
    alone, from its kept level."""
    keep = min(KEPT_LOG_NODES, trace.shape[0].bit_length() - 1 + config.log_blowup)
    key = blake3.blake3(np.ascontiguousarray(trace).tobytes()
                        + repr((trace.shape, config.log_blowup, keep)).encode()).digest()
    if key not in _KEPT:
        stored = memo.get(FIXED_SUBTREES, key)
        if stored is not None and len(stored) == 32 << keep:
            nodes = np.frombuffer(stored, dtype="<u4").reshape(-1, 8).astype(np.uint32)
        else:
            nodes = _compress_to(hash_rows(_lde(trace, config)), keep)
            memo.put(FIXED_SUBTREES, key, np.ascontiguousarray(nodes, dtype="<u4").tobytes())
        _KEPT[key] = nodes
    return _compress_to(_KEPT[key], log_nodes)


def _compress_to(nodes: np.ndarray, log_nodes: int) -> np.ndarray:
    while nodes.shape[0] > 1 << log_nodes:
        nodes = compress_pairs(nodes)
    return nodes


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
    tallest = [t for t in present if t.shape[0] == 1 << top]
    shorter = [_lde(t, config) for t in present if t.shape[0] < 1 << top]
    # the level above the first injection: 2^(tallest shorter LDE + 1) nodes, or the root alone
    log_nodes = max(s.shape[0].bit_length() for s in shorter) if shorter else 0
    if len(tallest) == 1 and log_nodes <= KEPT_LOG_NODES:
        levels = [_fixed_level(tallest[0], config, log_nodes)]
    else:  # as MixedMatrixTree.commit does it
        from ..stark.mmcs import MixedMatrixTree

        return MixedMatrixTree.commit([_lde(t, config) for t in present]).root, heights
    return digest_bytes(fold_levels(levels, shorter)[-1][0]), heights
