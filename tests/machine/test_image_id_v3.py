"""Image ID v3 (machine/image_id.py): one ID binds the preprocessed commitment at every blowup a
preset may use (4, 8, 16), a seal carries the circuit digests of the blowups it was not proved
at, and the verifier recomputes its own blowup's from the seal's root. The attacks an ID over
several roots invites: a root presented at a blowup the ID binds it for none of, another
program's root or digests, a preset edited to move the proof to another blowup, and the
digests reordered, cut or padded. Each must be refused.

The blowup-16 receipts use a test preset registered for this module only (the compact presets'
blowup with the fast preset's 12 queries: seconds, not a secure proof)."""

from __future__ import annotations

import dataclasses

import numpy as np

import pytest

from pyzkvm.backends import get_backend
from pyzkvm.backends.stark import decode_seal, encode_seal
from pyzkvm.errors import ProofFormatError, StarkConfigError, VerificationError
from pyzkvm.machine import IMAGE_ID_LOG_BLOWUPS, machine_image_id, machine_verifying_key
from pyzkvm.machine.image_id import check_image_id_config, image_id_of, machine_circuit_digests
from pyzkvm.stark import BLOWUP2_100_BITS, BLOWUP8_100_BITS, COMPACT, DEFAULT, INSECURE_FAST_FOR_TESTS, PRESETS
from tests.rvasm import DATA_BASE, halt, program, syscall

FAST = INSECURE_FAST_FOR_TESTS.name
#: the compact presets' blowup at test speed (registered in PRESETS by the `presets` fixture)
FAST16 = dataclasses.replace(INSECURE_FAST_FOR_TESTS, name="insecure_blowup16_for_tests", log_blowup=4)


@pytest.fixture(scope="module")
def presets():
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(PRESETS, FAST16.name, FAST16)
        yield


@pytest.fixture(scope="module")
def stark():
    return get_backend("stark")


@pytest.fixture(scope="module")
def progs():
    """Two programs that journal 4 bytes and differ in one data byte (so in their roots only)."""
    return [program([syscall(0x02, 3, DATA_BASE, 4), halt(0)], data=bytes([0x70, 0x69, 0x6E, k]) + bytes(12))
            for k in (0x21, 0x3F)]


@pytest.fixture(scope="module")
def receipts(presets, stark, progs):
    """(program index, preset name) → its receipt."""
    return {(k, name): stark.prove(progs[k], [], preset=name)
            for k, name in ((0, FAST), (0, FAST16.name), (1, FAST16.name))}


def check(stark, receipt, image_id):
    return stark.verify(receipt, image_id, allow_insecure=True)


def reseal(receipt, **changes):
    """The receipt with seal fields replaced (and the params' preset, which verify compares)."""
    p = decode_seal(receipt.seal)
    p.update(changes)
    seal = encode_seal(p["preset"], p["prep_root"], p["prep_log_heights"], p["has_commit"], p["has_deferred"],
                       p["segments"], others=p["others"])
    return dataclasses.replace(receipt, seal=seal, params={**receipt.params, "preset": p["preset"]})


def test_the_id_hashes_the_circuit_digest_of_every_blowup(progs):
    prog = progs[0]
    digests = machine_circuit_digests(prog)
    assert len(digests) == len(IMAGE_ID_LOG_BLOWUPS) == 3 and len(set(digests)) == 3
    assert machine_image_id(prog) == prog.image_id == image_id_of(digests)
    for config in (DEFAULT, BLOWUP8_100_BITS, COMPACT):  # the presets' own setups give the same digests
        at = IMAGE_ID_LOG_BLOWUPS.index(config.log_blowup)
        assert machine_verifying_key(prog, config).circuit_digest == digests[at]
    check_image_id_config(COMPACT)
    with pytest.raises(StarkConfigError, match="blowup 2"):
        check_image_id_config(BLOWUP2_100_BITS)
    with pytest.raises(StarkConfigError):
        image_id_of(digests[:2])


def test_the_roots_without_setup_are_setups_roots(progs):
    """prep_root.py finishes the tree from the byte table's kept subtree: the same root as
    setup's full commitment at every blowup, for two programs (the second reuses the subtree)."""
    from pyzkvm.machine import prep_root
    from pyzkvm.machine.tables import build_chips

    for prog in progs:
        airs = build_chips(prog).airs
        for b in IMAGE_ID_LOG_BLOWUPS:
            config = dataclasses.replace(INSECURE_FAST_FOR_TESTS, log_blowup=b)
            vk = machine_verifying_key(prog, config)
            assert prep_root.preprocessed_root(config, airs) == (vk.prep_root, vk.prep_log_heights)
    assert len(prep_root._KEPT) >= len(IMAGE_ID_LOG_BLOWUPS)


def test_honest_receipts_at_blowups_4_and_16_verify_against_the_one_id(stark, progs, receipts):
    for (k, name), receipt in receipts.items():
        assert receipt.claim.image_id == progs[k].image_id
        assert len(decode_seal(receipt.seal)["others"]) == 2
        assert check(stark, receipt, progs[k].image_id).preset == name
    with pytest.raises(VerificationError, match="image ID mismatch"):  # the claim names program 1
        check(stark, receipts[(1, FAST16.name)], progs[0].image_id)


def test_a_root_at_a_blowup_the_id_does_not_bind_it_for_is_refused(stark, progs, receipts):
    """The blowup-4 proof's root and digests relabelled as a blowup-16 proof (the seal's preset
    edited): the verifier computes C_16 from a blowup-4 root, which the ID does not hold."""
    r = receipts[(0, FAST)]
    with pytest.raises(VerificationError, match="another program"):
        check(stark, reseal(r, preset=FAST16.name), progs[0].image_id)
    # and the blowup-16 root, placed in the blowup-4 proof
    root16 = decode_seal(receipts[(0, FAST16.name)].seal)["prep_root"]
    with pytest.raises(VerificationError, match="another program"):
        check(stark, reseal(r, prep_root=root16), progs[0].image_id)


def test_another_programs_blowup16_proof_with_this_programs_other_digests_is_refused(stark, progs, receipts):
    """Program 1's honest blowup-16 proof, presented for program 0: its seal's other digests
    (C_4, C_8) replaced by program 0's and the claim's ID too. Its own C_16 is program 1's, so
    the recomputed ID is not program 0's."""
    theirs = receipts[(1, FAST16.name)]
    ours = decode_seal(receipts[(0, FAST16.name)].seal)
    forged = reseal(theirs, others=ours["others"])
    forged = dataclasses.replace(forged, claim=dataclasses.replace(forged.claim, image_id=progs[0].image_id))
    with pytest.raises(VerificationError, match="another program"):
        check(stark, forged, progs[0].image_id)
    # program 1's blowup-16 root copied into program 0's blowup-16 seal
    with pytest.raises(VerificationError, match="another program"):
        check(stark, reseal(receipts[(0, FAST16.name)], prep_root=decode_seal(theirs.seal)["prep_root"]),
              progs[0].image_id)


def test_the_other_digests_are_bound_in_order_and_number(stark, progs, receipts):
    for r in (receipts[(0, FAST)], receipts[(0, FAST16.name)]):
        others = decode_seal(r.seal)["others"]
        for bad in (others[::-1], [others[0], others[0]], [bytes(32), others[1]]):
            with pytest.raises(VerificationError, match="another program"):
                check(stark, reseal(r, others=bad), progs[0].image_id)
        for count in (others[:1], others + [bytes(32)], []):
            with pytest.raises(VerificationError, match="circuit digests of other blowups"):
                check(stark, reseal(r, others=count), progs[0].image_id)


def test_a_preset_edited_within_one_blowup_fails_the_proof(stark, progs, receipts):
    """The same blowup keeps the ID, but the preset's queries are in the verifying key's digest,
    which the transcript observes: the proof does not verify under the edited preset."""
    r = receipts[(0, FAST16.name)]
    with pytest.raises(VerificationError):
        stark.verify(reseal(r, preset=COMPACT.name), progs[0].image_id, min_security_bits=0)
    with pytest.raises((VerificationError, ProofFormatError)):
        stark.verify(reseal(r, preset=BLOWUP8_100_BITS.name), progs[0].image_id, min_security_bits=0)
    # a preset whose blowup no image ID binds (blowup 2): refused before the key is built
    with pytest.raises(VerificationError, match="blowups 4, 8, 16 only"):
        stark.verify(reseal(r, preset=BLOWUP2_100_BITS.name), progs[0].image_id, min_security_bits=0)


def test_the_roots_with_numpy_kernels_are_numbas(progs, monkeypatch, tmp_path):
    """A process without numba (info, verify --elf) commits with numpy (prep_root._kernels): the
    same roots at every blowup, the byte table's level from the package (pyzkvm/shipped.py) or,
    with nothing stored, from its leaves."""
    from pyzkvm import memo
    from pyzkvm.machine import prep_root
    from pyzkvm.machine.tables import build_chips
    from pyzkvm.stark import blake3_numpy, merkle, ntt, ntt_numpy

    numpy_kernels, numba_kernels = (ntt_numpy.coset_lde, blake3_numpy), (ntt.coset_lde, merkle)
    airs = build_chips(progs[0]).airs

    def root(kernels, b):
        monkeypatch.setattr(prep_root, "_KEPT", {})
        monkeypatch.setattr(prep_root, "_kernels", lambda program_log_rows=0: kernels)
        return prep_root.preprocessed_root(dataclasses.replace(INSECURE_FAST_FOR_TESTS, log_blowup=b), airs)

    expected = {b: root(numba_kernels, b) for b in IMAGE_ID_LOG_BLOWUPS}
    assert root(numpy_kernels, 2) == expected[2]  # memo off: the byte table's LDE hashed with numpy
    monkeypatch.setenv(memo.MEMO_DIR_ENV, str(tmp_path))
    monkeypatch.delenv(memo.NO_MEMO_ENV)
    table = next(a for a in airs if a.name == "bytes").preprocessed_trace().astype(np.uint32)
    for b in IMAGE_ID_LOG_BLOWUPS:  # an empty memo: the shipped level
        assert root(numpy_kernels, b) == expected[b]
        shipped_level = prep_root.SHIPPED_LOG_ROWS + b + 1
        assert list(prep_root._KEPT) == [prep_root._level_key(table, dataclasses.replace(DEFAULT, log_blowup=b),
                                                              shipped_level)]  # nothing else read or computed


def test_numpy_commits_only_small_programs_and_only_without_numba(monkeypatch):
    import sys

    from pyzkvm.machine import prep_root
    from pyzkvm.stark import blake3_numpy, merkle

    monkeypatch.setitem(sys.modules, "numba", object())  # a process that has loaded numba (a prove)
    assert prep_root._kernels(0)[1] is merkle
    monkeypatch.delitem(sys.modules, "numba")  # info, verify: numpy, unless the program's tables are tall
    assert prep_root._kernels(prep_root.NUMPY_MAX_LOG_ROWS)[1] is blake3_numpy
    assert prep_root._kernels(prep_root.NUMPY_MAX_LOG_ROWS + 1)[1] is merkle


def test_a_proves_preprocessed_commitment_from_the_memo_is_setups(progs, monkeypatch, tmp_path):
    """prep_root.commit_preprocessed (what a prove's setup uses): the byte table's LDE and its
    own tree levels computed and stored by the first call, mapped from the memo by the next
    (and for the second program): the same LDEs, levels, root and openings as
    keys.commit_preprocessed's; without the memo, or without one table taller than the rest,
    it is keys.commit_preprocessed."""
    from pyzkvm import memo
    from pyzkvm.machine import prep_root
    from pyzkvm.machine.tables import build_chips
    from pyzkvm.stark import keys
    from pyzkvm.stark.keys import check_trace, commit_preprocessed

    monkeypatch.delenv(memo.NO_MEMO_ENV, raising=False)
    monkeypatch.setenv(memo.MEMO_DIR_ENV, str(tmp_path))
    computed: list = []  # the row counts of the LDEs computed
    lde = keys.preprocessed_lde
    monkeypatch.setattr(keys, "preprocessed_lde", lambda t, config: computed.append(t.shape[0]) or lde(t, config))
    indices = np.random.default_rng(3).integers(0, 1 << 18, 40)
    for prog, calls in zip(progs, (2, 1)):
        airs = build_chips(prog).airs
        traces = [check_trace(a, a.preprocessed_trace(), "preprocessed", a.preprocessed_width)
                  if a.preprocessed_width else None for a in airs]
        want_ldes, want = commit_preprocessed(DEFAULT, traces)
        want_rows, want_proof = want.open(indices)
        for _ in range(calls):
            computed.clear()
            ldes, tree = prep_root.commit_preprocessed(DEFAULT, traces)
            assert [l is None for l in ldes] == [l is None for l in want_ldes]
            assert all(np.array_equal(a, b) for a, b in zip(ldes, want_ldes) if a is not None)
            assert len(tree.levels) == len(want.levels) == 19 and tree.root == want.root
            assert all(np.array_equal(a, b) for a, b in zip(tree.levels[1:], want.levels[1:]))
            rows, proof = tree.open(indices)
            assert all(np.array_equal(a, b) for a, b in zip(rows, want_rows, strict=True))
            assert all(np.array_equal(a, b) for a, b in zip(proof.levels, want_proof.levels, strict=True))
        assert 1 << 16 not in computed  # the byte table's from the memo (the first program's first call stored it)
    assert len(list((tmp_path / memo.code_fingerprint()).glob(f"{prep_root.FIXED_COMMITMENTS}-*"))) == 1
    short = [t if t is None or t.shape[0] < 1 << 16 else None for t in traces]  # no fixed table: as setup
    assert prep_root.commit_preprocessed(DEFAULT, short)[1].root == commit_preprocessed(DEFAULT, short)[1].root
