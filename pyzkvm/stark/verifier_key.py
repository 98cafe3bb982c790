"""The verifier's view of compiled AIRs, and its stored form (bytes that load in milliseconds).

Verifying needs far less of an AIR than proving: not its constraint DAG (``AirBuilder``
nodes, seconds to build for a wide chip) but, per table,

* the AIR object itself (name, widths, ``optional``, ``public_interactions``: cheap to make);
* counts and shapes: aux columns, constraint degree and number, each interaction's bus and
  number of values (the shape checks, the security estimate, the bus-name collision check);
* the DAG's digest (keys.air_digest: it names the constraints in the circuit digest);
* the columns read at the next row (openings.next_row_columns);
* the tape of Σ α^i C_i at a point, with its levels (point_eval.py) — for the AIRs the proof
  system proves (hiding mode: the blinded ones, blind.py).

``VerifierAir`` holds exactly that and stands in for a ``CompiledAir`` wherever the verifier
reads one (keys.verifying_key_from_parts, verifier.py, blind.blinded). ``view_of`` makes it
from a compiled AIR; ``encode_views`` / ``decode_views`` turn a list of them into bytes and
back. The bytes are a pure function of the code (the AIRs and the compiler); a caller keeps
them across processes (machine/image_id.py, in pyzkvm/memo.py's per-code-version folder) so a
fresh ``pyzkvm verify`` skips building every chip's DAG.

Format: MAGIC ‖ BLAKE3(body) ‖ body, body = u32 header length ‖ JSON header ‖ array bytes
(little-endian, each array at the offset the header gives). ``decode_views`` refuses
(StarkConfigError) bytes whose digest, magic or table names do not match; the caller then
rebuilds the views from the AIRs. What the digest does not stop is a deliberate rewrite by
someone who can write the folder (they could recompute it): that is the memo's trust model
(pyzkvm/memo.py), the same as the numba cache's beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..errors import StarkConfigError
from .openings import next_row_columns
from .key_file import ArrayBlob, pack, unpack
from .point_eval import PointProgram, point_program
from .tape import Tape

MAGIC = b"pyzkvm-verifier-key-v1\0"

#: the point tape's arrays as stored: name → dtype (every index fits in 32 bits)
_TAPE_ARRAYS = {"op": "<i1", "a": "<i4", "b": "<i4", "is_ext": "|b1", "dstart": "<i4", "dargs": "<i4",
                "roots": "<i4", "slot": "<i4", "levels": "<i4"}


@dataclass(frozen=True)
class InteractionShape:
    """An interaction as the verifier sees it: its bus, sign and value nodes (only their
    number is read: the tuple width of the LogUp security term)."""

    bus: int
    bus_name: str
    values: tuple
    sign: int


class VerifierAir:
    """What the verifier reads of a CompiledAir (module docstring), without its DAG."""

    #: the key builder ran optional.check_optional_air on the compiled AIR this came from
    optional_checked = True

    def __init__(self, air, num_aux_columns: int, max_degree: int, log_quotient_chunks: int, num_constraints: int,
                 interactions: list, next_row: dict, tape: Tape | None, levels: np.ndarray | None,
                 air_digest: bytes | None = None):
        self.air = air
        self.num_aux_columns = num_aux_columns
        self.max_degree = max_degree
        self.log_quotient_chunks = log_quotient_chunks
        #: one entry per constraint (only the count is read: α's powers, the security estimate)
        self.all_constraints = range(num_constraints)
        self.interactions = interactions
        self._next_row_columns = next_row
        self._tape, self._levels = tape, levels
        if air_digest is not None:
            self._air_digest = air_digest

    @property
    def _point_program(self) -> PointProgram | None:
        # built on first use, from the stored tape: only the tables a proof includes pay for it
        if self._tape is None or self._levels is None:
            return None
        program = self.__dict__.get("_program")
        if program is None:
            program = self._program = PointProgram(self._tape, self._levels)
        return program


def view_of(compiled, with_tape: bool = True, with_digest: bool = True) -> VerifierAir:
    """The VerifierAir of a CompiledAir (or of another VerifierAir). ``with_tape=False``: no
    point tape (the verifier never evaluates this AIR itself, e.g. the unblinded chips of a
    hiding key, whose blinded AIRs it checks instead). ``with_digest=False``: no DAG digest
    (a blinded AIR: the circuit digest names the chips' own AIRs, never their blinded ones)."""
    from .keys import air_digest

    program = point_program(compiled) if with_tape else None
    return VerifierAir(
        compiled.air, int(compiled.num_aux_columns), int(compiled.max_degree), int(compiled.log_quotient_chunks),
        len(compiled.all_constraints),
        [InteractionShape(int(it.bus), str(it.bus_name), tuple(_index(v) for v in it.values), int(it.sign))
         for it in compiled.interactions],
        next_row_columns(compiled), None if program is None else program.tape,
        None if program is None else program.levels, air_digest(compiled) if with_digest else None)


def _index(v) -> int:
    return int(v) if isinstance(v, (int, np.integer)) else int(v.index)


def encode_views(tables: list) -> bytes:
    """Bytes of a list of (VerifierAir, blinded VerifierAir or None), one pair per table."""
    header: list = []
    blob = ArrayBlob()
    array = blob.add

    def table(v: VerifierAir) -> dict:
        t = {"name": v.air.name, "aux": v.num_aux_columns, "degree": v.max_degree, "chunks": v.log_quotient_chunks,
             "constraints": len(v.all_constraints),
             "interactions": [[it.bus, it.bus_name, list(it.values), it.sign] for it in v.interactions],
             "digest": getattr(v, "_air_digest", b"").hex(),
             "next": {g: [int(c) for c in cols] for g, cols in v._next_row_columns.items()}, "tape": None}
        if v._tape is not None:
            tape = v._tape
            fields = {name: array(v._levels if name == "levels" else getattr(tape, name), dtype)
                      for name, dtype in _TAPE_ARRAYS.items()}
            t["tape"] = {"arrays": fields, "nslots": int(tape.nslots), "constants": [_plain(k) for k in tape.constants]}
        return t

    for view, blind in tables:
        header.append({"view": table(view), "blinded": None if blind is None else table(blind)})
    return pack(MAGIC, header, blob)


def decode_views(data: bytes, airs: list, blind_air) -> list:
    """The (VerifierAir, blinded VerifierAir or None) pairs of ``encode_views``' bytes, for
    ``airs`` (the AIR objects, in the same order; ``blind_air(air)`` makes a blinded one).
    StarkConfigError when the bytes are damaged or describe other tables."""
    header, blob = unpack(MAGIC, data, "verifier key")
    if len(header) != len(airs):
        raise StarkConfigError(f"stored verifier key: {len(header)} tables, the AIRs are {len(airs)}")

    def table(t: dict, air) -> VerifierAir:
        if t["name"] != air.name:
            raise StarkConfigError(f"stored verifier key: table {t['name']!r} where the AIRs have {air.name!r}")
        tape, levels = None, None
        if t["tape"] is not None:
            arr = {name: np.frombuffer(blob, dtype=_TAPE_ARRAYS[name], count=count, offset=offset) if count else
                   np.zeros(0, dtype=_TAPE_ARRAYS[name]) for name, (offset, count) in t["tape"]["arrays"].items()}
            levels = arr.pop("levels")
            tape = Tape(where="point", nslots=t["tape"]["nslots"], constants=[_key(k) for k in t["tape"]["constants"]],
                        **arr)
        return VerifierAir(air, t["aux"], t["degree"], t["chunks"], t["constraints"],
                           [InteractionShape(bus, name, tuple(values), sign)
                            for bus, name, values, sign in t["interactions"]],
                           {g: np.array(cols, dtype=np.int64) for g, cols in t["next"].items()}, tape, levels,
                           bytes.fromhex(t["digest"]) or None)

    out = []
    for t, air in zip(header, airs):
        view = table(t["view"], air)
        out.append((view, None if t["blinded"] is None else table(t["blinded"], blind_air(air))))
    return out


def _plain(key):
    """A tape constant's key ("const", 5) | ("sel", "is_first_row") | ("cumsum", ()) … as JSON."""
    if isinstance(key, (tuple, list)):
        return [_plain(k) for k in key]
    if isinstance(key, (bool, np.bool_)):
        return int(key)
    return int(key) if isinstance(key, (int, np.integer)) else str(key)


def _key(x):
    return tuple(_key(k) for k in x) if isinstance(x, list) else x


def build_views(compiled: Sequence, config) -> list:
    """(view, blinded view or None) per compiled AIR, for ``config``: what ``encode_views``
    stores. Runs the checks key building runs on a compiled AIR that a view then skips
    (optional.check_optional_air). In hiding mode only the blinded views carry a tape (the
    verifier evaluates what the proof system proves)."""
    from .blind import blinded
    from .keys import _max_degree
    from .optional import check_optional_air

    out = []
    for c in compiled:
        check_optional_air(c)
        out.append(table_views(c, blinded(c, _max_degree(config)) if config.zk else None))
    return out


def table_views(compiled, blinded_compiled=None) -> tuple:
    """One table's (view, blinded view or None) as ``build_views`` stores it: transparent mode
    (no blinded AIR) the chip's view with its point tape; hiding mode the chip's view without
    one and the blinded AIR's view with its tape but no digest."""
    if blinded_compiled is None:
        return view_of(compiled), None
    return view_of(compiled, with_tape=False), view_of(blinded_compiled, with_digest=False)


def with_blinded(pairs: list, config) -> list:
    """The views of ``pairs`` with their blinded views attached where blind.blinded looks."""
    from .keys import _max_degree

    for view, blind in pairs:
        if blind is not None:
            view._blinded = (_max_degree(config), blind)
    return [view for view, _ in pairs]
