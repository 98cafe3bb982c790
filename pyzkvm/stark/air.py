"""The AIR constraint API: write each constraint once, use it four ways.

An AIR (algebraic intermediate representation) is a table of field elements plus polynomial
identities that must hold on every row. You describe a table by subclassing ``Air`` and
writing ``constraints(b)`` against an ``AirBuilder``::

    class Fibonacci(Air):
        name, width, num_public_values = "fibonacci", 2, 3
        def constraints(self, b):
            x, y = b.main(0), b.main(1)
            b.when_first_row().assert_eq(x, b.public(0), "x starts at a")
            b.when_first_row().assert_eq(y, b.public(1), "y starts at b")
            b.when_transition().assert_eq(b.main_next(0), y, "x' = y")
            b.when_transition().assert_eq(b.main_next(1), x + y, "y' = x + y")
            b.when_last_row().assert_eq(y, b.public(2), "y ends at the result")

``constraints`` runs once, on a *symbolic* builder: every ``+ − ·`` creates a node of an
expression DAG (identical sub-expressions are shared: hash-consing gives common-subexpression
reuse for free). The recorded DAG is then

1. measured: ``degree`` of each constraint (main/preprocessed/aux columns and the first/last
   row selectors count 1; the transition selector, constants, public values and challenges 0),
   which sizes the quotient;
2. flattened to a tape and evaluated by the one constraint evaluator (tape.py): on the
   quotient domain by the prover, at the out-of-domain point ζ ∈ F_p^4 by the verifier
   (leaves = opened values), and on the plain trace by the debug check, which names the
   first failing constraint and row (debug.py).

Selectors: ``is_first_row``, ``is_last_row`` (the Lagrange polynomials of rows 0 and n−1: 1 on
that row, 0 on the others — usable as values, e.g. a bus multiplicity) and ``is_transition``
(= x − ω^(n−1): zero on the last row, nonzero elsewhere — a constraint multiplier only; "next
row" wraps around from the last row to row 0). Every evaluation uses these same
polynomials, so the debug check sees exactly what the prover and verifier see.
Buses: ``b.send(bus, values, multiplicity)`` and ``b.receive(...)`` declare LogUp interactions;
logup.py turns them into auxiliary columns and constraints (see there). ``b.send_on_row("first"
| "last", bus, values, multiplicity)`` (and ``receive_on_row``) declare a *boundary entry*: one
per table, on that row, with a multiplicity of public values and constants (a continuation's
segment hands its exit state to the next: machine/cpu.py, machine/syscall.py).

The activity rule (checked here, not remembered by AIR authors). A table is padded to a power
of two, and nothing stops a prover from filling the padding rows with anything that satisfies
the constraints. So every AIR with bus interactions declares its **activity selector** with
``b.declare_active(expr)`` — a boolean column, a sum of boolean flag columns (at most one set
per row; a sum of booleans is 0 only if each is), or the constant 1 for a table whose every row is real (a fixed lookup table) — and
``compile_air`` proves, symbolically, that **every interaction's multiplicity vanishes on an
inactive row**: it substitutes 0 for the selector's columns, gives every other leaf (columns on
this and the next row, public values, selectors) an independent random value of F_p, and
requires the multiplicity to evaluate to 0 — twice. A polynomial that is not identically zero
after the substitution survives a random point with probability ≤ deg/p (Schwartz–Zippel), so
a wrong AIR is refused at setup. The rule holds *by construction*: a multiplicity passes only if
it is a multiple of the selector's columns as a polynomial, never because some other constraint
happens to force it to zero on honest traces. ``b.assert_implies_active(flag)`` is the helper for
flags that start or end a chain (``flag ⇒ active``). Boundary entries are exempt: the row
selector places each, once per table, whatever its row holds, and the statement (its public
values), not the witness, decides whether it is there — the AIR must constrain the values it
reads on that row, padding or not.
"""

from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from typing import Sequence

import blake3
import numpy as np

from ..errors import StarkConfigError
from .field import P
from .gc_pause import without_cycle_collection

# ---------------------------------------------------------------------------------------------
# Expression DAG
# ---------------------------------------------------------------------------------------------

# Leaf kinds. Values at a row: main/prep are base field, aux/challenge/cumsum are F_p^4.
LEAF_KINDS = ("const", "main", "prep", "aux", "public", "challenge", "cumsum", "sel")
_DEGREE_ONE_SELECTORS = ("is_first_row", "is_last_row")
_LEAF_SET = frozenset(LEAF_KINDS)
_FOREIGN_EXPR = ("an expression from another AIR builder was used; build each AIR's constraints in its own "
                 "constraints()")


class Expr:
    """A node of the constraint DAG. Combine with + − * (and ints); never build directly."""

    __slots__ = ("op", "args", "degree", "is_ext", "index", "builder")

    def __init__(self, builder, op, args, degree, is_ext, index):
        self.builder = builder
        self.op = op
        self.args = args
        self.degree = degree
        self.is_ext = is_ext
        self.index = index  # position in the builder's topologically ordered node list

    def _lift(self, other):
        return other if isinstance(other, Expr) else self.builder.const(other)

    def __add__(self, other):
        return self.builder._op("add", self, self._lift(other))

    def __radd__(self, other):
        return self.builder._op("add", self._lift(other), self)

    def __sub__(self, other):
        return self.builder._op("sub", self, self._lift(other))

    def __rsub__(self, other):
        return self.builder._op("sub", self._lift(other), self)

    def __mul__(self, other):
        return self.builder._op("mul", self, self._lift(other))

    def __rmul__(self, other):
        return self.builder._op("mul", self._lift(other), self)

    def __neg__(self):
        return self.builder._op("neg", self)

    def __repr__(self):
        return f"Expr({self.op}, {self.args if self.op in LEAF_KINDS else [a.index for a in self.args]})"


@dataclass
class Constraint:
    """One polynomial identity C(row) = 0 (already multiplied by its selector)."""

    name: str
    expr: Expr


@dataclass
class Interaction:
    """One LogUp bus entry per row: sign·multiplicity / (α − fingerprint(bus, values))."""

    bus: int
    bus_name: str
    values: list
    multiplicity: Expr
    sign: int  # +1 send, −1 receive
    #: "first" / "last": a boundary entry (``AirBuilder.send_on_row``), placed on that row by
    #: its selector whatever the row holds, so exempt from the activity rule; "" for the others
    row: str = ""


def interaction_shape(interactions) -> tuple:
    """(how many interactions, the widest one's values + 1 for its bus id): the bus entries'
    count and width, what the security estimate counts (stark/verifier.statement_security)."""
    return len(interactions), max((1 + len(it.values) for it in interactions), default=0)


def send_buses(interactions) -> frozenset:
    """The ids of the buses ``interactions`` send on (sign +1)."""
    return frozenset(it.bus for it in interactions if it.sign > 0)


def bus_id(bus) -> int:
    """The field element naming a bus: an int is used as is, a name is hashed (BLAKE3, 4 bytes)."""
    if isinstance(bus, (int, np.integer)):
        return int(bus) % P
    return int.from_bytes(blake3.blake3(str(bus).encode()).digest()[:4], "little") % P


class _Conditioned:
    """``b.when(cond)``: every constraint asserted through it is multiplied by cond."""

    def __init__(self, builder, cond):
        self._b = builder
        self._cond = cond

    def assert_zero(self, expr, name: str):
        self._b.assert_zero(self._cond * expr, name)

    def assert_eq(self, left, right, name: str):
        self.assert_zero(self._b._lift(left) - right, name)

    def assert_bool(self, expr, name: str):
        e = self._b._lift(expr)
        self.assert_zero(e * (e - 1), name)

    def assert_zeros(self, exprs, name: str):
        for i, e in enumerate(exprs):
            self.assert_zero(e, f"{name}[{i}]")


class AirBuilder:
    """Records an AIR's constraints and bus interactions as an expression DAG."""

    def __init__(self, air: "Air"):
        self.air = air
        self.nodes: list[Expr] = []
        self._memo: dict = {}
        self.constraints: list[Constraint] = []
        self.interactions: list[Interaction] = []
        self.active: Expr | None = None  # the activity selector (declare_active)
        self.booleans: set = set()        # indices of expressions asserted boolean
        self.is_first_row = self._leaf("sel", "is_first_row")
        self.is_last_row = self._leaf("sel", "is_last_row")
        self.is_transition = self._leaf("sel", "is_transition")

    # -- node construction (hash-consed) --
    def _new(self, op, args, degree, is_ext):
        key = (op, args) if op in _LEAF_SET else (op, tuple([a.index for a in args]))
        node = self._memo.get(key)
        if node is None:
            node = Expr(self, op, args, degree, is_ext, len(self.nodes))
            self.nodes.append(node)
            self._memo[key] = node
        return node

    def _leaf(self, kind, args):
        if kind == "sel":
            degree = 1 if args in _DEGREE_ONE_SELECTORS else 0
        elif kind in ("main", "prep", "aux"):
            degree = 1
        else:
            degree = 0
        return self._new(kind, args, degree, kind in ("aux", "challenge", "cumsum"))

    def _op(self, op, *args):
        # called for every + − · of every constraint (~10^6 times for the machine): no generators
        x = args[0]
        if len(args) == 1:  # neg
            if x.builder is not self:
                raise StarkConfigError(_FOREIGN_EXPR)
            return self._new(op, args, x.degree, x.is_ext)
        y = args[1]
        if x.builder is not self or y.builder is not self:
            raise StarkConfigError(_FOREIGN_EXPR)
        degree = x.degree + y.degree if op == "mul" else max(x.degree, y.degree)
        return self._new(op, args, degree, x.is_ext or y.is_ext)

    def _lift(self, x):
        return x if isinstance(x, Expr) else self.const(x)

    # -- leaves --
    def const(self, value: int) -> Expr:
        """A constant of F_p (an int, reduced mod p)."""
        return self._leaf("const", int(value) % P)

    def main(self, col: int) -> Expr:
        """Main column `col` at the current row."""
        self._check_col(col, self.air.width, "main")
        return self._leaf("main", (col, 0))

    def main_next(self, col: int) -> Expr:
        """Main column `col` at the next row (row n−1's next is row 0)."""
        self._check_col(col, self.air.width, "main")
        return self._leaf("main", (col, 1))

    def main_row(self) -> list:
        return [self.main(c) for c in range(self.air.width)]

    def main_next_row(self) -> list:
        return [self.main_next(c) for c in range(self.air.width)]

    def prep(self, col: int) -> Expr:
        """Preprocessed (fixed) column `col` at the current row."""
        self._check_col(col, self.air.preprocessed_width, "preprocessed")
        return self._leaf("prep", (col, 0))

    def prep_next(self, col: int) -> Expr:
        self._check_col(col, self.air.preprocessed_width, "preprocessed")
        return self._leaf("prep", (col, 1))

    def public(self, i: int) -> Expr:
        """Public value i of the statement (shared by every table)."""
        if not 0 <= i < self.air.num_public_values:
            raise StarkConfigError(f"AIR {self.air.name!r}: public({i}) but num_public_values = {self.air.num_public_values}")
        return self._leaf("public", i)

    def _check_col(self, col, width, what):
        if not 0 <= col < width:
            raise StarkConfigError(f"AIR {self.air.name!r}: {what} column {col} is outside 0..{width - 1}")

    # -- internal leaves for logup.py --
    def aux(self, col: int, offset: int = 0) -> Expr:
        return self._leaf("aux", (col, offset))

    def challenge(self, i: int) -> Expr:
        return self._leaf("challenge", i)

    def cumulative_sum(self) -> Expr:
        return self._leaf("cumsum", 0)

    def denominator(self, bus: int, values) -> Expr:
        """α − fingerprint(bus, values) = α − (bus + Σ_j γ^(j+1)·v_j): one fused node (the
        prover evaluates it with a single numba kernel over all value columns)."""
        vals = tuple(self._lift(v) for v in values)
        return self._new("denom", (self.const(bus),) + vals, max([v.degree for v in vals] + [0]), True)

    # -- constraints --
    def assert_zero(self, expr, name: str):
        """Require expr = 0 on every row (multiply by a selector, or use when_*, to restrict)."""
        expr = self._lift(expr)
        self.constraints.append(Constraint(name, expr))

    def assert_eq(self, left, right, name: str):
        self.assert_zero(self._lift(left) - right, name)

    def assert_bool(self, expr, name: str):
        e = self._lift(expr)
        self.booleans.add(e.index)
        self.assert_zero(e * (e - 1), name)

    def assert_zeros(self, exprs, name: str):
        for i, e in enumerate(exprs):
            self.assert_zero(e, f"{name}[{i}]")

    def declare_active(self, selector) -> Expr:
        """Declare the table's activity selector: 1 on a real row, 0 on a padding row. It must
        be a main or preprocessed column, or a sum of such columns (at most one set per row), each
        asserted boolean, or the constant 1 (every row is real). compile_air
        then checks that every bus multiplicity vanishes where it is 0 (module docstring)."""
        if self.active is not None:
            raise StarkConfigError(f"AIR {self.air.name!r} declares its activity selector twice")
        self.active = self._lift(selector)
        return self.active

    def assert_implies_active(self, flag, name: str):
        """``flag ⇒ active`` (flag·(1 − active) = 0): for a flag that starts or ends a chain, so
        that a padding row cannot raise it."""
        if self.active is None:
            raise StarkConfigError(f"AIR {self.air.name!r}: declare_active before assert_implies_active")
        self.assert_zero(self._lift(flag) * (1 - self.active), name)

    def when(self, cond) -> _Conditioned:
        return _Conditioned(self, self._lift(cond))

    def when_first_row(self) -> _Conditioned:
        return _Conditioned(self, self.is_first_row)

    def when_last_row(self) -> _Conditioned:
        return _Conditioned(self, self.is_last_row)

    def when_transition(self) -> _Conditioned:
        return _Conditioned(self, self.is_transition)

    # -- buses --
    def send(self, bus, values: Sequence, multiplicity=1):
        """Add multiplicity/(α − fingerprint(bus, values)) to the bus (per row)."""
        self._interact(bus, values, multiplicity, +1)

    def receive(self, bus, values: Sequence, multiplicity=1):
        """Subtract multiplicity/(α − fingerprint(bus, values)) from the bus (per row)."""
        self._interact(bus, values, multiplicity, -1)

    def send_on_row(self, row: str, bus, values: Sequence, multiplicity=1):
        """A boundary entry: send ``values`` once, on the table's first or last ``row``, with a
        ``multiplicity`` made of public values and constants only (e.g. "unless this segment is
        the run's first"). The selector places it, so the table's row there may be a padding row:
        the AIR must constrain what ``values`` read on it (a segment's entry and exit state,
        docs/continuations.md). Exempt from the activity rule for that reason, and only because
        the statement, not the witness, decides whether the entry is there."""
        self._boundary(row, bus, values, multiplicity, +1)

    def receive_on_row(self, row: str, bus, values: Sequence, multiplicity=1):
        """``send_on_row``'s receiving twin."""
        self._boundary(row, bus, values, multiplicity, -1)

    def _boundary(self, row, bus, values, multiplicity, sign):
        if row not in ("first", "last"):
            raise StarkConfigError(f"AIR {self.air.name!r}: a boundary entry sits on the 'first' or 'last' row, not {row!r}")
        mult = self._lift(multiplicity)
        witness = [n.op for n in _subtree(mult) if n.op in LEAF_KINDS and n.op not in ("const", "public")]
        if witness:
            raise StarkConfigError(f"AIR {self.air.name!r}: a boundary entry's multiplicity may read public values and "
                                   f"constants only, not {witness[0]!r} leaves (the witness could choose it)")
        selector = self.is_first_row if row == "first" else self.is_last_row
        self._interact(bus, values, selector * mult, sign, row)

    def _interact(self, bus, values, multiplicity, sign, row=""):
        vals = [self._lift(v) for v in values]
        mult = self._lift(multiplicity)
        if any(v.is_ext for v in vals) or mult.is_ext:
            raise StarkConfigError(f"AIR {self.air.name!r}: bus values and multiplicities must be base-field expressions")
        self.interactions.append(Interaction(bus_id(bus), str(bus), vals, mult, sign, row))


# ---------------------------------------------------------------------------------------------
# The Air interface
# ---------------------------------------------------------------------------------------------


class Air:
    """One table: subclass, set the class attributes, write ``constraints``.

    name                 used in messages and the transcript
    width                number of main (witness) columns, over F_p
    preprocessed_width   number of fixed columns; then ``preprocessed_trace()`` returns them
    num_public_values    length of the statement's public-value vector this AIR may read
    optional             True: an all-zero table of this AIR proves nothing (every constraint
                         and every bus multiplicity vanishes on all-zero rows), so a proof may
                         leave the table out when it is empty; checked at setup (optional.py)
    helper_degree        the degree LogUp's helper constraints may reach (logup.py): 3 keeps the
                         quotient at 2 chunks on a 2n domain; up to the blowup's limit, more
                         interactions share a column (fewer committed columns) for 4 chunks on
                         a 4n domain — worth it for a short table only (the syscall chip)
    """

    name: str = "air"
    width: int = 0
    preprocessed_width: int = 0
    num_public_values: int = 0
    optional: bool = False
    helper_degree: int = 3

    def constraints(self, b: AirBuilder) -> None:
        raise NotImplementedError

    def preprocessed_trace(self) -> np.ndarray | None:
        """The fixed columns (height × preprocessed_width uint32), committed once at setup."""
        return None

    def stored_compiled(self, max_degree: int):
        """This AIR compiled for ``max_degree`` as kept by an earlier process (a stand-in for
        the CompiledAir without its DAG: stark/prover_key.ProverAir), or None to compile it
        (keys.compile_once). The machine's chips keep theirs in the memo (machine/prover_key.py)."""
        return None

    def public_interactions(self, public_values: Sequence[int], public_data: bytes = b"") -> list:
        """Bus entries the verifier adds itself from the public values and the public data (a
        variable-length byte string, e.g. a journal, that both transcripts observe before the
        bus challenges): a list of (bus, values, multiplicity, sign) with sign +1 (send) or −1
        (receive). ``values`` are ints or equal-length 1-D integer arrays and ``multiplicity`` an
        int or such an array: an entry with arrays stands for one bus entry per index (so a
        journal of n bytes is one entry with two columns of length n, not n Python tuples)."""
        return []


@dataclass
class CompiledAir:
    """An AIR's recorded DAG: constraints (base, then the LogUp ones), interactions, degrees."""

    air: Air
    builder: AirBuilder
    constraints: list
    interactions: list
    num_aux_columns: int = 0  # extension columns
    logup_constraints: list = dc_field(default_factory=list)
    interaction_groups: list = dc_field(default_factory=list)  # interaction indices per helper column
    # caches other modules keep on it, filled on first use (not part of its value: no init, repr, eq)
    _blinded: tuple[int, CompiledAir] | None = dc_field(default=None, init=False, repr=False, compare=False)  # blind.py
    _air_digest: bytes | None = dc_field(default=None, init=False, repr=False, compare=False)  # keys.air_digest
    _next_row_columns: dict | None = dc_field(default=None, init=False, repr=False, compare=False)  # openings.py
    #: (nodes, constraints, interactions) the AIR's own ``constraints()`` recorded, before any
    #: framework interactions and the LogUp constraints: what ``compile_air(recorded=...)`` copies
    recorded_counts: tuple[int, int, int] = dc_field(default=(0, 0, 0), repr=False, compare=False)

    @property
    def all_constraints(self) -> list:
        return self.constraints + self.logup_constraints

    @property
    def max_degree(self) -> int:
        return max([c.expr.degree for c in self.all_constraints] + [1])

    @property
    def log_quotient_chunks(self) -> int:
        """log2 of the number of quotient chunks: deg Q < (d − 1)·n, rounded up to a power of 2."""
        chunks = max(self.max_degree - 1, 1)
        return (chunks - 1).bit_length()


@without_cycle_collection
def compile_air(air: Air, max_degree: int = 3, framework_interactions=None,
                recorded: CompiledAir | None = None) -> CompiledAir:
    """Run ``air.constraints`` once on a symbolic builder and add the LogUp constraints.

    max_degree bounds how many bus interactions share one helper column (see logup.py); it
    never lowers the AIR's own degree, it only stops batching from raising it past this.
    ``framework_interactions(b)``, if given, declares interactions the proof system adds
    itself after the activity rule is checked (hiding mode's blinding ring, blind.py: its
    entries sit on the first row by construction, not on rows the table's author fills).
    ``recorded``: a compiled AIR whose ``constraints()`` records exactly what ``air``'s would
    (blind.py: a chip and its blinded twin): its recorded DAG is copied (``replay_recorded``)
    instead of running ``constraints()`` again, which takes seconds for a wide chip."""
    from .logup import add_logup_constraints  # logup builds on this module

    if not isinstance(air.width, (int, np.integer)) or air.width < 1:
        raise StarkConfigError(f"AIR {air.name!r}: width must be an int ≥ 1 (every table has a main trace)")
    b = AirBuilder(air)
    if recorded is None:
        air.constraints(b)
    else:
        replay_recorded(recorded, b)
    check_activity_rule(b)
    counts = (len(b.nodes), len(b.constraints), len(b.interactions))
    if framework_interactions is not None:
        framework_interactions(b)
    compiled = CompiledAir(air, b, list(b.constraints), list(b.interactions), recorded_counts=counts)
    add_logup_constraints(compiled, max(max_degree, 2))
    if not compiled.all_constraints:
        raise StarkConfigError(f"AIR {air.name!r} has no constraints and no bus interactions")
    return compiled


def replay_recorded(source: CompiledAir, b: AirBuilder) -> None:
    """Record into the fresh builder ``b`` a copy of what ``source.air.constraints()`` recorded:
    the same nodes at the same indices (so the same digest and tapes), constraints,
    interactions, activity selector and booleans. The builder's nodes are in topological order
    and only ever appended, so that recording is the first ``source.recorded_counts`` of each."""
    old = source.builder
    n_nodes, n_constraints, n_interactions = source.recorded_counts
    if len(b.nodes) > n_nodes or any(x.op != y.op or x.args != y.args for x, y in zip(b.nodes, old.nodes)):
        raise StarkConfigError(f"AIR {b.air.name!r}: cannot replay a recording that lacks the builder's own leaves")
    new = list(b.nodes)
    for node in old.nodes[len(new):n_nodes]:
        args = node.args if node.op in LEAF_KINDS else tuple(new[a.index] for a in node.args)
        copy = Expr(b, node.op, args, node.degree, node.is_ext, node.index)
        b.nodes.append(copy)
        b._memo[(node.op, args) if node.op in LEAF_KINDS else (node.op, tuple(a.index for a in node.args))] = copy
        new.append(copy)
    b.constraints = [Constraint(c.name, new[c.expr.index]) for c in old.constraints[:n_constraints]]
    b.interactions = [Interaction(it.bus, it.bus_name, [new[v.index] for v in it.values], new[it.multiplicity.index],
                                  it.sign, it.row) for it in old.interactions[:n_interactions]]
    b.active = None if old.active is None else new[old.active.index]
    b.booleans = {i for i in old.booleans if i < n_nodes}


def _selector_columns(b: AirBuilder) -> list:
    """The leaves the activity selector is the sum of (empty for the constant 1); raises
    StarkConfigError if the selector has another shape or a part is not asserted boolean."""
    a = b.active
    assert a is not None  # check_activity_rule refuses an AIR without declare_active before calling this
    if a.op == "const":
        if a.args != 1:
            raise StarkConfigError(f"AIR {b.air.name!r}: a constant activity selector must be 1")
        return []
    terms, stack = [], [a]
    while stack:  # flatten a sum of leaves
        e = stack.pop()
        if e.op == "add":
            stack.extend(e.args)
        elif e.op == "const" and e.args == 0:  # sum() starts from 0
            continue
        elif e.op in ("main", "prep") and e.args[1] == 0:
            terms.append(e)
        else:
            raise StarkConfigError(f"AIR {b.air.name!r}: the activity selector must be a column or a sum of "
                                   f"columns of the current row, found a {e.op!r} node")
    for e in terms:  # booleans: their sum (< p terms) is 0 only if each one is 0
        if e.index not in b.booleans:
            raise StarkConfigError(f"AIR {b.air.name!r}: activity selector part {e!r} is not asserted boolean")
    if len({e.index for e in terms}) != len(terms):
        raise StarkConfigError(f"AIR {b.air.name!r}: the activity selector repeats a column")
    return terms


def _evaluate_at(expr: Expr, value_of) -> int:
    """The value of a base-field expression at one point: ``value_of(leaf)`` gives each leaf."""
    memo: dict = {}
    for node in sorted(_subtree(expr), key=lambda n: n.index):  # topological order
        if node.op in LEAF_KINDS:
            v = value_of(node)
        elif node.op == "neg":
            v = -memo[node.args[0].index]
        else:
            x, y = memo[node.args[0].index], memo[node.args[1].index]
            v = x + y if node.op == "add" else x - y if node.op == "sub" else x * y
        memo[node.index] = v % P
    return memo[expr.index]


def _subtree(expr: Expr) -> list:
    seen, stack, out = set(), [expr], []
    while stack:
        n = stack.pop()
        if n.index in seen:
            continue
        seen.add(n.index)
        out.append(n)
        if n.op not in LEAF_KINDS:
            stack.extend(n.args)
    return out


def check_activity_rule(b: AirBuilder, trials: int = 2, seed: int = 0x5EED) -> None:
    """Every bus multiplicity vanishes on an inactive row, as a polynomial (module docstring).

    Substitute 0 for the activity selector's columns (a sum of booleans is 0 only if each is 0)
    and a random F_p value for every other leaf; a multiplicity that is not identically zero
    after the substitution is nonzero at a random point with probability ≥ 1 − deg/p.
    Boundary entries (``send_on_row``) are exempt: their row's selector places them, once per
    table, with a multiplicity the witness does not choose."""
    if not b.interactions:
        return
    if b.active is None:
        raise StarkConfigError(f"AIR {b.air.name!r} has bus interactions but no activity selector: call "
                               "b.declare_active(...) in constraints() (docs/stark.md, 'Padding rows')")
    parts = _selector_columns(b)
    if not parts:  # the constant 1: there is no inactive row
        return
    zero = {e.index for e in parts}
    rng = np.random.default_rng(seed)
    for _ in range(trials):
        point: dict = {}

        def value_of(leaf, point=point):  # this trial's point (called within the trial)
            if leaf.op == "const":
                return leaf.args
            if leaf.index in zero:
                return 0
            return point.setdefault(leaf.index, int(rng.integers(1, P)))

        bad = [f"{'send' if it.sign > 0 else 'receive'} #{k} on bus {it.bus_name!r}"
               for k, it in enumerate(b.interactions) if not it.row and _evaluate_at(it.multiplicity, value_of)]
        if bad:
            raise StarkConfigError(
                f"AIR {b.air.name!r}: the multiplicity of {', '.join(bad)} does not vanish where the activity "
                "selector is 0; multiply it by the selector (a padding row could otherwise put any entry on the bus)")
