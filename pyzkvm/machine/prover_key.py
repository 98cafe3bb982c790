"""The machine's stored prover key: every chip compiled once per code version, not per prove.

A prove compiles every chip's constraint DAG (and hiding mode's blinded twin) to read a few
things off it (stark/prover_key.py: counts, digests, tapes): seconds of Python and hundreds
of MB per fresh ``pyzkvm prove``. They depend on the code alone, so they are kept in the memo
(pyzkvm/memo.py, per code fingerprint), per degree bound, in one file for both modes:

* per chip: its ProverAir (the tapes of the proof system's root sets: debug check, quotient,
  LogUp columns) plus the tapes trace generation evaluates on the plain trace — the chip's
  early sends for each kind of bus (witness.early_sends) and its byte-bus sends
  (bytes_table.byte_sends);
* per chip, hiding mode's blinded ProverAir (quotient and LogUp tapes of the ring's AIR).

An optional chip (a precompile, the divider, …: ~4/5 of the build time) is stored without its
tapes (``tapes_later``): a run that leaves its table out reads none (trace generation and the
debug check skip an all-zero optional table: stark/optional.py's claim), and the first prove
that uses it compiles the chip and stores both its ProverAirs, tapes included, in a memo file
of their own (``CHIP_TAPES``, same format and checks), which later proves load on a first
lookup of one of its tapes (``LaterTapes``: a run without the table reads no file — all the
optional chips' files are ~27 MB).

A chip gets its view through ``Chip.stored_compiled`` (stark/keys.compile_once asks every AIR):
only when the memo is on, for a chip of the registered class (``tables.CHIPS``) whose
``constraints`` are pyzkvm's own (a test that patches or subclasses a chip compiles it for
real). Read once per process. A prove (``ensure_prover_key``) builds and stores it when the
memo has none, or one whose digest, magic or table names do not match (never used): the first
prove after a code change compiles every chip and blinded twin and runs the optional-table
checks, ~4 s of CPU once (no optional chip's tapes: above), and from the same compiled chips the verifier's key of the mode it
proves in (stark/verifier_key.py, ~1.2 s more: the point tapes; both modes when asked), so the
first ``pyzkvm verify`` of its receipt loads it rather than compiling every chip again. Other commands (``info``, ``verify --elf``: an image ID) use a key a
prove stored, and otherwise compile the chips as before.
"""

from __future__ import annotations

from .. import memo
from ..errors import StarkConfigError
from ..stark.blind import BlindedAir, blinded
from ..stark.air import compile_air
from ..stark.gc_pause import without_cycle_collection
from ..stark.optional import check_optional_air
from ..stark.prover_key import LaterTapes, StoredTables, decode_prover_airs, encode_prover_airs, prover_view
from ..stark.verifier_key import encode_views, table_views
from . import buses

#: pyzkvm/memo.py's namespace of the stored prover keys
PROVER_KEYS = "prover-key"
#: its namespace of an optional chip's tapes, stored apart when a prove first uses the chip
CHIP_TAPES = "prover-key-chip"
#: max degree → the decoded key (StoredTables, or None: none stored), once per process
_LOADED: dict = {}


def machine_roots(compiled) -> list:
    """The sets of roots trace generation evaluates on a chip's plain trace (evaluate.py)."""
    from .bytes_table import byte_sends
    from .evaluate import computed
    from .witness import early_sends

    sets = [early_sends(compiled, bus)[1] for bus in (buses.BYTE, buses.MEMORY, None)]
    sets.append(byte_sends(compiled)[1])
    sets += [computed(roots) for roots in sets]  # the tapes evaluate_on_trace runs: no plain column
    return [roots for roots in sets if roots]


def stored_for(air, max_degree: int):
    """``air``'s ProverAir for ``max_degree`` (blinded twin attached), or None: when the memo is
    off or holds no intact key (only a prove builds one: ``ensure_prover_key``), or ``air`` is
    not a registered chip with its own constraints (module docstring)."""
    from .tables import CHIPS

    if memo.memo_dir() is None or type(air) not in CHIPS:
        return None
    if not getattr(type(air).constraints, "__module__", "").startswith("pyzkvm."):
        return None
    tables = _load(max_degree)
    if tables is None:
        return None
    # the real DAG only for a set of roots the key did not store (ProverAir.builder), once
    # for the chip and its blinded twin
    real: list = []
    apart: list = []  # an optional chip's tapes, stored apart: read on the first lookup

    def chip_tapes() -> StoredTables | None:
        if not apart:
            stored = memo.get(CHIP_TAPES, _chip_memo_key(max_degree, air.name))
            try:
                apart.append(decode_prover_airs(stored, [air.name]) if stored is not None else None)
            except StarkConfigError:
                apart.append(None)  # damaged: built again on first use
        return apart[0]

    def compiled():
        if not real:
            real.append(compile_air(air, max_degree))
            if later and chip_tapes() is None:  # an optional chip's first use: keep its tapes for the next proves
                memo.put(CHIP_TAPES, _chip_memo_key(max_degree, air.name), encode_prover_airs([_views(real[0], max_degree)]))
        return real[0]

    def fetch(blinded: bool):
        def tapes() -> tuple | None:
            chip = chip_tapes()
            return None if chip is None else chip.tapes_of(air.name, blinded)
        return tapes

    view = tables.view(air, lambda: BlindedAir(air), max_degree, compiled, lambda: blinded(compiled(), max_degree))
    later = view.tapes_later
    if later:  # its tapes stored apart, once a prove used the chip (or not yet: built on first use)
        view._tapes = LaterTapes(fetch(False))
        if view._blinded is not None:
            view._blinded[1]._tapes = LaterTapes(fetch(True))
    return view


def ensure_prover_key(max_degree: int, announce=lambda: None, zk_modes=(False, True)) -> None:
    """Before a prove: load the stored key, or build and store it when the memo has none (or
    a damaged one; ``announce()`` first: it takes seconds), so that every chip the prove
    compiles comes from it. Other commands (``info``, ``verify``) only use a key a prove
    stored: they need a few digests, not tapes. When it builds, it also stores the verifier
    keys of the modes in ``zk_modes`` (False: transparent, True: hiding; ~1.2 s of CPU each)
    that the package does not ship for this code (pyzkvm/shipped.py: the first verify loads
    those from there)."""
    from .tables import chips_are_pyzkvms

    if memo.memo_dir() is None or _load(max_degree) is not None or not chips_are_pyzkvms():
        return  # (a chip patched at run time: its key is not this code's, and is not stored)
    if not memo.put("writable", b"", b""):  # a memo nobody can write: compile as before
        return  # (building the key costs more than the prove's own compiles; it could not be kept)
    announce()
    from .. import shipped
    from .image_id import VERIFIER_KEYS, verifier_key_memo_name

    zk_modes = tuple(zk for zk in zk_modes if not shipped.has(VERIFIER_KEYS, verifier_key_memo_name(max_degree, zk)))
    verifier_keys: dict = {}
    data = build_prover_key(max_degree, verifier_keys, zk_modes)
    memo.put(PROVER_KEYS, _memo_key(max_degree), data)
    # the verifier's keys the package does not ship, from the same compiled chips: the first
    # `pyzkvm verify` after this prove loads them (~0.1 s) instead of building every chip's DAG again (~6 s)
    for zk, views in verifier_keys.items():
        memo.put(VERIFIER_KEYS, verifier_key_memo_name(max_degree, zk), views)
    _LOADED[max_degree] = decode_prover_airs(data, _names())


def _memo_key(max_degree: int) -> bytes:
    return f"max degree {max_degree}".encode()


def _chip_memo_key(max_degree: int, name: str) -> bytes:
    return f"max degree {max_degree}, chip {name}".encode()


def _views(compiled, max_degree: int, tapes: bool = True) -> tuple:
    """A compiled chip's (ProverAir, blinded ProverAir): with its tapes, or (``tapes=False``)
    without them."""
    return (prover_view(compiled, machine_roots(compiled), tapes=tapes),
            prover_view(blinded(compiled, max_degree), tapes=tapes))


def _names() -> list:
    from .tables import machine_airs

    return [a.name for a in machine_airs()]


def _load(max_degree: int) -> StoredTables | None:
    """The key stored in the memo, decoded once per process; None when there is none or it
    is damaged (digest, magic, tables: never used)."""
    if max_degree not in _LOADED:
        stored, tables = memo.get(PROVER_KEYS, _memo_key(max_degree)), None
        if stored is not None:
            try:
                tables = decode_prover_airs(stored, _names())
            except StarkConfigError:
                tables = None  # damaged, or written by other code: a prove rebuilds it
        _LOADED[max_degree] = tables
    return _LOADED[max_degree]


@without_cycle_collection
def build_prover_key(max_degree: int, verifier_keys: dict | None = None, zk_modes=(False, True)) -> bytes:
    """Compile every chip and its blinded twin and return the stored key's bytes (the
    ProverAirs of stark/prover_key.py with machine_roots' tapes). Runs the checks key building
    runs on a compiled AIR that a ProverAir then skips (optional.check_optional_air).

    With a dict ``verifier_keys``, also fills it with the machine's verifier keys for this
    degree bound and the modes in ``zk_modes``, hiding mode → bytes (stark/verifier_key.py; what
    image_id.machine_verifier_airs would build), from the same compiled AIRs: only their
    point tapes cost extra."""
    from .tables import machine_airs

    pairs: list = []
    views: dict[bool, list] = {zk: [] for zk in zk_modes}
    for air in machine_airs():
        c = compile_air(air, max_degree)
        check_optional_air(c)
        blind = blinded(c, max_degree)
        # an optional chip's tapes (most of the key's build time: the precompiles) wait for a
        # prove that uses it (stored_for); a run that leaves its table out reads none of them
        pairs.append(_views(c, max_degree, tapes=not getattr(air, "optional", False)))
        if verifier_keys is not None:
            for zk in views:
                views[zk].append(table_views(c, blind if zk else None))
    if verifier_keys is not None:
        verifier_keys.update({zk: encode_views(tables) for zk, tables in views.items()})
    return encode_prover_airs(pairs)
