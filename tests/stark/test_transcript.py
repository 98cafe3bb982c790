"""Fiat–Shamir transcript: determinism, domain separation, sampling ranges and uniformity,
and proof-of-work checked with the reference blake3 package."""

import blake3
import numpy as np
import pytest

from pyzkvm.errors import UsageError
from pyzkvm.stark.field import P
from pyzkvm.stark.transcript import Transcript

ROOT = bytes(range(32))


def _script(t: Transcript):
    t.observe("public values", b"hello journal")
    t.observe_digest("trace root", ROOT)
    t.observe_field("values", np.array([1, 2, P - 1], np.uint32))
    t.observe_ext("ood", np.array([[1, 2, 3, 4], [5, 6, 7, P - 1]], np.uint32))
    return (t.sample_field("alpha"), tuple(t.sample_ext("zeta")), tuple(t.sample_indices("queries", 20, 12)))


def test_prover_and_verifier_agree():
    assert _script(Transcript(b"test")) == _script(Transcript(b"test"))


def test_domain_separation_and_label_binding():
    base = _script(Transcript(b"test"))
    assert _script(Transcript(b"test2")) != base
    # the same concatenated bytes split differently between label and data
    a = Transcript(b"test")
    a.observe("ab", b"c")
    b = Transcript(b"test")
    b.observe("a", b"bc")
    assert a.sample_field("x") != b.sample_field("x")
    c = Transcript(b"test")
    c.observe_field("v", np.array([1, 2], np.uint32))
    d = Transcript(b"test")
    d.observe_field("v", np.array([[1], [2]], np.uint32))
    assert c.state != d.state
    # sampling with another label, or sampling twice, gives different challenges
    e = Transcript(b"test")
    assert e.sample_field("a") != Transcript(b"test").sample_field("b")
    f, g = Transcript(b"test"), Transcript(b"test")
    assert f.sample_field("a") == g.sample_field("a")
    assert f.sample_field("a") != Transcript(b"test").sample_field("a")  # state advanced


def test_copy_is_independent():
    t = Transcript(b"test")
    t.observe("x", b"1")
    u = t.copy()
    assert u.sample_field("c") == t.sample_field("c")
    u.observe("y", b"2")
    assert u.state != t.state


def test_sample_ranges_and_uniformity():
    t = Transcript(b"stats")
    xs = np.array([t.sample_field("x") for _ in range(4000)])
    assert xs.min() >= 0 and xs.max() < P
    # the top bit-range of F_p is hit about as often as a uniform draw would hit it
    frac_high = np.mean(xs >= P // 2)
    assert 0.45 < frac_high < 0.55
    e = t.sample_ext("e")
    assert e.shape == (4,) and e.dtype == np.uint32 and (e < P).all()
    idx = t.sample_indices("q", 20000, 5)
    assert idx.dtype == np.uint32 and idx.min() == 0 and idx.max() == 31
    counts = np.bincount(idx, minlength=32)
    # chi-square with 31 degrees of freedom: the 99.99% quantile is about 70
    chi2 = ((counts - 625.0) ** 2 / 625.0).sum()
    assert chi2 < 70
    assert t.sample_indices("q", 0, 10).shape == (0,)
    assert (t.sample_indices("q", 10, 0) == 0).all()


@pytest.mark.parametrize("bits", [0, 1, 8, 14])
def test_grinding(bits):
    prover = Transcript(b"pow")
    prover.observe_digest("root", ROOT)
    before = prover.state
    nonce = prover.grind(bits)
    # oracle: the reference blake3 on state ‖ nonce (u64 LE)
    h = blake3.blake3(before + nonce.to_bytes(8, "little")).digest()
    assert int.from_bytes(h[:8], "little") < 2 ** (64 - bits)
    # smallest such nonce: every smaller nonce fails the target
    for smaller in range(max(0, nonce - 200), nonce):
        hs = blake3.blake3(before + smaller.to_bytes(8, "little")).digest()
        assert int.from_bytes(hs[:8], "little") >= 2 ** (64 - bits)
    verifier = Transcript(b"pow")
    verifier.observe_digest("root", ROOT)
    assert verifier.check_grinding(nonce, bits) is True
    assert verifier.state == prover.state  # both observed the nonce
    assert verifier.sample_field("after") == prover.sample_field("after")


def test_bad_grinding_nonce_rejected():
    t = Transcript(b"pow")
    nonce = t.copy().grind(12)
    # find a nonce that fails the target on the same state (most do)
    wrong = nonce + 1
    while t.copy().check_grinding(wrong, 12):
        wrong += 1
    assert t.copy().check_grinding(wrong, 12) is False
    assert t.copy().check_grinding(-1, 12) is False
    assert t.copy().check_grinding(2**64, 12) is False
    assert t.copy().check_grinding(nonce, 12) is True


def test_bad_input():
    t = Transcript(b"x")
    with pytest.raises(UsageError):
        t.observe_digest("r", b"short")
    with pytest.raises(UsageError):
        t.observe_field("v", np.array([P], np.uint64))
    with pytest.raises(UsageError):
        t.observe_ext("e", np.zeros((2, 3), np.uint32))
    with pytest.raises(UsageError):
        t.grind(64)
    with pytest.raises(UsageError):
        Transcript("not bytes")


def test_observe_exts_absorbs_as_observe_ext_each():
    """observe_exts = observe_ext of each (label, values) in order: the same state; a value ≥ p
    (or a negative one, whatever the other arrays' dtypes) is refused naming its label."""
    items = [("a", np.array([[1, 2, 3, 4]], np.uint32)), ("b", np.zeros((0, 4), np.uint32)),
             ("c", np.array([[P - 1, 0, 5, 6], [7, 8, 9, 10]], np.int64))]
    one, many = Transcript(b"x"), Transcript(b"x")
    for label, values in items:
        one.observe_ext(label, values)
    many.observe_exts(items)
    assert one.state == many.state
    for bad in (np.array([[P, 0, 0, 0]], np.uint64), np.array([[-1, 0, 0, 0]], np.int64)):
        with pytest.raises(UsageError, match="'bad'"):
            Transcript(b"x").observe_exts([items[0], ("bad", bad)])
