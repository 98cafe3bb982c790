"""pyzkvm.stark: a multi-table STARK over BabyBear with FRI, BLAKE3 Merkle trees and LogUp buses.

    from pyzkvm.stark import Air, setup, prove, verify, DEFAULT
    pk = setup(DEFAULT, [MyAir()])
    proof = prove(pk, [trace], public_values)
    report = verify(pk.verifying_key, proof.to_bytes(), public_values)

Modules, in protocol order: field, ext, ntt, merkle, transcript (the core); air (write-once
constraints), logup (buses), keys (setup, verifying-key digests), prover, deep (out-of-domain
openings), ood (the verifier's constraint check at ζ), fri, verifier, proof (encoding), config
(presets and security). See docs/stark.md.
"""

from .air import Air, AirBuilder, Expr
from .config import (BLOWUP2_100_BITS, DEFAULT, INSECURE_FAST_FOR_TESTS, PRESETS, SecurityEstimate, StarkConfig,
                     preset, security_bits)
from .keys import ProvingKey, VerifyingKey, setup
from .proof import Proof, decode_proof, encode_proof
from .prover import debug_check, prove
from .verifier import VerificationReport, verify

__all__ = [
    "Air", "AirBuilder", "Expr", "StarkConfig", "SecurityEstimate", "security_bits", "preset", "PRESETS",
    "DEFAULT", "BLOWUP2_100_BITS", "INSECURE_FAST_FOR_TESTS", "setup", "ProvingKey", "VerifyingKey",
    "prove", "debug_check", "verify", "VerificationReport", "Proof", "encode_proof", "decode_proof",
]
