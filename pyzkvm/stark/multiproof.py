"""Merkle multiproofs: the authentication paths of several leaves of one tree, each node sent once.

Opening q leaves one path each sends q·depth siblings, but near the root the paths merge: a
sibling that lies on another opened leaf's path is a node the verifier computes itself, and
two paths through one node need its sibling once. A multiproof sends, per level (leaf level
first), only the siblings the verifier cannot compute, in increasing position order:

    U_0 = the distinct opened positions;  per level l:
        S_l    = {u ^ 1 : u ∈ U_l} − U_l          the siblings to send (sorted)
        U_l+1  = {u >> 1 : u ∈ U_l}

so the sent set is fixed by the positions (which the verifier draws from the transcript): a
proof with one digest more or fewer at a level, or a node the verifier can compute sent
anyway, is refused by the count. Queries that collide on one leaf are one position: their
opened rows must hash alike (``group``), else the opening is refused.

``open_multiproof`` is the prover's side for any tree given as its list of levels (merkle.py,
mmcs.py); ``verify_multiproof`` walks it up, with an ``inject`` hook for the mixed-matrix
tree's row digests of the shorter matrices (mmcs.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .merkle import compress_pairs, digest_bytes


@dataclass
class Multiproof:
    """Per level (leaf level first) the sibling digests the verifier cannot compute, (k_l, 8) uint32."""

    levels: list

    @property
    def depth(self) -> int:
        return len(self.levels)

    @property
    def digests(self) -> int:
        """How many digests the multiproof sends."""
        return sum(level.shape[0] for level in self.levels)


def open_multiproof(levels: list, positions) -> Multiproof:
    """The multiproof for leaves ``positions`` of the tree whose node digests per level are
    ``levels`` (levels[0] the leaves, levels[-1] the root)."""
    u = np.unique(np.asarray(positions, dtype=np.int64))
    out = []
    for nodes in levels[:-1]:  # one pass per level, vectorised over the positions
        sib = u ^ 1
        out.append(np.ascontiguousarray(nodes[sib[~np.isin(sib, u)]], dtype=np.uint32))
        u = np.unique(u >> 1)
    return Multiproof(out)


def group(positions: np.ndarray, values: np.ndarray):
    """(distinct positions ascending, one value per position) from per-query values, or None
    when two queries at one position disagree (a forged row behind a colliding query)."""
    upos, first, inv = np.unique(positions, return_index=True, return_inverse=True)
    uval = values[first]
    if not np.array_equal(values, uval[inv.reshape(-1)]):
        return None
    return upos, uval


def verify_multiproof(root: bytes, depth: int, positions: np.ndarray, leaves: np.ndarray, proof: Multiproof,
                      inject=None) -> bool:
    """Walk the opened leaves' digests (q, 8) at ``positions`` up to ``root`` through a tree of
    ``depth`` levels. ``inject(k, nodes_positions, nodes)``, if given, is called after level k's
    compression and returns the nodes to continue with (or None to refuse). Never raises on
    malformed input: returns False."""
    if not isinstance(proof, Multiproof) or proof.depth != depth:
        return False
    grouped = group(np.asarray(positions, dtype=np.int64), leaves)
    if grouped is None:
        return False
    upos, nodes = grouped
    for k, sent in enumerate(proof.levels):
        # upos is sorted and distinct, so two positions with one parent (u, u ^ 1) are
        # neighbours: a parent whose group has one opened child needs one sent sibling
        parent = upos >> 1
        start = np.flatnonzero(np.concatenate(([True], parent[1:] != parent[:-1])))  # each parent's first child
        lone = np.diff(start, append=upos.shape[0]) == 1
        sent = np.asarray(sent)
        if sent.shape != (int(lone.sum()), 8) or sent.dtype.kind not in "iu":
            return False  # a node too many (one the verifier computes) or too few
        pairs = np.empty((start.shape[0], 2, 8), dtype=np.uint32)  # (left, right) per parent
        both = start[~lone]
        pairs[~lone, 0], pairs[~lone, 1] = nodes[both], nodes[both + 1]
        own, side = start[lone], upos[start[lone]] & 1  # side 1: the opened node is the right child
        lone_at = np.flatnonzero(lone)
        pairs[lone_at, side] = nodes[own]
        pairs[lone_at, 1 - side] = sent
        nodes, upos = compress_pairs(pairs.reshape(-1, 8)), parent[start]
        if inject is not None:
            nodes = inject(k, upos, nodes)
            if nodes is None:
                return False
    return upos.tolist() == [0] and digest_bytes(nodes[0]) == bytes(root)
