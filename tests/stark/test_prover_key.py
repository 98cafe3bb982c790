"""The prover's stored key (stark/prover_key.py, machine/prover_key.py): a stored ProverAir reads
exactly what a freshly compiled AIR gives (counts, names, interactions, digest, next-row
columns, every tape array for array), a damaged memo entry is rebuilt and never used, and a
warm machine proof builds no constraint DAG and keeps its pinned bytes."""

from __future__ import annotations

import numpy as np
import pytest

from pyzkvm import memo, shipped
from pyzkvm.errors import StarkConfigError
from pyzkvm.machine import prover_key as machine_key
from pyzkvm.machine import tables as machine_tables
from pyzkvm.machine.alu import AddSubAir
from pyzkvm.machine.bytes_table import ByteTableAir
from pyzkvm.machine.syscall import JournalWordsAir
from pyzkvm.stark import air as air_module
from pyzkvm.stark.air import compile_air
from pyzkvm.stark.blind import BlindedAir, blinded
from pyzkvm.stark.keys import air_digest
from pyzkvm.stark.openings import next_row_columns
from pyzkvm.stark.prover_key import decode_prover_airs, encode_prover_airs, prover_view
from pyzkvm.stark.tape import build_tape, tape_for

MAX_DEGREE = 5
#: small chips with interactions on the byte, memory and other buses (quick to compile)
SMALL = [AddSubAir, JournalWordsAir, ByteTableAir]


def small_airs() -> list:
    return [cls() for cls in SMALL]


def stored(airs) -> tuple:
    """(bytes, StoredTables) of the machine's key for ``airs``."""
    pairs = []
    for air in airs:
        c = compile_air(air, MAX_DEGREE)
        pairs.append((prover_view(c, machine_key.machine_roots(c)), prover_view(blinded(c, MAX_DEGREE))))
    data = encode_prover_airs(pairs)
    return data, decode_prover_airs(data, [a.name for a in airs])


def same_as_compiled(view, fresh) -> None:
    """Everything a prove reads of ``view`` equals the freshly compiled AIR ``fresh``'s."""
    assert (view.num_aux_columns, view.max_degree, view.log_quotient_chunks) == \
        (fresh.num_aux_columns, fresh.max_degree, fresh.log_quotient_chunks)
    for got, want in ((view.constraints, fresh.constraints), (view.logup_constraints, fresh.logup_constraints)):
        assert [(c.name, c.expr.index) for c in got] == [(c.name, c.expr.index) for c in want]
    assert [(it.bus, it.bus_name, [v.index for v in it.values], it.multiplicity.index, it.sign)
            for it in view.interactions] == \
        [(it.bus, it.bus_name, [v.index for v in it.values], it.multiplicity.index, it.sign) for it in fresh.interactions]
    assert view.interaction_groups == [list(g) for g in fresh.interaction_groups]
    assert view._air_digest == air_digest(fresh)
    want_next = next_row_columns(fresh)
    assert set(view._next_row_columns) == set(want_next)
    for g, cols in want_next.items():
        assert np.array_equal(view._next_row_columns[g], cols)
    assert len(view._tapes._stored) >= 2  # at least the debug check's and the quotient's
    for key in view._tapes._stored:
        got = view._tapes[key]
        want = build_tape(fresh, [fresh.builder.nodes[i] for i in key[0]], "rows")
        for name in ("op", "a", "b", "is_ext", "dstart", "dargs", "roots", "slot"):
            g, w = getattr(got, name), getattr(want, name)
            assert g.dtype == w.dtype and np.array_equal(g, w), (view.air.name, name)
            assert g.flags.writeable and g.flags.aligned  # numba's compiled signature: no new specialisation
        assert (got.nslots, got.constants, got.where) == (want.nslots, want.constants, want.where)


def test_a_stored_key_reads_as_a_freshly_compiled_air():
    airs = small_airs()
    _, tables = stored(airs)
    for air in airs:
        fresh = compile_air(air, MAX_DEGREE)
        view = tables.view(air, lambda air=air: BlindedAir(air), MAX_DEGREE, lambda: None, lambda: None)
        same_as_compiled(view, fresh)
        same_as_compiled(blinded(view, MAX_DEGREE), blinded(fresh, MAX_DEGREE))
        assert view.air is air and blinded(view, MAX_DEGREE).air.base is air



def test_the_interaction_shape_and_send_buses_are_read_without_making_the_interactions():
    """The security estimate counts every proved AIR's interactions and their widest tuple
    (stark/verifier.statement_security), trace generation asks which buses each chip sends on
    (machine/witness.Witness.senders): a stored view gives them from its stored lists, equal to
    the compiled AIR's, and makes no Interaction object for it."""
    from pyzkvm.stark.verifier import _interaction_shape

    airs = small_airs()
    _, tables = stored(airs)
    for air in airs:
        fresh = compile_air(air, MAX_DEGREE)
        view = tables.view(air, lambda air=air: BlindedAir(air), MAX_DEGREE, lambda: None, lambda: None)
        for got, want in ((view, fresh), (blinded(view, MAX_DEGREE), blinded(fresh, MAX_DEGREE))):
            expected = (len(want.interactions), max(1 + len(it.values) for it in want.interactions))
            assert _interaction_shape(got) == expected == _interaction_shape(want), air.name
            assert got.send_buses == frozenset(it.bus for it in want.interactions if it.sign > 0), air.name
            assert "interactions" not in got.__dict__  # read from the stored lists, no objects made
            assert len(got.interactions) == expected[0]  # and the same once they are made

def test_a_root_set_not_stored_is_compiled_for_real():
    air = AddSubAir()
    _, tables = stored([air])
    fresh = compile_air(air, MAX_DEGREE)
    rebuilt = []
    view = tables.view(air, lambda: BlindedAir(air), MAX_DEGREE,
                       lambda: rebuilt.append(1) or compile_air(air, MAX_DEGREE), lambda: None)
    roots = [view.constraints[0].expr, view.interactions[0].multiplicity]  # no tape stored for these two
    got = tape_for(view, roots)
    want = build_tape(fresh, [fresh.builder.nodes[r.index] for r in roots])
    assert rebuilt == [1] and np.array_equal(got.op, want.op) and np.array_equal(got.a, want.a)


def test_damaged_bytes_are_refused():
    airs = small_airs()
    data, _ = stored(airs)
    names = [a.name for a in airs]
    flipped = bytearray(data)
    flipped[-5] ^= 1
    for bad, why in ((bytes(flipped), "digest"), (b"x" + data[1:], "magic")):
        with pytest.raises(StarkConfigError, match=why):
            decode_prover_airs(bad, names)
    with pytest.raises(StarkConfigError, match="tables"):
        decode_prover_airs(data, names[::-1])


@pytest.fixture
def memo_on(tmp_path, monkeypatch):
    """The memo in a temporary folder, the stored keys of this process forgotten, and fresh
    chip instances (nothing compiled cached on them)."""
    monkeypatch.delenv(memo.NO_MEMO_ENV, raising=False)
    monkeypatch.setenv(memo.MEMO_DIR_ENV, str(tmp_path))
    monkeypatch.setattr(machine_key, "_LOADED", {})
    for cls in machine_tables.CHIPS:
        monkeypatch.delattr(cls, "_shared", raising=False)
    return tmp_path


def test_a_damaged_memo_entry_is_rebuilt_not_trusted(memo_on, monkeypatch):
    monkeypatch.setattr(machine_tables, "machine_airs", small_airs)  # a key of three chips: quick
    monkeypatch.setattr(machine_tables, "CHIPS", SMALL)
    builds = []
    build = machine_key.build_prover_key
    monkeypatch.setattr(machine_key, "build_prover_key", lambda d, *more: builds.append(d) or build(d, *more))
    assert machine_key.stored_for(AddSubAir(), MAX_DEGREE) is None  # none stored: only a prove builds it
    monkeypatch.setattr(machine_key, "_LOADED", {})
    machine_key.ensure_prover_key(MAX_DEGREE)
    [path] = (memo_on / memo.code_fingerprint()).glob(f"{machine_key.PROVER_KEYS}-*")
    assert builds == [MAX_DEGREE]
    monkeypatch.setattr(machine_key, "_LOADED", {})  # a fresh process
    machine_key.ensure_prover_key(MAX_DEGREE)
    assert builds == [MAX_DEGREE]  # intact: loaded, not built
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))
    monkeypatch.setattr(machine_key, "_LOADED", {})
    assert machine_key.stored_for(AddSubAir(), MAX_DEGREE) is None  # damaged: not used
    machine_key.ensure_prover_key(MAX_DEGREE)
    assert builds == [MAX_DEGREE, MAX_DEGREE]  # rebuilt, and stored intact again
    assert path.read_bytes() != bytes(data)
    air = AddSubAir()
    same_as_compiled(machine_key.stored_for(air, MAX_DEGREE), compile_air(air, MAX_DEGREE))


def test_an_optional_chips_tapes_wait_for_its_first_use_then_are_kept(memo_on, monkeypatch):
    monkeypatch.setattr(machine_tables, "machine_airs", small_airs)  # a key of three chips: quick
    monkeypatch.setattr(machine_tables, "CHIPS", SMALL)
    assert JournalWordsAir.optional and not AddSubAir.optional
    machine_key.ensure_prover_key(MAX_DEGREE)  # the key: the journal chip's counts and digest, no tapes
    folder = memo_on / memo.code_fingerprint()
    view = machine_key.stored_for(JournalWordsAir(), MAX_DEGREE)
    assert view.tapes_later and not view._tapes._stored and not machine_key.stored_for(AddSubAir(), MAX_DEGREE).tapes_later
    assert not list(folder.glob(f"{machine_key.CHIP_TAPES}-*"))
    fresh = compile_air(JournalWordsAir(), MAX_DEGREE)
    roots = [c.expr for c in view.constraints]
    got = tape_for(view, roots)  # its first use: the chip compiled for real, its tapes stored apart
    want = build_tape(fresh, [fresh.builder.nodes[r.index] for r in roots])
    assert np.array_equal(got.op, want.op) and np.array_equal(got.a, want.a) and np.array_equal(got.slot, want.slot)
    [path] = folder.glob(f"{machine_key.CHIP_TAPES}-*")
    monkeypatch.setattr(machine_key, "_LOADED", {})  # a fresh process: its tapes come from the memo
    reads: list = []
    get = memo.get
    monkeypatch.setattr(memo, "get", lambda namespace, key: reads.append(namespace) or get(namespace, key))
    again = machine_key.stored_for(JournalWordsAir(), MAX_DEGREE)
    assert machine_key.CHIP_TAPES not in reads  # not before a tape is looked up: a run without the table reads none
    key = (tuple(r.index for r in roots), "rows")
    assert key in again._tapes and reads.count(machine_key.CHIP_TAPES) == 1
    blind = blinded(again, MAX_DEGREE)._tapes
    assert ((), "rows") not in blind and blind._stored  # its first lookup: from the same file
    monkeypatch.setattr(machine_key, "compile_air", None)  # read from the file: nothing compiled
    same_as_compiled(again, fresh)
    same_as_compiled(blinded(again, MAX_DEGREE), blinded(fresh, MAX_DEGREE))
    assert reads.count(machine_key.CHIP_TAPES) == 1  # once for the chip and its blinded twin
    monkeypatch.setattr(machine_key, "compile_air", compile_air)
    data = bytearray(path.read_bytes())  # damaged: not used, built again on first use
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))
    monkeypatch.setattr(machine_key, "_LOADED", {})
    damaged = machine_key.stored_for(JournalWordsAir(), MAX_DEGREE)
    assert np.array_equal(tape_for(damaged, roots).op, want.op)
    assert decode_prover_airs(path.read_bytes(), [JournalWordsAir.name]) is not None  # stored intact again


def test_an_unwritable_memo_builds_no_key(memo_on, monkeypatch):
    blocker = memo_on / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(memo.MEMO_DIR_ENV, str(blocker))  # a file, not a folder: nothing can be written
    monkeypatch.setattr(machine_key, "build_prover_key", lambda d, *more: pytest.fail("built a key it cannot keep"))
    machine_key.ensure_prover_key(MAX_DEGREE)
    assert machine_key.stored_for(AddSubAir(), MAX_DEGREE) is None  # the chips compile as before


def test_a_patched_or_subclassed_chip_is_compiled_for_real(memo_on, monkeypatch):
    class Wider(AddSubAir):
        pass

    assert machine_key.stored_for(Wider(), MAX_DEGREE) is None  # not a registered chip class
    monkeypatch.setattr(AddSubAir, "constraints", lambda self, b: None)
    assert machine_key.stored_for(AddSubAir(), MAX_DEGREE) is None  # constraints not pyzkvm's own
    monkeypatch.setenv(memo.NO_MEMO_ENV, "1")
    assert machine_key.stored_for(JournalWordsAir(), MAX_DEGREE) is None  # memo off


def test_the_first_prove_stores_the_verifier_keys_a_verify_then_loads(memo_on, monkeypatch):
    from pyzkvm.machine import image_id
    from pyzkvm.stark import INSECURE_FAST_FOR_TESTS as FAST, INSECURE_FAST_FOR_TESTS_ZK as FAST_ZK
    from pyzkvm.stark.verifier_key import build_views, encode_views

    monkeypatch.setattr(machine_tables, "machine_airs", small_airs)  # a key of three chips: quick
    monkeypatch.setattr(machine_tables, "CHIPS", SMALL)
    monkeypatch.setattr(image_id, "machine_airs", small_airs)
    monkeypatch.setattr(image_id, "_compiled", lambda config: tuple(compile_air(a, MAX_DEGREE) for a in small_airs()))
    monkeypatch.setattr(image_id, "_VIEWS", {})
    monkeypatch.setattr(shipped, "_stored", lambda namespace, key: None)  # a package that ships no keys
    machine_key.ensure_prover_key(MAX_DEGREE)  # the first prove: stores the prover key and both verifier keys
    configs = (FAST, FAST_ZK)
    assert {image_id.verifier_key_memo_name(MAX_DEGREE, c.zk) for c in configs} == {
        image_id.verifier_key_name(c) for c in configs}  # the names a verifier of these presets reads
    stored = {c.zk: memo.get(image_id.VERIFIER_KEYS, image_id.verifier_key_name(c)) for c in configs}
    for c in configs:  # exactly what a verifier would build from the chips
        assert stored[c.zk] == encode_views(build_views([compile_air(a, MAX_DEGREE) for a in small_airs()], c))

    build = air_module.AirBuilder.__init__

    def no_dag(self, air):
        raise AssertionError(f"a verify after a prove built the constraint DAG of {air.name!r}")

    monkeypatch.setattr(air_module.AirBuilder, "__init__", no_dag)
    for c in configs:  # a fresh verifier process: loaded, nothing compiled
        views = image_id.machine_verifier_airs(c)
        assert [v.air.name for v in views] == [a.name for a in small_airs()]

    # a damaged stored key is rebuilt from the chips, not trusted
    monkeypatch.setattr(air_module.AirBuilder, "__init__", build)
    [path] = [p for p in (memo_on / memo.code_fingerprint()).glob(f"{image_id.VERIFIER_KEYS}-*")
              if p.read_bytes() == stored[True]]
    damaged = bytearray(stored[True])
    damaged[len(damaged) // 2] ^= 0x40
    path.write_bytes(bytes(damaged))
    monkeypatch.setattr(image_id, "_VIEWS", {})
    rebuilt = image_id.machine_verifier_airs(FAST_ZK)
    assert encode_views([(v, v._blinded[1]) for v in rebuilt]) == stored[True]
    assert path.read_bytes() == stored[True]  # stored intact again


def test_a_prove_stores_the_verifier_key_of_its_own_mode(memo_on, monkeypatch):
    from pyzkvm.machine import image_id

    monkeypatch.setattr(machine_tables, "machine_airs", small_airs)
    monkeypatch.setattr(machine_tables, "CHIPS", SMALL)
    monkeypatch.setattr(shipped, "_stored", lambda namespace, key: None)  # a package that ships no keys
    machine_key.ensure_prover_key(MAX_DEGREE, zk_modes=(True,))  # a hiding prove
    assert memo.get(image_id.VERIFIER_KEYS, image_id.verifier_key_memo_name(MAX_DEGREE, True)) is not None
    assert memo.get(image_id.VERIFIER_KEYS, image_id.verifier_key_memo_name(MAX_DEGREE, False)) is None


def test_a_prove_builds_no_verifier_key_the_package_ships(memo_on, monkeypatch):
    from pyzkvm.machine import image_id

    monkeypatch.setattr(machine_tables, "machine_airs", small_airs)
    monkeypatch.setattr(machine_tables, "CHIPS", SMALL)
    transparent = image_id.verifier_key_memo_name(MAX_DEGREE, False)
    asked = []

    def ships_the_transparent_key(namespace, key):
        asked.append((namespace, key))
        return (b"shipped", False) if (namespace, key) == (image_id.VERIFIER_KEYS, transparent) else None

    monkeypatch.setattr(shipped, "_stored", ships_the_transparent_key)  # what get and has read
    machine_key.ensure_prover_key(MAX_DEGREE)
    assert (image_id.VERIFIER_KEYS, transparent) in asked
    assert memo.get(image_id.VERIFIER_KEYS, transparent) is None  # a verify reads the package's copy
    assert memo.get(image_id.VERIFIER_KEYS, image_id.verifier_key_memo_name(MAX_DEGREE, True)) is not None


@pytest.mark.slow
def test_a_warm_machine_proof_builds_no_dag_and_keeps_its_bytes(memo_on, monkeypatch):
    from pyzkvm.stark import INSECURE_FAST_FOR_TESTS_ZK, prove, setup, verify
    from tests.machine.machine_helpers import run_machine
    from tests.rvasm import DATA_BASE, halt, syscall
    from tests.test_known_answers import MACHINE_PROOF, machine_proof

    def both_proofs():
        assert machine_proof() == MACHINE_PROOF  # transparent: the pinned bytes
        # hiding mode proves the blinded AIRs: their views come from the key too
        chips, tables, _ = run_machine([syscall(0x02, 3, DATA_BASE, 4), halt(7)], data=b"pin!" + bytes(12))
        pk = setup(INSECURE_FAST_FOR_TESTS_ZK, chips.airs)
        return pk, tables, prove(pk, tables.in_order(chips), tables.public_values, public_data=tables.public_data,
                                 zk_seed=1)

    machine_key.ensure_prover_key(MAX_DEGREE)  # the first prove after a code change stores the key,
    both_proofs()  # and the optional chips a proof uses store their tapes then (stored_for)
    monkeypatch.setattr(machine_key, "_LOADED", {})  # a fresh process: loads it
    for cls in machine_tables.CHIPS:
        monkeypatch.delattr(cls, "_shared", raising=False)
    build = air_module.AirBuilder.__init__
    allowed = []

    def no_dag(self, air):
        if not allowed:
            raise AssertionError(f"a warm prove built the constraint DAG of {air.name!r}")
        build(self, air)

    monkeypatch.setattr(air_module.AirBuilder, "__init__", no_dag)
    pk, tables, proof = both_proofs()
    allowed.append(True)  # the verifier's point tapes are not in the prover's key: it compiles them
    verify(pk.verifying_key, proof, tables.public_values, tables.public_data)


VERIFY_CHILD = """
import json, sys
from pyzkvm.stark import air

def no_dag(self, a):
    raise AssertionError(f"a verify after a prove built the constraint DAG of {a.name!r}")

air.AirBuilder.__init__ = no_dag
from pyzkvm.cli import main
status = main(sys.argv[1:])
print(json.dumps([status, "numba" in sys.modules]))
"""


@pytest.mark.slow
def test_a_fresh_verify_after_a_fresh_prove_builds_no_dag_and_loads_no_numba(tmp_path):
    import json
    import os
    import re
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    elf, receipt = str(root / "guests" / "bin" / "fibonacci.elf"), str(tmp_path / "fib.receipt")
    env = dict(os.environ, PYTHONPATH=str(root), PYZKVM_MEMO_DIR=str(tmp_path / "memo"))
    env.pop("PYZKVM_NO_MEMO", None)
    # the first prove (its kernels from this checkout's numba cache: only the memo is new)
    proved = subprocess.run([sys.executable, "-m", "pyzkvm", "prove", elf, "--input", "u32:10", "-o", receipt],
                            cwd=root, env=env, capture_output=True, text=True, check=True)
    image_id = re.search(r"image ID:\s+([0-9a-f]{64})", proved.stdout).group(1)
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "empty-numba-cache")  # the verify: nothing compiled, nothing cached
    for how in (["--elf", elf], ["--image-id", image_id]):
        out = subprocess.run([sys.executable, "-c", VERIFY_CHILD, "verify", receipt, *how], cwd=root, env=env,
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr[-2000:]
        assert json.loads(out.stdout.splitlines()[-1]) == [0, False]
