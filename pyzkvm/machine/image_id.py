"""The machine's verifying key and the image ID (version 2) derived from it.

The image ID of an sp1- or risc0-profile program is the **circuit digest** of the machine AIR's
verifying key for that program (pyzkvm/stark/keys.py)::

    image_id = vk.circuit_digest
             = BLAKE3("pyzkvm-stark-circuit-v1" ‖ log_blowup (= IMAGE_ID_LOG_BLOWUP)
                      ‖ every table: name, widths, aux columns, preprocessed height,
                                     digest of its constraint DAG (constants, bus ids included)
                      ‖ Merkle root of the preprocessed columns: program table (decoded
                        instructions and the entry point), memory image, byte table
                      ‖ number of public values)

It does not depend on the security preset's query count, grinding bits or final polynomial:
every preset the stark backend accepts uses the same blowup, IMAGE_ID_LOG_BLOWUP, so the
preprocessed commitment is the same (docs/machine.md §8.1). A verifier holding only the ID
and a seal (which carries the preprocessed root and heights) rebuilds the key with
``machine_key_from_parts`` and compares digests: the constraints it checks come from this
code, the fixed columns from the seal, and the ID ties both to the program.
"""

from __future__ import annotations

from functools import lru_cache

from .. import memo
from ..errors import StarkConfigError, UnsupportedProgram
from ..program import Program
from ..stark import DEFAULT, StarkConfig, VerifyingKey, setup
from ..stark.blind import BlindedAir
from ..stark.keys import _max_degree, compile_for, verifying_key_from_parts
from ..stark.verifier_key import build_views, decode_views, encode_views, with_blinded
from .statement import NUM_PUBLIC_VALUES, PROFILE_IDS
from .tables import build_chips, machine_airs

#: the blowup of the preprocessed commitment the image ID names (DEFAULT's and the test preset's)
IMAGE_ID_LOG_BLOWUP = 2

#: content digest (Program.content_digest) → image ID, so every Program object of one ELF
#: pays for the setup once per process
_IDS: dict = {}


def check_image_id_config(config: StarkConfig) -> None:
    """A preset can prove against image IDs only if its blowup is the image ID's."""
    if config.log_blowup != IMAGE_ID_LOG_BLOWUP:
        raise StarkConfigError(
            f"preset {config.name!r} has blowup {config.blowup}, but image IDs fix the preprocessed commitment at "
            f"blowup {1 << IMAGE_ID_LOG_BLOWUP}; use a preset with log_blowup = {IMAGE_ID_LOG_BLOWUP}")


def machine_verifying_key(program: Program, config: StarkConfig = DEFAULT) -> VerifyingKey:
    """Set up the machine AIR for ``program`` (commits the preprocessed tables) and return
    the verifying key."""
    return setup(config, build_chips(program).airs).verifying_key


def machine_image_id(program: Program) -> bytes:
    """The 32-byte image ID (v2) of an sp1-profile program: the circuit digest of the machine's
    verifying key for it (same for every preset with blowup 2^IMAGE_ID_LOG_BLOWUP).

    The profile is part of it: every ecall row of the program table names it (program_table.py).
    Raises UnsupportedProgram when the machine AIR cannot represent the program (code above
    0x77E00000); Program.image_id then falls back to its content digest."""
    if program.abi not in PROFILE_IDS:
        raise UnsupportedProgram(f"the machine AIR proves the sp1 and risc0 ABI profiles, not {program.abi!r}")
    key = program.content_digest
    if key not in _IDS:
        # across processes too (pyzkvm/memo.py: kept per code version): a fresh `pyzkvm info`,
        # `prove --backend trace` or `verify --elf` then skips the setup
        stored = memo.get(memo.IMAGE_IDS, memo.program_key(program))
        if stored is None or len(stored) != 32:
            stored = machine_verifying_key(program, DEFAULT).circuit_digest
            memo.put(memo.IMAGE_IDS, memo.program_key(program), stored)
        _IDS[key] = stored
    return _IDS[key]


def remember_image_id(program: Program, vk: VerifyingKey) -> None:
    """Record the ID of a key just set up for ``program`` (saves a second setup, in this
    process and in later ones)."""
    if vk.config.log_blowup == IMAGE_ID_LOG_BLOWUP and program.abi in PROFILE_IDS:
        if program.content_digest not in _IDS:
            memo.put(memo.IMAGE_IDS, memo.program_key(program), vk.circuit_digest)
        _IDS.setdefault(program.content_digest, vk.circuit_digest)


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
    built from the AIRs once (seconds: every chip's DAG) and stored for the next process. A damaged copy (digest mismatch) is rebuilt, not used."""
    key = (_max_degree(config), config.zk)
    if key not in _VIEWS:
        name = verifier_key_name(config)
        stored, pairs = memo.get(VERIFIER_KEYS, name), None
        if stored is not None:
            try:
                pairs = decode_views(stored, machine_airs(), BlindedAir)
            except StarkConfigError:
                pairs = None  # damaged, or written by other code: rebuilt below
        if pairs is None:
            pairs = build_views(_compiled(config), config)
            memo.put(VERIFIER_KEYS, name, encode_views(pairs))
        _VIEWS[key] = tuple(with_blinded(pairs, config))
    return _VIEWS[key]


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
