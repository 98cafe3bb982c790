"""pyzkvm.stark: a multi-table STARK over BabyBear with FRI, BLAKE3 Merkle trees and LogUp buses.

    from pyzkvm.stark import Air, setup, prove, verify, DEFAULT
    pk = setup(DEFAULT, [MyAir()])
    proof = prove(pk, [trace], public_values)
    report = verify(pk.verifying_key, proof.to_bytes(), public_values)

Modules, in protocol order: field, ext, ntt, merkle, transcript (the core); air (write-once
constraints), tape (the one constraint evaluator, numba), logup (buses), keys (setup,
verifying-key digests), rounds (the transcript's round schedule, shared by prover and
verifier), debug (the witness check before proving), prover (one segment), deep
(out-of-domain openings, the DEEP codeword), fri, verifier (one segment), joint (a statement of n ≥ 1 segments:
the proving pipeline and its verifier; ``prove``/``verify`` here are its n = 1 case), proof
(encoding), config (presets and security). See docs/stark.md.
"""

from .air import Air, AirBuilder, Expr
from .config import (BLOWUP2_100_BITS, BLOWUP2_100_BITS_ZK, BLOWUP8_100_BITS, BLOWUP8_100_BITS_ZK, COMPACT,
                     COMPACT_ZK, DEFAULT, DEFAULT_ZK, INSECURE_FAST_FOR_TESTS,
                     INSECURE_FAST_FOR_TESTS_ZK, PRESETS, SecurityEstimate, StarkConfig, preset, security_bits, with_zk)
from .keys import ProvingKey, VerifyingKey, setup
from .proof import Proof, decode_proof, encode_proof
from .joint import debug_check
from .joint import prove_one as prove
from .joint import verify_one as verify
from .verifier import VerificationReport

__all__ = [
    "Air", "AirBuilder", "Expr", "StarkConfig", "SecurityEstimate", "security_bits", "preset", "PRESETS",
    "DEFAULT", "BLOWUP2_100_BITS", "INSECURE_FAST_FOR_TESTS", "DEFAULT_ZK", "BLOWUP2_100_BITS_ZK",
    "INSECURE_FAST_FOR_TESTS_ZK", "COMPACT", "COMPACT_ZK", "BLOWUP8_100_BITS", "BLOWUP8_100_BITS_ZK", "with_zk", "setup", "ProvingKey", "VerifyingKey",
    "prove", "debug_check", "verify", "VerificationReport", "Proof", "encode_proof", "decode_proof",
]
