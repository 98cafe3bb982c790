"""The prover's view of compiled AIRs, and its stored form (no constraint DAG in a warm prove).

A prove reads far less of a compiled AIR than its DAG (``AirBuilder`` nodes: ~300 k Python
objects for the machine's chips and their blinded twins, seconds to build, hundreds of MB).
Per table it reads

* counts and shapes: aux columns, constraint degree (the quotient's size), the constraints'
  names (the debug check names a failing one), each interaction's bus, sign and number of
  values, and the interaction groups (one LogUp helper column each);
* the DAG's digest (keys.air_digest: the circuit digest, the image ID) and the columns read
  at the next row (openings.next_row_columns);
* tapes (tape.py) of a few sets of roots, evaluated on rows: Σ α^i C_i's constraints for the
  quotient, the AIR's own constraints for the debug check, every interaction's values and
  multiplicity for the LogUp columns, and whatever its owner evaluates on the plain trace
  (the machine derives what a chip sends from its constraints: machine/prover_key.py).

``ProverAir`` holds exactly that and stands in for a ``CompiledAir`` wherever a prove reads
one: a constraint's or interaction's expression is a ``NodeIndex`` (only its position in the
DAG is read: it names a tape in the ``tape.tape_for`` cache, which ``_tapes`` fills from the
stored arrays on first use). A set of roots that was not stored is still evaluated right:
``builder`` then compiles the AIR's real DAG (``rebuild``), as ``tape_for`` asks for it.

``encode_prover_airs`` / ``decode_prover_airs`` turn them into bytes and back. The bytes are
a pure function of the code; a caller keeps them across processes (machine/prover_key.py, in
pyzkvm/memo.py's per-code-version folder), in stark/key_file.py's format, as
stark/verifier_key.py's. Damaged bytes (digest, magic, table names) are refused with
StarkConfigError, and the caller rebuilds; the memo's trust model (pyzkvm/memo.py) applies.
"""

from __future__ import annotations

from functools import cached_property
from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

from ..errors import StarkConfigError
from .air import Constraint, Interaction, interaction_shape, send_buses
from .key_file import ArrayBlob, pack, unpack
from .openings import next_row_columns
from .tape import Tape, tape_for

MAGIC = b"pyzkvm-prover-key-v3\0"

#: a row tape's arrays as stored (every index fits in 32 bits) → as tape.build_tape makes them
#: (the numba evaluator is compiled for int64 and bool arrays: the loaded ones match exactly)
_STORED = {"op": "<i1", "a": "<i4", "b": "<i4", "is_ext": "|b1", "dstart": "<i4", "dargs": "<i4", "roots": "<i4",
           "slot": "<i4"}
_LOADED = {"op": np.int64, "a": np.int64, "b": np.int64, "is_ext": np.bool_, "dstart": np.int64, "dargs": np.int64,
           "roots": np.int64, "slot": np.int64}


class NodeIndex(int):
    """A DAG node as a stored key knows it: its index (what tape_for's cache key reads). An
    int, so that ``map(NodeIndex, indices)`` makes the ~10^5 of a machine key at C speed."""

    __slots__ = ()
    index = property(int.__int__)


def _node(i: int) -> Any:
    """NodeIndex(i) where a Constraint or Interaction wants an Expr: only its .index is read."""
    return NodeIndex(i)


class StoredConstraints(Sequence):
    """A stored AIR's constraints as a sequence of Constraint(name, NodeIndex): its length is
    known at once (what the security estimate reads of every table) and an item is made only
    when it is read (a constraint check reads those of the tables it evaluates); so are the
    names, from ``names()`` (the key's bytes: 3/4 of its header were names, read on every load)."""

    def __init__(self, names: Callable[[], list], roots: list):
        self._names, self.roots = names, roots

    @cached_property
    def names(self) -> list:
        return self._names()

    def __len__(self) -> int:
        return len(self.roots)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [Constraint(n, NodeIndex(r)) for n, r in zip(self.names[i], self.roots[i])]
        return Constraint(self.names[i], NodeIndex(self.roots[i]))

    def __iter__(self):
        return map(Constraint, self.names, map(NodeIndex, self.roots))

    def __add__(self, other: "StoredConstraints") -> "StoredConstraints":
        return StoredConstraints(lambda: self.names + other.names, self.roots + other.roots)


class _Tapes(dict):
    """tape_for's cache of a ProverAir: the stored tapes, each made into arrays on first use."""

    def __init__(self, stored: dict, load: Callable[[dict], Tape]):
        super().__init__()
        self._stored, self._load = stored, load

    def __contains__(self, key) -> bool:
        return dict.__contains__(self, key) or key in self._stored

    def __missing__(self, key) -> Tape:
        tape = self[key] = self._load(self._stored[key])
        return tape


class LaterTapes(_Tapes):
    """The tapes of a ProverAir stored without them (``tapes_later``), kept apart by its owner:
    ``fetch()`` gives (stored, load) as ``StoredTables.tapes_of`` does, or None when there are
    none; it is called on the first lookup, so a table the proof leaves out reads nothing."""

    def __init__(self, fetch: Callable[[], tuple | None]):
        super().__init__({}, self._fetch_first)  # nothing is stored until fetch() says what
        self._fetch: Callable[[], tuple | None] | None = fetch

    def _fetch_first(self, tp: dict) -> Tape:
        raise AssertionError("LaterTapes looks a tape up only once fetch() ran")

    def _fetched(self) -> None:
        if self._fetch is not None:
            fetched, self._fetch = self._fetch(), None
            if fetched is not None:
                self._stored, self._load = fetched

    def __contains__(self, key) -> bool:
        self._fetched()
        return super().__contains__(key)

    def __missing__(self, key) -> Tape:
        self._fetched()
        return super().__missing__(key)


class ProverAir:
    """What a prove reads of a CompiledAir (module docstring), without its DAG."""

    #: the key builder ran optional.check_optional_air on the compiled AIR this came from
    optional_checked = True
    #: (max degree, blinded ProverAir), where blind.blinded looks for a compiled AIR's twin
    _blinded: tuple | None = None
    #: stored without its tapes (prover_view's ``tapes=False``): each is built from the real
    #: DAG on first use (``builder``); the owner may keep them apart (machine/prover_key.py)
    tapes_later = False

    def __init__(self, air, num_aux_columns: int, max_degree: int, log_quotient_chunks: int, lists: Callable,
                 interaction_groups: list, next_row: dict, air_digest: bytes, tapes: dict, rebuild: Callable):
        self.air = air
        self.num_aux_columns = num_aux_columns
        self.max_degree = max_degree
        self.log_quotient_chunks = log_quotient_chunks
        #: lists(name) makes "constraints", "logup_constraints" or "interactions" on first use (a
        #: blinded AIR of a table the proof leaves out never needs its ~10^3 objects)
        self._lists = lists
        self.interaction_groups = interaction_groups
        self._next_row_columns = next_row
        self._air_digest = air_digest
        self._tapes = tapes
        self._rebuild = rebuild

    @cached_property
    def constraints(self) -> list:
        """The AIR's own constraints: (name, NodeIndex of its expression)."""
        return self._lists("constraints")

    @cached_property
    def logup_constraints(self) -> list:
        return self._lists("logup_constraints")

    @cached_property
    def interactions(self) -> list:
        """Its bus interactions, values and multiplicity as NodeIndex."""
        return self._lists("interactions")

    @cached_property
    def interaction_shape(self) -> tuple:
        """(how many interactions, the widest one's values + 1 for its bus id): what the
        security estimate counts (stark/verifier.statement_security), read from the stored
        lists without making ~10^3 objects of a table whose interactions nothing else reads."""
        if "interactions" in self.__dict__:
            return interaction_shape(self.interactions)
        return self._lists("interaction_shape")

    @cached_property
    def send_buses(self) -> frozenset:
        """The ids of the buses it sends on (machine/witness.Witness.senders), likewise read
        from the stored lists while the interactions are not made."""
        if "interactions" in self.__dict__:
            return send_buses(self.interactions)
        return self._lists("send_buses")

    @property
    def all_constraints(self) -> list:
        return self.constraints + self.logup_constraints

    @property
    def builder(self):
        """The real DAG, compiled on first use: only for a set of roots no tape was stored for."""
        compiled = self.__dict__.get("_compiled")
        if compiled is None:
            compiled = self._compiled = self._rebuild()
        return compiled.builder


def stark_roots(compiled) -> list:
    """The sets of roots the proof system evaluates on rows (tape.tape_for's): the AIR's own
    constraints (debug check), all of them with LogUp's (quotient), and every interaction's
    values and multiplicity (logup.interaction_exprs)."""
    from .logup import interaction_exprs

    sets = [[c.expr for c in compiled.constraints], [c.expr for c in compiled.all_constraints]]
    if compiled.interactions:
        sets.append(interaction_exprs(compiled))
    return sets


def prover_view(compiled, extra_roots: Sequence = (), rebuild: Callable | None = None, tapes: bool = True) -> ProverAir:
    """The ProverAir of a CompiledAir: its counts, digest and the tapes of ``stark_roots`` and
    ``extra_roots`` (more sets of its Exprs); with ``tapes=False`` no tape (``tapes_later``).
    ``rebuild`` gives the real compiled AIR when a set of roots not stored is asked for
    (default: ``compiled`` itself)."""
    from .keys import air_digest

    if tapes:
        for roots in stark_roots(compiled) + list(extra_roots):
            tape_for(compiled, roots)
    stored = {key: t for key, t in compiled.__dict__.get("_tapes", {}).items() if key[1] == "rows"} if tapes else {}
    interactions = [Interaction(int(it.bus), str(it.bus_name), [NodeIndex(v.index) for v in it.values],
                                _node(it.multiplicity.index), int(it.sign)) for it in compiled.interactions]
    lists = {
        "constraints": [Constraint(c.name, _node(c.expr.index)) for c in compiled.constraints],
        "logup_constraints": [Constraint(c.name, _node(c.expr.index)) for c in compiled.logup_constraints],
        "interactions": interactions, "interaction_shape": interaction_shape(interactions),
        "send_buses": send_buses(interactions)}
    view = ProverAir(
        compiled.air, int(compiled.num_aux_columns), int(compiled.max_degree), int(compiled.log_quotient_chunks),
        lists.__getitem__, [[int(k) for k in g] for g in compiled.interaction_groups], next_row_columns(compiled), air_digest(compiled),
        stored, rebuild or (lambda: compiled))
    view.tapes_later = not tapes
    return view


# ---- bytes ---------------------------------------------------------------------------------------


def encode_prover_airs(tables: list) -> bytes:
    """Bytes of a list of (ProverAir, blinded ProverAir or None), one pair per table."""
    header: list = []
    blob = ArrayBlob()
    array = blob.add

    def tape(key, t: Tape) -> dict:
        return {"key": array(key[0], "<i4"), "nslots": int(t.nslots),
                "constants": [[k[0], _plain(k[1])] for k in t.constants],
                "arrays": {name: array(getattr(t, name), dtype) for name, dtype in _STORED.items()}}

    def constraints(cs: list) -> dict:  # names joined by NUL (UTF-8 bytes), indices: arrays
        names = np.frombuffer("\0".join(c.name for c in cs).encode(), dtype=np.uint8)
        return {"names": array(names, "u1"), "roots": array([c.expr.index for c in cs], "<i4")}

    def table(v: ProverAir) -> dict:
        return {"name": v.air.name, "aux": v.num_aux_columns, "degree": v.max_degree, "chunks": v.log_quotient_chunks,
                "constraints": constraints(v.constraints), "logup": constraints(v.logup_constraints),
                "interactions": [[it.bus, it.bus_name, [x.index for x in it.values], it.multiplicity.index, it.sign]
                                 for it in v.interactions],
                "groups": v.interaction_groups, "digest": v._air_digest.hex(),
                "next": {g: [int(c) for c in cols] for g, cols in v._next_row_columns.items()},
                "tapes": [tape(key, t) for key, t in v._tapes.items() if key[1] == "rows"], "later": v.tapes_later}

    for view, blind in tables:
        header.append({"view": table(view), "blinded": None if blind is None else table(blind)})
    return pack(MAGIC, header, blob)


class StoredTables:
    """``decode_prover_airs``' result: per table name, what makes its ProverAirs (``view``)."""

    def __init__(self, header: list, blob):
        self._header = {t["view"]["name"]: t for t in header}
        self._blob = blob

    @property
    def names(self) -> list:
        return list(self._header)

    def view(self, air, blinded_air, max_degree: int, rebuild: Callable, rebuild_blinded: Callable) -> ProverAir:
        """The ProverAir of the table named ``air.name`` for the AIR object ``air`` (its
        blinded one for ``blinded_air()``, attached where blind.blinded looks for it)."""
        t = self._header.get(air.name)
        if t is None:
            raise StarkConfigError(f"stored prover key: no table {air.name!r}")
        view = self._table(t["view"], air, rebuild)
        if t["blinded"] is not None:
            view._blinded = (max_degree, self._table(t["blinded"], blinded_air(), rebuild_blinded))
        return view

    def _ints(self, where: list) -> list:
        offset, count = where
        return np.frombuffer(self._blob, dtype="<i4", count=count, offset=offset).tolist() if count else []

    def _constraints(self, c: dict) -> StoredConstraints:
        roots = self._ints(c["roots"])
        offset, count = c["names"]
        return StoredConstraints(lambda: bytes(self._blob[offset:offset + count]).decode().split("\0") if roots else [],
                                 roots)

    def tapes_of(self, name: str, blinded: bool) -> tuple:
        """(stored tapes, their loader) of table ``name``'s view (its blinded one)."""
        return self._stored_tapes(self._header[name]["blinded" if blinded else "view"]), self._tape

    def _stored_tapes(self, t: dict) -> dict:
        return {(tuple(self._ints(tp["key"])), "rows"): tp for tp in t["tapes"]}

    def _table(self, t: dict, air, rebuild) -> ProverAir:
        stored = self._stored_tapes(t)

        def lists(name: str) -> Any:  # a list, or the shape tuple, or the bus set
            if name == "interactions":
                return [Interaction(bus, bus_name, list(map(NodeIndex, values)), _node(mult), sign)
                        for bus, bus_name, values, mult, sign in t["interactions"]]
            if name == "send_buses":
                return frozenset(bus for bus, _, _, _, sign in t["interactions"] if sign > 0)
            if name == "interaction_shape":
                return len(t["interactions"]), max((1 + len(values) for _, _, values, _, _ in t["interactions"]), default=0)
            return self._constraints(t["constraints" if name == "constraints" else "logup"])

        view = ProverAir(
            air, t["aux"], t["degree"], t["chunks"], lists, t["groups"], {g: np.array(cols, dtype=np.int64) for g, cols in t["next"].items()},
            bytes.fromhex(t["digest"]), _Tapes(stored, self._tape), rebuild)
        view.tapes_later = bool(t["later"])
        return view

    def _tape(self, tp: dict) -> Tape:
        arr: dict[str, np.ndarray] = {name: np.frombuffer(self._blob, dtype=_STORED[name], count=count, offset=offset).astype(_LOADED[name])
               if count else np.zeros(0, dtype=_LOADED[name]) for name, (offset, count) in tp["arrays"].items()}
        return Tape(where="rows", nslots=tp["nslots"], constants=[(kind, arg) for kind, arg in tp["constants"]], **arr)


def decode_prover_airs(data: bytes, names: list) -> StoredTables:
    """The tables of ``encode_prover_airs``' bytes, which must be exactly ``names`` in order.
    StarkConfigError when the bytes are damaged or describe other tables."""
    header, blob = unpack(MAGIC, data, "prover key")
    stored = [t["view"]["name"] for t in header]
    if stored != list(names):
        raise StarkConfigError(f"stored prover key: tables {stored[:3]}… where the AIRs have {list(names)[:3]}…")
    return StoredTables(header, blob)


def _plain(arg):
    """A tape constant's argument (an int or a selector's name) as JSON."""
    if isinstance(arg, (bool, np.bool_, int, np.integer)):
        return int(arg)
    return str(arg)
