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
mmcs.py); ``walk`` is the verifier's, with an ``inject`` hook for the mixed-matrix tree's row
digests of the shorter matrices (mmcs.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import blake3
import numpy as np



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


def group(positions: np.ndarray, values: np.ndarray, plans: "WalkPlans | None" = None):
    """(distinct positions ascending as a tuple, one value per position) from per-query values,
    or None when two queries at one position disagree (a forged row behind a colliding query).
    ``plans``: the proof's WalkPlans, which keep each positions array's np.unique."""
    _upos, first, inv, pos = (plans or WalkPlans()).distinct(positions)
    uval = values[first]
    if len(pos) < len(inv) and not np.array_equal(values, uval[inv]):  # (no collision: nothing to compare)
        return None
    return pos, uval


class WalkPlans:
    """Which nodes pair up at each level of a multiproof walk: it depends only on the level's
    positions, and one proof's trees share them — every tree of the queries' height walks the
    positions idx >> j at its level j, a FRI layer's tree (leaf positions idx >> s) the same
    from level s on, a shorter tree likewise. So each level's plan is made once per proof
    (keyed by the positions), and a tree's walk is one comprehension of hashes per level.

    A level's plan for the distinct ascending positions U (node digests in that order, then
    the level's sent siblings S, ascending, as one list): per parent u >> 1 (ascending) the
    pair (left, right) of indices into that list, the count of siblings the proof must send
    (|S| = the parents with one opened child: the multiproof's count check), and the
    parents' positions."""

    def __init__(self):
        self._plans: dict = {}
        self._distinct: dict = {}

    def distinct(self, positions) -> tuple:
        """(the distinct positions ascending, the index of each one's first query, each query's
        index among them, the distinct positions as a tuple): np.unique of ``positions`` (made
        int64), made once per positions array — a proof's trace trees, FRI layers and opened
        rows all look at the same positions idx >> s."""
        positions = np.asarray(positions, dtype=np.int64).reshape(-1)
        key = positions.tobytes()
        out = self._distinct.get(key)
        if out is None:
            upos, first, inverse = np.unique(positions, return_index=True, return_inverse=True)
            for a in (upos, first, inverse):
                a.setflags(write=False)
            out = self._distinct[key] = (upos, first, inverse.reshape(-1), tuple(upos.tolist()))
        return out

    def level(self, pos: tuple) -> "Level":
        """The plan of the level whose distinct ascending positions are ``pos``."""
        plan = self._plans.get(pos)
        if plan is None:
            pairs, parents, n, sent, i = [], [], len(pos), 0, 0
            while i < n:  # pos is sorted and distinct: a node's opened sibling is its neighbour
                u = pos[i]
                if i + 1 < n and pos[i + 1] == u ^ 1:  # both children opened (u even): no digest sent
                    pairs.append((i, i + 1))
                    i += 2
                else:  # the sibling is the next digest sent, at n + sent
                    pairs.append((n + sent, i) if u & 1 else (i, n + sent))
                    sent, i = sent + 1, i + 1
                parents.append(u >> 1)
            plan = self._plans[pos] = Level(pairs, sent, tuple(parents))
        return plan

    def up(self, plan: "Level") -> "Level":
        """The plan of the level above ``plan`` (its parents' positions), linked on first use:
        a walk then climbs without hashing a positions tuple per level."""
        above = plan.above
        if above is None:
            above = plan.above = self.level(plan.parents)
        return above


class Level:
    """One level's walk plan (WalkPlans): ``pairs`` (left, right) per parent, the count of
    siblings ``sent``, the ``parents``' positions, and the plan ``above`` once linked."""

    __slots__ = ("pairs", "sent", "parents", "above")

    def __init__(self, pairs: list, sent: int, parents: tuple):
        self.pairs, self.sent, self.parents = pairs, sent, parents
        self.above: Level | None = None


def walk(root: bytes, depth: int, pos: list, nodes: list, proof, inject=None, plans: WalkPlans | None = None) -> bool:
    """Walk the opened leaves' 32-byte digests ``nodes`` (a list) at the distinct positions
    ``pos`` (ascending: ``group`` makes them) up to ``root`` through a tree of ``depth``
    levels. ``inject(k, positions, digests)``, if given, is called after level k's compression
    with the nodes' positions (an ascending tuple) and their digests (a list), and returns the
    digests to continue with (or None to refuse). ``plans``: the verifier's WalkPlans, shared
    by the trees of one proof. Never raises on a malformed proof: returns False.

    The walk is plain Python over 32-byte strings: a level has at most q nodes (fewer near
    the root), and per node the work is one BLAKE3 call (the blake3 package) and a few list
    operations, where numpy would spend more on its per-call overhead than on the nodes. The
    sent siblings of every level are read as strings at once, and the level plans are
    followed by their links (WalkPlans.up)."""
    if not isinstance(proof, Multiproof) or proof.depth != depth:
        return False
    plans = WalkPlans() if plans is None else plans
    levels = [plans.level(tuple(pos))] if depth else []  # per level its plan, leaf level first
    while len(levels) < depth:
        levels.append(plans.up(levels[-1]))
    sent = proof.levels
    for level, digests in zip(levels, sent):
        if not isinstance(digests, np.ndarray) or digests.ndim != 2 or digests.shape[1] != 8 or \
                digests.dtype.kind not in "iu" or digests.shape[0] != level.sent:
            return False  # a sibling too few, or a node the verifier computes sent anyway
    siblings = digest_list(np.concatenate(sent)) if depth else []
    hasher = blake3.blake3()  # one hasher for the whole walk (blake3_each's loop, inlined per level)
    reset, update, digest = hasher.reset, hasher.update, hasher.digest
    at, start = tuple(pos), 0
    for k, level in enumerate(levels):
        digests = nodes + siblings[start:start + level.sent]
        start += level.sent
        nodes = []
        append = nodes.append
        for a, b in level.pairs:  # C(left ‖ right)
            reset()
            update(digests[a] + digests[b])
            append(digest())
        at = level.parents
        if inject is not None:
            nodes = inject(k, at, nodes)
            if nodes is None:
                return False
    return at == (0,) and nodes[0] == bytes(root)


def digest_list(digests: np.ndarray) -> list:
    """(k, 8) digest words → k 32-byte strings (the digests' bytes)."""
    data = digests.astype("<u4", copy=False).tobytes()  # C order, whatever the array's layout
    return [data[j:j + 32] for j in range(0, len(data), 32)]


def row_hash_list(matrix: np.ndarray) -> list:
    """H(row) of every row of a few opened rows (q, w), as 32-byte strings: merkle.hash_rows's
    values without the round trip through a digest array."""
    data, width = memoryview(np.ascontiguousarray(matrix, dtype="<u4").tobytes()), 4 * matrix.shape[1]
    return blake3_each([data[i * width:(i + 1) * width] for i in range(matrix.shape[0])])


def blake3_each(messages: list) -> list:
    """The 32-byte BLAKE3 digest of each message: merkle.py's leaf hash H on a row's bytes,
    its node compression C on 64 bytes (left ‖ right). One hasher of the blake3 package,
    reset per message (cheaper than a new one), in one loop (no Python call per message)."""
    hasher = blake3.blake3()
    reset, update, digest = hasher.reset, hasher.update, hasher.digest
    out = []
    for message in messages:
        reset()
        update(message)
        out.append(digest())
    return out
