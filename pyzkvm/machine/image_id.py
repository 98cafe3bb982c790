"""The machine's verifying key and the image ID (version 3) derived from it.

The image ID of an sp1- or risc0-profile program binds the machine AIR's verifying key for
that program at **every blowup a preset may use** (IMAGE_ID_LOG_BLOWUPS: 4, 8 and 16)::

    image_id = BLAKE3("pyzkvm-image-id-v3" ‖ C_4 ‖ C_8 ‖ C_16)
    C_b      = vk_b.circuit_digest (pyzkvm/stark/keys.py)
             = BLAKE3("pyzkvm-stark-circuit-v1" ‖ log2(b)
                      ‖ every table: name, widths, aux columns, preprocessed height,
                                     digest of its constraint DAG (constants, bus ids included)
                      ‖ Merkle root of the preprocessed columns' LDE at blowup b: program table
                        (decoded instructions and the entry point), memory image, byte table
                      ‖ number of public values)

Why every blowup: the preprocessed columns are committed on the blowup-b coset, so their root
differs per blowup, and a verifier holding only the 32-byte ID must be able to check the root
of the proof's blowup. The compiled AIRs are the same at every b (keys.MAX_LOG_QUOTIENT_CHUNKS),
so C_b differ only in log2(b) and the root. A seal carries the circuit digests of the *other*
blowups (32 bytes each); the verifier computes C_b for the proof's blowup b (the preset the
seal names) from its own AIRs and the seal's root and heights, puts it at b's place, and
compares ``image_id_of`` with the ID. An attacker who wants a root the program's ID does not
bind must find a BLAKE3 collision: C_b sits at a fixed place and hashes log2(b) itself, so a
root for another blowup, another program's root or a preset edited to another blowup each
give another ID (tests/machine/test_image_id_v3.py).

It does not depend on the security preset's query count, grinding bits, final polynomial or
hiding mode: those enter only vk.digest, which the transcript observes.
"""

from __future__ import annotations

from functools import lru_cache

import blake3

from .. import memo, shipped
from ..errors import StarkConfigError, UnsupportedProgram, VerificationError
from ..program import Program
from ..stark import DEFAULT, DEFAULT_ZK, StarkConfig, VerifyingKey, setup
from ..stark.blind import BlindedAir
from ..stark.keys import _max_degree, check_trace, compile_for, verifying_key_from_parts
from ..stark.verifier_key import build_views, decode_views, encode_views, with_blinded
from .statement import NUM_PUBLIC_VALUES, PROFILE_IDS
from .tables import build_chips, chips_are_pyzkvms, machine_airs

#: log2 of every blowup the image ID binds a preprocessed commitment for (4: DEFAULT and the
#: test presets; 8 and 16: the compact presets); a preset with another blowup cannot prove
#: against image IDs
IMAGE_ID_LOG_BLOWUPS = (2, 3, 4)
#: the blowup the chips compile their constraints for (machine/evaluate.py; the same compiled
#: AIRs serve every blowup above, keys.MAX_LOG_QUOTIENT_CHUNKS)
IMAGE_ID_LOG_BLOWUP = IMAGE_ID_LOG_BLOWUPS[0]
IMAGE_ID_TAG = b"pyzkvm-image-id-v3"

#: Program.circuit_key → circuit digests, one per IMAGE_ID_LOG_BLOWUPS,
#: so every Program object of one ELF pays for the setups once per process
_DIGESTS: dict = {}
#: Program.circuit_key → image ID
_IDS: dict = {}
#: pyzkvm/memo.py's namespace for a program's circuit digests (32 bytes per blowup)
CIRCUIT_DIGESTS = "circuit-digests"


def check_image_id_config(config: StarkConfig) -> None:
    """A preset can prove against image IDs only if the ID binds its blowup."""
    if config.log_blowup not in IMAGE_ID_LOG_BLOWUPS:
        allowed = ", ".join(str(1 << b) for b in IMAGE_ID_LOG_BLOWUPS)
        raise StarkConfigError(
            f"preset {config.name!r} has blowup {config.blowup}, but image IDs bind the preprocessed commitment at "
            f"blowups {allowed} only; use a preset with one of those")


def image_id_of(circuit_digests) -> bytes:
    """The v3 image ID of the circuit digests at IMAGE_ID_LOG_BLOWUPS (module docstring)."""
    digests = [bytes(d) for d in circuit_digests]
    if len(digests) != len(IMAGE_ID_LOG_BLOWUPS) or any(len(d) != 32 for d in digests):
        raise StarkConfigError(f"an image ID binds {len(IMAGE_ID_LOG_BLOWUPS)} circuit digests of 32 bytes")
    return blake3.blake3(IMAGE_ID_TAG + b"".join(digests)).digest()


def machine_verifying_key(program: Program, config: StarkConfig = DEFAULT) -> VerifyingKey:
    """Set up the machine AIR for ``program`` (commits the preprocessed tables) and return
    the verifying key."""
    return setup(config, build_chips(program).airs).verifying_key


def _key_without_setup(program: Program, config: StarkConfig) -> VerifyingKey:
    """The verifying key setup would make, from the preprocessed root alone (prep_root.py:
    no proving key; the byte table's part of the tree hashed once) and the machine's AIRs as
    the verifier reads them (machine_verifier_airs: no constraint DAG built when stored)."""
    from .prep_root import preprocessed_root

    root, heights = preprocessed_root(config, build_chips(program).airs)
    return verifying_key_from_parts(config, machine_verifier_airs(config), root, heights)


def _config_at(log_blowup: int) -> StarkConfig:
    """A config with this blowup (the circuit digest reads nothing else of it)."""
    from dataclasses import replace

    return replace(DEFAULT, name=f"image id blowup {1 << log_blowup}", log_blowup=log_blowup, max_log_height=None)


def _store(namespace: str, key: bytes, value: bytes) -> None:
    # into the memo, which later processes of this code trust: only values of pyzkvm's own
    # circuit (not one a test or an experiment patched at run time: tables.chips_are_pyzkvms)
    if chips_are_pyzkvms():
        memo.put(namespace, key, value)


def machine_circuit_digests(program: Program, known: VerifyingKey | None = None) -> tuple:
    """The program's circuit digests, one per IMAGE_ID_LOG_BLOWUPS (a setup at each blowup,
    kept per process and in pyzkvm/memo.py). ``known``: a key just set up for the program
    (its blowup's setup is not repeated).

    Raises UnsupportedProgram when the machine AIR cannot represent the program (code above
    0x77E00000); Program.image_id then falls back to its content digest."""
    if program.abi not in PROFILE_IDS:
        raise UnsupportedProgram(f"the machine AIR proves the sp1 and risc0 ABI profiles, not {program.abi!r}")
    key = program.circuit_key
    if key not in _DIGESTS:
        n = len(IMAGE_ID_LOG_BLOWUPS)
        stored = memo.get(CIRCUIT_DIGESTS, memo.program_key(program))
        if stored is None or len(stored) != 32 * n:
            parts = []
            for b in IMAGE_ID_LOG_BLOWUPS:
                vk = known if known is not None and known.config.log_blowup == b else \
                    _key_without_setup(program, _config_at(b))
                parts.append(vk.circuit_digest)
            stored = b"".join(parts)
            _store(CIRCUIT_DIGESTS, memo.program_key(program), stored)
        _DIGESTS[key] = tuple(stored[32 * k:32 * k + 32] for k in range(n))
    return _DIGESTS[key]


def machine_image_id(program: Program) -> bytes:
    """The 32-byte image ID (v3) of an sp1- or risc0-profile program (module docstring): the
    same for every preset the stark backend accepts.

    The profile is part of it: every ecall row of the program table names it (program_table.py).
    Raises UnsupportedProgram when the machine AIR cannot represent the program."""
    if program.abi not in PROFILE_IDS:
        raise UnsupportedProgram(f"the machine AIR proves the sp1 and risc0 ABI profiles, not {program.abi!r}")
    key = program.circuit_key
    if key not in _IDS:
        # across processes too (pyzkvm/memo.py: kept per code version): a fresh `pyzkvm info`,
        # `prove --backend trace` or `verify --elf` then skips the setups
        stored = memo.get(memo.IMAGE_IDS, memo.program_key(program))
        if stored is None or len(stored) != 32:
            stored = image_id_of(machine_circuit_digests(program))
            _store(memo.IMAGE_IDS, memo.program_key(program), stored)
        _IDS[key] = stored
    return _IDS[key]


def other_circuit_digests(program: Program, vk: VerifyingKey) -> list:
    """What a seal carries beside a proof made with ``vk``: the program's circuit digests at
    the image ID's other blowups, in IMAGE_ID_LOG_BLOWUPS order. Records the program's ID."""
    check_image_id_config(vk.config)
    digests = machine_circuit_digests(program, known=vk)
    at = IMAGE_ID_LOG_BLOWUPS.index(vk.config.log_blowup)
    assert digests[at] == vk.circuit_digest, "the proving key is not the program's"
    if program.abi in PROFILE_IDS and program.circuit_key not in _IDS:
        _IDS[program.circuit_key] = image_id_of(digests)
        _store(memo.IMAGE_IDS, memo.program_key(program), _IDS[program.circuit_key])
    return [d for k, d in enumerate(digests) if k != at]


def image_id_from_seal(vk: VerifyingKey, others) -> bytes:
    """The image ID a verifier recomputes: ``vk`` (rebuilt from the seal's root and heights
    at the seal's preset's blowup) gives C_b, ``others`` (the seal's digests of the other
    blowups, in order) the rest."""
    check_image_id_config(vk.config)
    others = list(others)
    if len(others) != len(IMAGE_ID_LOG_BLOWUPS) - 1:
        raise VerificationError(f"the seal carries {len(others)} circuit digests of other blowups, "
                                f"not {len(IMAGE_ID_LOG_BLOWUPS) - 1}")
    at = IMAGE_ID_LOG_BLOWUPS.index(vk.config.log_blowup)
    return image_id_of(others[:at] + [vk.circuit_digest] + others[at:])


@lru_cache(maxsize=4)
def _compiled(config: StarkConfig) -> tuple:
    return tuple(compile_for(config, air) for air in machine_airs())


#: pyzkvm/memo.py's namespace for the machine's stored verifier keys (stark/verifier_key.py)
VERIFIER_KEYS = "verifier-key"
#: (max degree, hiding) → the machine's VerifierAirs, once per process
_VIEWS: dict = {}


def machine_verifier_airs(config: StarkConfig) -> tuple:
    """The machine's AIRs as the verifier reads them (stark/verifier_key.py: no constraint
    DAG) for ``config``'s blowup and mode: from the memo (per code version, pyzkvm/memo.py)
    when it holds an intact copy (the first prove stores one: machine/prover_key.py), else
    from the package's shipped copy (pyzkvm/shipped.py: only while the code that computed it is
    unchanged), else built from the AIRs once (seconds: every chip's DAG) and stored for the
    next process. A damaged copy (digest mismatch) is rebuilt, not used."""
    key = (_max_degree(config), config.zk)
    if key not in _VIEWS:
        name = verifier_key_name(config)
        pairs = None
        for where in (memo, shipped):  # this code's memo, then the package's copy (pyzkvm/shipped.py)
            stored = where.get(VERIFIER_KEYS, name)
            if stored is None:
                continue
            try:
                pairs = decode_views(stored, machine_airs(), BlindedAir)
            except StarkConfigError:
                continue  # damaged, or written for other AIRs: the next, or rebuilt below
            if where is shipped:
                _store(VERIFIER_KEYS, name, stored)  # the next process skips the decompression
            break
        if pairs is None:
            pairs = build_views(_compiled(config), config)
            _store(VERIFIER_KEYS, name, encode_views(pairs))
        _VIEWS[key] = tuple(with_blinded(pairs, config))
    return _VIEWS[key]


#: the presets whose verifier keys the package ships (pyzkvm/shipped.py): DEFAULT's degree
#: bound (also the compact and blowup-8 presets'), transparent and hiding
SHIPPED_KEY_CONFIGS = (DEFAULT, DEFAULT_ZK)


def shipped_values() -> list:
    """(namespace, key, value) of what pyzkvm/data/ ships: the machine's verifier key of each
    SHIPPED_KEY_CONFIGS, built from the AIRs, and the byte table's subtree level at each image
    ID blowup (prep_root.shipped_levels), never read back from the memo or the package."""
    from .bytes_table import ByteTableAir
    from .prep_root import shipped_levels

    keys = [(VERIFIER_KEYS, verifier_key_name(c), encode_views(build_views(_compiled(c), c)))
            for c in SHIPPED_KEY_CONFIGS]
    table = ByteTableAir()  # the preprocessed trace as setup commits it (canonical, uint32)
    trace = check_trace(table, table.preprocessed_trace(), "preprocessed", table.preprocessed_width)
    return keys + shipped_levels(trace, IMAGE_ID_LOG_BLOWUPS)


#: (config, preprocessed root, heights) → (the views, the VerifyingKey built from them): a warm verifier of
#: a program's receipts assembles (and hashes) its key once; the last few programs are kept
_KEYS: dict = {}
_KEYS_KEPT = 8


def verifier_key_name(config: StarkConfig) -> bytes:
    """The memo key of the machine's verifier key for ``config`` (its degree bound and mode)."""
    return verifier_key_memo_name(_max_degree(config), config.zk)


def verifier_key_memo_name(max_degree: int, zk: bool) -> bytes:
    """verifier_key_name by degree bound and mode (the first prove stores its mode's key:
    machine/prover_key.build_prover_key)."""
    return f"max degree {max_degree}{', hiding' if zk else ''}".encode()


def machine_key_from_parts(config: StarkConfig, prep_root: bytes, prep_log_heights) -> VerifyingKey:
    """The verifier's copy of the machine's verifying key: the machine's AIRs as the verifier
    reads them (machine_verifier_airs: stored, not compiled, in a fresh process) with the
    preprocessed root and heights a seal carries. Its ``circuit_digest`` is the image ID of the
    program those preprocessed columns hold. Kept per process for the same parts (_KEYS)."""
    compiled = machine_verifier_airs(config)
    if len(prep_log_heights) != len(compiled):
        raise StarkConfigError(f"{len(prep_log_heights)} table heights for the machine's {len(compiled)} tables")
    key = (config, None if prep_root is None else bytes(prep_root), tuple(prep_log_heights))
    cached = _KEYS.get(key)
    if cached is not None and cached[0] is compiled:  # built from these very views
        return cached[1]
    vk = verifying_key_from_parts(config, compiled, prep_root, prep_log_heights)
    if vk.num_public_values != NUM_PUBLIC_VALUES:  # pragma: no cover - a code inconsistency
        raise StarkConfigError("machine AIRs disagree on the number of public values")
    if len(_KEYS) >= _KEYS_KEPT:
        _KEYS.pop(next(iter(_KEYS)))  # the oldest
    _KEYS[key] = (compiled, vk)
    return vk
