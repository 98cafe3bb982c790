"""STARK parameters (FRI blowup, queries, grinding, final polynomial) and their security estimate.

The conjectured security of a FRI-based STARK (ethSTARK, DESIGN.md §4) is the minimum of

* the **query term**  ``log2(blowup)·num_queries + pow_bits``: a cheating prover passes one
  query with probability ≈ 1/blowup (the list-decoding conjecture at rate ρ = 1/blowup), and
  grinding multiplies its work by 2^pow_bits;
* the **field term**  ``log2|F_p^4| − log2(LDE size)``: the out-of-domain point, the DEEP and
  FRI challenges are drawn from F_p^4 (|F_p^4| ≈ 2^123.6), and the union bound over the
  evaluation domain costs log2(LDE size) bits;
* the **hash term**, 128 bits: BLAKE3 collision resistance with 256-bit digests.

Any preset below 100 bits carries "insecure" in its name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import StarkConfigError
from .field import P

#: log2 |F_p^4| = 4·log2(p) ≈ 123.63
EXTENSION_FIELD_BITS = 4 * math.log2(P)
#: collision resistance of 256-bit BLAKE3 digests
HASH_BITS = 128.0


@dataclass(frozen=True)
class StarkConfig:
    """The knobs of one STARK instance (FRI parameters; everything else follows from the AIR).

    log_blowup         LDE domain = trace domain × 2^log_blowup (rate ρ = 2^−log_blowup); it must
                       be at least the number of quotient chunks, 2^⌈log2(max_degree − 1)⌉.
    num_queries        FRI (and trace) query positions.
    pow_bits           proof-of-work bits ground before the queries are drawn.
    log_final_poly_len FRI stops folding when the codeword has 2^log_final_poly_len·blowup
                       entries and sends that polynomial's coefficients in the clear.
    """

    name: str
    log_blowup: int
    num_queries: int
    pow_bits: int
    log_final_poly_len: int

    def __post_init__(self):
        if not 1 <= self.log_blowup <= 6:
            raise StarkConfigError(f"log_blowup={self.log_blowup} is outside 1..6; use 1 (blowup 2) to 3 (blowup 8)")
        if not 1 <= self.num_queries <= 512:
            raise StarkConfigError(f"num_queries={self.num_queries} is outside 1..512")
        if not 0 <= self.pow_bits <= 30:
            raise StarkConfigError(f"pow_bits={self.pow_bits} is outside 0..30")
        if not 0 <= self.log_final_poly_len <= 10:
            raise StarkConfigError(f"log_final_poly_len={self.log_final_poly_len} is outside 0..10")

    @property
    def blowup(self) -> int:
        return 1 << self.log_blowup


@dataclass(frozen=True)
class SecurityEstimate:
    """Conjectured security in bits, with the terms it is the minimum of (DESIGN.md §4)."""

    bits: float
    query_bits: float
    field_bits: float
    hash_bits: float = HASH_BITS

    def __str__(self) -> str:
        return (f"{self.bits:.1f} bits conjectured (queries+PoW {self.query_bits:.1f}, "
                f"field {self.field_bits:.1f}, hash {self.hash_bits:.0f})")


def security_bits(params: StarkConfig, lde_log_size: int) -> SecurityEstimate:
    """bits = min(log2(blowup)·queries + pow_bits, log2|F_p^4| − log2(LDE size), 128)."""
    query = float(params.log_blowup * params.num_queries + params.pow_bits)
    field = EXTENSION_FIELD_BITS - lde_log_size
    return SecurityEstimate(bits=min(query, field, HASH_BITS), query_bits=query, field_bits=field)


# --- presets ---------------------------------------------------------------------------------

#: The default: blowup 4, 44 queries, 16 PoW bits → 104 query bits; the field term is
#: 123.6 − 22 = 101.6 bits at 2^20 trace rows, so ≥ 100 bits for every trace up to 2^20 rows.
#: Blowup 4 allows constraints up to degree 5 (4 quotient chunks).
DEFAULT = StarkConfig("default_100_bits", log_blowup=2, num_queries=44, pow_bits=16, log_final_poly_len=3)

#: SP1-like: blowup 2 (constraint degree ≤ 3), 84 queries + 16 PoW bits = 100 query bits.
#: Cheaper LDE and quotient, bigger proofs.
BLOWUP2_100_BITS = StarkConfig("blowup2_100_bits", log_blowup=1, num_queries=84, pow_bits=16, log_final_poly_len=3)

#: For tests only: ~2·12 = 24 bits. Fast and small; says so in its name.
INSECURE_FAST_FOR_TESTS = StarkConfig("insecure_fast_for_tests", log_blowup=2, num_queries=12, pow_bits=0,
                                      log_final_poly_len=2)

PRESETS = {c.name: c for c in (DEFAULT, BLOWUP2_100_BITS, INSECURE_FAST_FOR_TESTS)}


def preset(name: str) -> StarkConfig:
    """Look a preset up by name ("default_100_bits", "blowup2_100_bits", "insecure_fast_for_tests")."""
    try:
        return PRESETS[name]
    except KeyError:
        raise StarkConfigError(f"unknown STARK preset {name!r}; choose one of {', '.join(PRESETS)}") from None
