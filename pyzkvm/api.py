"""The library API: prove a run of a program, verify a receipt against an image ID.

    import pyzkvm
    program = pyzkvm.Program.from_elf("guests/bin/fibonacci.elf")
    receipt = pyzkvm.prove(program, [pyzkvm.inputs.u32(10)])
    pyzkvm.verify(receipt, program.image_id)
"""

from __future__ import annotations

import os
from typing import Sequence

from .backends import default_backend_name, get_backend
from .backends.base import check_image_and_journal, refuse_unless_dev_mode
from .errors import (
    BackendError,
    BackendUnavailable,
    UsageError,
    VerificationError,
)
from .program import Program
from .receipt import Claim, Receipt


def execute(program, inputs: Sequence[bytes] = (), **options):
    """Run ``program`` on ``inputs`` (the hint stream) and return its Execution (journal, exit code, ...)."""
    from .executor import execute as _execute

    return _execute(_as_program(program), _as_inputs(inputs), **options)


def prove(program, inputs: Sequence[bytes] = (), backend: str | None = None, **options) -> Receipt:
    """Run ``program`` on ``inputs`` and return a receipt for the claim the run makes.

    ``backend`` names the prover (default: ``stark`` when available, else ``trace``, whose
    receipts are dev-mode, not proofs). ``options`` go to the backend (e.g. ``progress``).
    A guest that exits non-zero still gets a receipt whose claim carries its exit code.
    """
    program = _as_program(program)
    inputs = _as_inputs(inputs)
    name = backend or default_backend_name()
    prover = get_backend(name)
    availability = prover.availability()
    if not availability:
        raise BackendUnavailable(f"backend {name!r} is not available: {availability.reason}")
    receipt = prover.prove(program, inputs, **options)
    if not isinstance(receipt, Receipt):
        raise BackendError(f"backend {name!r} returned {type(receipt).__name__}, not a Receipt")
    return receipt


def verify(receipt, image_id, dev_mode: bool | None = None, **options) -> Claim:
    """Check that ``receipt`` proves its claim about the program with ``image_id``; return the claim.

    Checks here, for every backend: the claim's image ID equals ``image_id`` and SHA-256 of the
    journal equals the claim's journal digest. Then the receipt's backend checks its seal.
    Dev-mode receipts (``trace``) are refused unless dev mode is on (``dev_mode=True`` or
    PYZKVM_DEV_MODE=1). Raises VerificationError (or DevModeReceiptError) saying what failed.
    ``receipt`` may be a Receipt or its bytes; ``image_id`` 32 bytes, a 64-digit hex string or a Program.
    """
    if isinstance(receipt, (bytes, bytearray, memoryview)):
        receipt = Receipt.from_bytes(receipt)
    if not isinstance(receipt, Receipt):
        raise UsageError(f"verify needs a Receipt or receipt bytes, not {type(receipt).__name__}")
    image_id = as_image_id(image_id)
    check_image_and_journal(receipt, image_id)
    try:
        verifier = get_backend(receipt.backend)
    except UsageError:
        raise VerificationError(f"receipt was made by backend {receipt.backend!r}, which is not installed here") from None
    if not verifier.produces_proofs or receipt.dev_mode:
        # Gate here too, so a dev-mode plug-in that forgets to gate cannot pass for a proof.
        refuse_unless_dev_mode(dev_mode)
        verifier.verify(receipt, image_id, dev_mode=True, **options)
    else:
        verifier.verify(receipt, image_id, **options)
    return receipt.claim


def as_image_id(value) -> bytes:
    """An image ID from 32 bytes, 64 hex digits (optionally 0x-prefixed) or a Program."""
    if isinstance(value, Program):
        return value.image_id
    if isinstance(value, str):
        text = value[2:] if value.lower().startswith("0x") else value
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise UsageError(f"bad image ID {value!r}: not hex; give 64 hex digits") from None
        value = raw
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise UsageError(f"image ID must be 32 bytes or 64 hex digits, not {type(value).__name__}")
    if len(value) != 32:
        raise UsageError(f"bad image ID: {len(value)} bytes, expected 32 (64 hex digits)")
    return bytes(value)


def _as_program(program) -> Program:
    if isinstance(program, Program):
        return program
    if isinstance(program, (str, os.PathLike)):
        return Program.from_elf(program)
    raise UsageError(f"expected a Program or an ELF path, not {type(program).__name__}")


def _as_inputs(inputs) -> list[bytes]:
    if isinstance(inputs, (bytes, bytearray, str)):
        raise UsageError("inputs must be a list of byte strings (one per input element), not one value")
    out = []
    for i, item in enumerate(inputs):
        if not isinstance(item, (bytes, bytearray, memoryview)):
            raise UsageError(
                f"input element {i} is {type(item).__name__}, not bytes: encode it (e.g. pyzkvm.inputs.u32(10))"
            )
        out.append(bytes(item))
    return out
