"""STARK parameters (FRI blowup, queries, grinding, final polynomial) and their security estimate.

The conjectured security of one statement (DESIGN.md §4) is the minimum of these terms, each
an upper bound on a cheating prover's success probability (as −log2), or on its work in
hashes where a proof of work is ground before the challenge:

* **FRI queries + PoW**  ``log2(blowup)·num_queries + pow_bits``: a cheating prover passes
  one query with probability ≈ ρ = 1/blowup (the ethSTARK documentation's conjectured
  soundness of FRI in the list-decoding regime), and the proof of work ground before the queries multiplies
  each retry's cost by 2^pow_bits (ethSTARK documentation, "grinding"). In hiding mode
  (``zk``) FRI's final polynomial has F + 1 coefficients on F·blowup points (F =
  2^log_final_poly_len, zk.final_poly_len), so every layer's code has rate at most
  ρ = (F + 1)/(F·blowup) — the final one exactly, each input and fold at most that — and the
  term is ``log2(1/ρ)·num_queries + pow_bits`` (42 queries at blowup 4, F = 64: 0.94 bits
  below transparent's, which one more PoW bit makes up; the default hiding preset has 41
  queries and three more bits).
* **DEEP/FRI field**  ``log2|F_p^4| − log2(LDE size)``: the out-of-domain point ζ, the DEEP
  coefficients and the FRI folding challenges are drawn from F_p^4 (|F_p^4| ≈ 2^123.6); a bad
  draw has probability ≲ |D|/|F_p^4| for the evaluation domain D (the second term of
  ethSTARK's conjecture; DEEP-ALI, Ben-Sasson et al. 2019). The DEEP combination and FRI's roll-in of
  shorter codewords use **independent** coefficients, one per committed column (prover.py
  step 8, fri.py): a random point of an affine space, for which correlated agreement holds
  with error |D|/|F| (BCIKS20, "Proximity gaps for Reed–Solomon codes", Thm 1.6), so batching
  ~1,000 columns costs nothing here. With powers of one challenge it would be a curve of
  degree m − 1 and cost a factor m − 1 (BCIKS20 Thm 1.5), ~10 bits for the machine. In
  hiding mode the degree bounds FRI proves are h + h/F for an input of h·blowup points (not
  h): the errors that grow with a degree bound (DEEP-ALI's d·bound/|F|) grow by (F + 1)/F,
  and the term subtracts log2((F + 1)/F) (0.02 bits at F = 64).
* **constraint batching**  ``log2|F_p^4| − log2(constraints)``: the quotient combines each
  table's constraints with powers of one α; if some constraint polynomial is not zero, Σ α^i C_i
  is a nonzero polynomial in α of degree < #constraints, so it vanishes with probability
  < #constraints/|F_p^4| (Schwartz–Zippel); union over the tables of one proof.
* **LogUp**  ``log2|F_p^4| − log2(N·(w + 1)) + bus_pow_bits``, N = the statement's bus entries
  (over every segment of a joint statement, every table: height × interactions, plus the
  public entries), w = the widest tuple including its bus id. All entries share one (α, γ)
  (logup.py: fp = bus + Σ_j γ^(j+1)·v_j). An unbalanced multiset survives only if (a) γ makes
  some other tuple's fingerprint collide with an unbalanced one — a nonzero polynomial of
  degree < w in γ, union over < N partners: ≤ (N − 1)·w/|F| — or (b) the nonzero rational
  function Σ_i m_i/(α − fp_i) (distinct fingerprints, its numerator of degree < N) vanishes at
  α: ≤ N/|F|. So ε ≤ N·(w + 1)/|F_p^4| (Haböck 2022, "Multivariate lookups based on
  logarithmic derivatives" (LogUp); Schwartz–Zippel). A proof of work of bus_pow_bits
  ground after every main root is observed and before (α, γ) are drawn (joint.py) makes each
  attempt at a bad pair cost 2^bus_pow_bits hashes (the same grinding argument as for the
  queries; Plonky3 grinds likewise before its commit-phase challenges). The verifier refuses
  N ≥ p (``MAX_BUS_ENTRIES``): multiplicities are field elements, so a tuple missing from a
  table is cancelled by k copies of a ±1 entry only when k ≡ 0 mod p — impossible with fewer
  than p entries, which is what the AIRs' boolean multiplicities rely on.
* **hash**, 128 bits: BLAKE3 collision resistance with 256-bit digests.

**FRI folding arity** (``log_fri_arity``, fri.py) enters no term. A committed layer of arity
2^k is k binary folds f ↦ f_e + β_j·f_o, each with its **own** challenge β_j, of which only
the first one's input codeword is committed: the verifier recomputes the k − 1 skipped codewords' values
from the opened coset of 2^k entries, so a query checks the same chain as in binary FRI with
those layers left uncommitted. Each step is a line in an independent challenge (correlated
agreement for affine spaces, BCIKS20 Thm 1.6: error ≤ |D_j|/|F| for that step, as in binary
FRI, whose per-step errors the field term already lumps into |D|/|F| as ethSTARK's conjecture
does), and the query term is unchanged: a query of arity-2^k FRI makes exactly the checks
of a binary-FRI query whose skipped layers' values the verifier computes itself instead of
reading them from a commitment, so a cheating prover has fewer choices, not more. (Higher
arity is common practice: Miden folds by 4, StarkWare's provers take several binary steps
per layer.) Folding a coset with powers of one β instead, Σ_j β^j·f_j, would be a curve of
degree 2^k − 1 and cost log2(2^k − 1) bits of the field term
(BCIKS20 Thm 1.5): ~2.8 bits at arity 8, which is why each fold draws its own β.

Per-proof terms (queries, DEEP/FRI, constraint batching) are not divided among the segments
of a continuation: each segment has its own transcript, and a grinding attacker pays its work
per attempt on the one segment it attacks. The LogUp term is the statement's: one (α, γ) for
all segments, N counted over all of them.

Any preset below 100 bits carries "insecure" in its name; the verifier's caller decides the
minimum it accepts (``pyzkvm.verify(..., min_security_bits=100)``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..errors import StarkConfigError
from .field import P

#: log2 |F_p^4| = 4·log2(p) ≈ 123.63
EXTENSION_FIELD_BITS = 4 * math.log2(P)
#: collision resistance of 256-bit BLAKE3 digests
HASH_BITS = 128.0
#: the verifier refuses a statement with this many bus entries or more (module docstring:
#: multiplicities are field elements, so entry counts must not wrap modulo p)
MAX_BUS_ENTRIES = P - 1


@dataclass(frozen=True)
class StarkConfig:
    """The knobs of one STARK instance (FRI parameters; everything else follows from the AIR).

    log_blowup         LDE domain = trace domain × 2^log_blowup (rate ρ = 2^−log_blowup); it must
                       be at least the number of quotient chunks, 2^⌈log2(max_degree − 1)⌉.
    num_queries        FRI (and trace) query positions.
    pow_bits           proof-of-work bits ground before the queries are drawn.
    log_final_poly_len FRI stops folding when the codeword has 2^log_final_poly_len·blowup
                       entries and sends that polynomial's coefficients in the clear.
    bus_pow_bits       proof-of-work bits ground before the LogUp challenges (α_bus, γ_bus)
                       are drawn (the LogUp term, module docstring).
    log_fri_arity      FRI folds up to 2^log_fri_arity entries into one per committed layer
                       (fri.py; fewer layers and paths). Each of the layer's binary folds has its
                       own challenge, so the arity changes no term of the estimate (module
                       docstring, "FRI folding arity").
    max_log_height     the tallest table (log2 rows) the prover makes and the verifier accepts;
                       None: as tall as the field's two-adicity allows (27 − log_blowup). A
                       secure preset stops where the DEEP/FRI field term would drop below 100.
    zk                 hiding mode (zk.py): every witness-bearing polynomial is randomised and
                       its Merkle leaves salted, so a proof reveals nothing about the witness.
                       FRI's final polynomial then has F + 1 coefficients (F =
                       2^log_final_poly_len), so a table of n ≥ F·m_r rows is committed on
                       n·blowup points with degree bound n + n/F (a shorter one on D·blowup,
                       D ≥ 2n: zk.py), and the query term counts rate (F + 1)/(F·blowup).
    """

    name: str
    log_blowup: int
    num_queries: int
    pow_bits: int
    log_final_poly_len: int
    bus_pow_bits: int = 0
    max_log_height: int | None = None
    log_fri_arity: int = 1
    zk: bool = False

    def __post_init__(self):
        if not 1 <= self.log_blowup <= 6:
            raise StarkConfigError(f"log_blowup={self.log_blowup} is outside 1..6; use 1 (blowup 2) to 4 (blowup 16)")
        if not 1 <= self.num_queries <= 512:
            raise StarkConfigError(f"num_queries={self.num_queries} is outside 1..512")
        if not 0 <= self.pow_bits <= 30:
            raise StarkConfigError(f"pow_bits={self.pow_bits} is outside 0..30")
        if not 0 <= self.bus_pow_bits <= 30:
            raise StarkConfigError(f"bus_pow_bits={self.bus_pow_bits} is outside 0..30")
        if not 1 <= self.log_fri_arity <= 4:
            raise StarkConfigError(f"log_fri_arity={self.log_fri_arity} is outside 1..4 (FRI folding arity 2 to 16)")
        if not 0 <= self.log_final_poly_len <= 10:
            raise StarkConfigError(f"log_final_poly_len={self.log_final_poly_len} is outside 0..10")
        if self.max_log_height is not None and not 2 <= self.max_log_height <= self._height_cap:
            raise StarkConfigError(f"max_log_height={self.max_log_height} is outside 2..{self._height_cap}")

    @property
    def _height_cap(self) -> int:
        # hiding mode commits degree-2n polynomials: one bit of two-adicity goes to them
        return 27 - self.log_blowup - (1 if self.zk else 0)

    @property
    def log_height_limit(self) -> int:
        """The tallest table allowed, log2 rows (max_log_height, else as tall as the field allows)."""
        return self._height_cap if self.max_log_height is None else self.max_log_height

    @property
    def blowup(self) -> int:
        return 1 << self.log_blowup


@dataclass(frozen=True)
class SecurityEstimate:
    """Conjectured security in bits: the minimum of named terms (module docstring, DESIGN.md §4).

    ``terms``: (name, bits) pairs, in the order the module docstring gives them; a term that
    does not apply (no buses, one constraint) is absent."""

    bits: float
    terms: tuple

    def term(self, name: str) -> float | None:
        """The bits of the term called ``name``, None if absent."""
        return dict(self.terms).get(name)

    def _always(self, name: str) -> float:
        """A term every estimate has (security_bits: queries, field, hash)."""
        bits = self.term(name)
        assert bits is not None, f"a SecurityEstimate without its {name!r} term"
        return bits

    @property
    def query_bits(self) -> float:
        return self._always(QUERIES)

    @property
    def field_bits(self) -> float:
        return self._always(FIELD)

    @property
    def logup_bits(self) -> float | None:
        return self.term(LOGUP)

    @property
    def hash_bits(self) -> float:
        return self._always(HASH)

    @property
    def limiting(self) -> str:
        """The name of the smallest term."""
        return min(self.terms, key=lambda t: t[1])[0]

    def to_json(self) -> dict:
        return {"bits": round(self.bits, 1), "terms": {k: round(v, 1) for k, v in self.terms}}

    def __str__(self) -> str:
        terms = ", ".join(f"{name} {bits:.1f}" for name, bits in self.terms)
        return f"{self.bits:.1f} bits conjectured (min of: {terms})"


QUERIES, FIELD, CONSTRAINTS, LOGUP, HASH = ("FRI queries+PoW", "DEEP/FRI field", "constraint batching", "LogUp",
                                            "hash")


def security_bits(params: StarkConfig, lde_log_size: int, *, bus_entries: int = 0, bus_width: int = 0,
                  constraints: int = 0) -> SecurityEstimate:
    """The estimate for a statement whose largest LDE has 2^lde_log_size points, with
    ``bus_entries`` LogUp entries of tuples up to ``bus_width`` elements (bus id included)
    under one challenge pair, and at most ``constraints`` constraints combined in one proof:

        min( log2(blowup)·queries + pow_bits,               FRI queries + PoW
             log2|F_p^4| − lde_log_size,                      DEEP/FRI field
             log2|F_p^4| − log2(constraints),                 constraint batching (if > 1)
             log2|F_p^4| − log2(N·(w + 1)) + bus_pow_bits,    LogUp (if N > 0)
             128 )                                            hash

    In hiding mode log2(blowup) becomes log2(1/ρ), ρ = (F + 1)/(F·blowup), and the field term
    loses log2((F + 1)/F) (module docstring). A statement with N ≥ p bus entries has no
    estimate (StarkConfigError): the verifier refuses it."""
    if params.zk:  # rate (F + 1)/(F·blowup): FRI's final polynomial has F + 1 coefficients (module docstring)
        f = 1 << params.log_final_poly_len
        rate_loss = math.log2((f + 1) / f)
        terms = [(QUERIES, (params.log_blowup - rate_loss) * params.num_queries + params.pow_bits),
                 (FIELD, EXTENSION_FIELD_BITS - lde_log_size - rate_loss)]
    else:
        terms = [(QUERIES, float(params.log_blowup * params.num_queries + params.pow_bits)),
                 (FIELD, EXTENSION_FIELD_BITS - lde_log_size)]
    if constraints > 1:
        terms.append((CONSTRAINTS, EXTENSION_FIELD_BITS - math.log2(constraints)))
    if bus_entries > 0:
        if bus_entries > MAX_BUS_ENTRIES:
            raise StarkConfigError(f"{bus_entries} bus entries: a statement must have fewer than p = {P}")
        terms.append((LOGUP, EXTENSION_FIELD_BITS - math.log2(bus_entries * (bus_width + 1)) + params.bus_pow_bits))
    terms.append((HASH, HASH_BITS))
    return SecurityEstimate(bits=min(b for _n, b in terms), terms=tuple(terms))


# --- presets ---------------------------------------------------------------------------------

#: The default: blowup 4, 42 queries, 16 PoW bits → 100 query bits (44 queries until the
#: proof-size work of issue 18: 2 queries less is ~4.5 % of the proof, and more grinding
#: would cost the prover ~0.5 s per 4 bits at 2^20 hashes); the field term is
#: 123.6 − 23 = 100.6 bits at 2^21 trace rows (the stark backend's tallest table at DEFAULT);
#: 16 PoW bits before the bus challenges keep the LogUp term ≥ 100 up to the verifier's cap
#: of p − 1 entries for tuples up to 2^8 wide (123.6 − 31 − 8 + 16). Blowup 4 allows
#: constraints up to degree 5 (4 quotient chunks); FRI folds by up to 16 per layer (no term
#: changes: module docstring). ``python -m pyzkvm.stark.security`` prints every term at the
#: largest heights.
DEFAULT = StarkConfig("default_100_bits", log_blowup=2, num_queries=42, pow_bits=16, log_final_poly_len=3,
                      bus_pow_bits=16, max_log_height=21, log_fri_arity=4)

#: SP1-like: blowup 2 (constraint degree ≤ 3), 84 queries + 16 PoW bits = 100 query bits;
#: field term 123.6 − 23 = 100.6 at its tallest tables, 2^22 rows. Cheaper LDE and quotient,
#: bigger proofs.
BLOWUP2_100_BITS = StarkConfig("blowup2_100_bits", log_blowup=1, num_queries=84, pow_bits=16, log_final_poly_len=3,
                               bus_pow_bits=16, max_log_height=22, log_fri_arity=4)

#: Compact proofs (issue 18): blowup 16 and 20 queries + 20 PoW bits = 4·20 + 20 = 100 query
#: bits — under half of DEFAULT's queries, so about half the opened rows and paths — for a 4× larger
#: LDE (slower commits, more memory; the quotient is evaluated on the same 4n points, its
#: chunks capped at 4: keys.MAX_LOG_QUOTIENT_CHUNKS). Field term 123.6 − 23 = 100.6 at its
#: tallest tables, 2^19 rows (LDE 2^23): longer runs are proved in segments of 2^19 cycles.
#: 20 PoW bits (~2^20 BLAKE3 hashes, ~0.2 s) buy one query less than 16 would (21).
#: docs/backend-guide.md has the measured trade-off.
COMPACT = StarkConfig("compact_100_bits", log_blowup=4, num_queries=20, pow_bits=20, log_final_poly_len=3,
                      bus_pow_bits=16, max_log_height=19, log_fri_arity=4)

#: Between DEFAULT and COMPACT: blowup 8, 26 queries + 22 PoW bits = 3·26 + 22 = 100 query
#: bits (22 PoW bits: ~0.7 s of grinding, two queries less than 16 would need), tables up to
#: 2^20 rows (LDE 2^23: field term 100.6), so a 2^20-cycle run is one proof.
BLOWUP8_100_BITS = StarkConfig("blowup8_100_bits", log_blowup=3, num_queries=26, pow_bits=22, log_final_poly_len=3,
                               bus_pow_bits=16, max_log_height=20, log_fri_arity=4)

#: For tests only: ~2·12 = 24 bits, no grinding, tables as tall as the field allows. Fast and
#: small; says so in its name.
INSECURE_FAST_FOR_TESTS = StarkConfig("insecure_fast_for_tests", log_blowup=2, num_queries=12, pow_bits=0,
                                      log_final_poly_len=2, log_fri_arity=3)

#: Hiding (zero-knowledge) twins of the presets above (zk.py). FRI's final polynomial has
#: F + 1 coefficients, F = 2^6 (log_final_poly_len 6, not 3), so a table of n ≥ 64·m_r rows
#: (m_r = 2·queries + 8: 2^13 rows and up at 41 or 42 queries) is committed on n·blowup points, like
#: a transparent one (zk.tall); shorter ones on D·blowup, D ≥ 2n. The rate (F + 1)/(F·blowup)
#: costs queries·log2(65/64) bits of the query term (config.security_bits), made up by one
#: more PoW bit (two for blowup 2: 84 queries lose 1.9 bits): blowup2 82.13 + 18 = 100.13,
#: compact 79.55 + 21 = 100.55, blowup8 77.42 + 23 = 100.42 (a PoW bit costs 2^bits more
#: hashes on average, ~16 M/s on one thread: 4 ms at 16 bits, 0.07 s at 20, 0.26 s at 22 —
#: cheaper for compact and blowup8, the small-proof presets, than a query's ~1/20–1/26 of the
#: opened rows and paths). The default grinds three more bits for one query fewer: 41 queries,
#: 81.08 + 19 = 100.08 (~30 ms of grinding on one thread for ~2.4 % of the proof: session 24,
#: when the syscall chip's soundness columns had brought 2^20-cycle proofs to 343–349 KB). The
#: secure ones stop one table height lower than transparent (a short table's LDE and the
#: quotient domain, d·(n + m_r) points, take a bit of two-adicity), their field term 101.6.
DEFAULT_ZK = replace(DEFAULT, name="default_100_bits_zk", zk=True, max_log_height=20, log_final_poly_len=6,
                     num_queries=41, pow_bits=19)
BLOWUP2_100_BITS_ZK = replace(BLOWUP2_100_BITS, name="blowup2_100_bits_zk", zk=True, max_log_height=21,
                              log_final_poly_len=6, pow_bits=18)
COMPACT_ZK = replace(COMPACT, name="compact_100_bits_zk", zk=True, max_log_height=18, log_final_poly_len=6,
                     pow_bits=21)
BLOWUP8_100_BITS_ZK = replace(BLOWUP8_100_BITS, name="blowup8_100_bits_zk", zk=True, max_log_height=19,
                              log_final_poly_len=6, pow_bits=23)
INSECURE_FAST_FOR_TESTS_ZK = replace(INSECURE_FAST_FOR_TESTS, name="insecure_fast_for_tests_zk", zk=True)

PRESETS = {c.name: c for c in (DEFAULT, BLOWUP2_100_BITS, COMPACT, BLOWUP8_100_BITS, INSECURE_FAST_FOR_TESTS,
                               DEFAULT_ZK, BLOWUP2_100_BITS_ZK, COMPACT_ZK, BLOWUP8_100_BITS_ZK,
                               INSECURE_FAST_FOR_TESTS_ZK)}


def with_zk(config: StarkConfig, zk: bool) -> StarkConfig:
    """The preset's hiding (``zk=True``) or transparent twin; a custom config is copied with
    the flag flipped and ``_zk`` added to / removed from its name."""
    if config.zk == zk:
        return config
    name = config.name + "_zk" if zk else config.name.removesuffix("_zk")
    twin = PRESETS.get(name)
    if twin is not None and twin.zk == zk:
        return twin
    return replace(config, name=name, zk=zk)


def preset(name: str) -> StarkConfig:
    """Look a preset up by name ("default_100_bits", "blowup2_100_bits", "compact_100_bits",
    "blowup8_100_bits", "insecure_fast_for_tests", and each one's hiding twin with "_zk" appended)."""
    try:
        return PRESETS[name]
    except KeyError:
        raise StarkConfigError(f"unknown STARK preset {name!r}; choose one of {', '.join(PRESETS)}") from None
