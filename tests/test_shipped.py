"""The values shipped in pyzkvm/data/ (pyzkvm/shipped.py): current with the code, used only while
the code that computed them is unchanged, and equal to what the code computes now."""

from __future__ import annotations

import pytest

from pyzkvm import memo, shipped
from pyzkvm.errors import StarkConfigError
from pyzkvm.machine import image_id, prep_root
from pyzkvm.stark.blind import BlindedAir
from pyzkvm.stark.verifier_key import decode_views

REWRITE = "the code changed since pyzkvm/data/ was written: run `python -m pyzkvm.shipped` and commit pyzkvm/data/"


@pytest.fixture
def memo_on(monkeypatch, tmp_path):
    monkeypatch.setenv(memo.MEMO_DIR_ENV, str(tmp_path / "memo"))
    monkeypatch.delenv(memo.NO_MEMO_ENV, raising=False)
    return tmp_path


def test_the_manifest_was_written_by_this_code_and_names_every_file():
    manifest = shipped.read_manifest(shipped.DATA)
    assert manifest is not None
    assert not shipped.stale_sources(manifest), f"{shipped.stale_sources(manifest)[:5]}: {REWRITE}"
    recorded = {rel for rel, _ in manifest["sources"]}  # the chips, the AIR compiler, the key's format, the hashes
    assert {"machine/cpu.py", "machine/tables.py", "stark/air.py", "stark/verifier_key.py",
            "stark/blake3_numpy.py", "stark/ntt_numpy.py"} <= recorded
    files = {v["file"] for v in manifest["values"]}
    assert files | {shipped.MANIFEST} == {p.name for p in shipped.DATA.iterdir()}
    keys = [v for v in manifest["values"] if v["namespace"] == image_id.VERIFIER_KEYS]
    assert {bytes.fromhex(v["key"]) for v in keys} == {image_id.verifier_key_name(c) for c in image_id.SHIPPED_KEY_CONFIGS}
    levels = [v for v in manifest["values"] if v["namespace"] == prep_root.FIXED_SUBTREES]
    assert len(levels) == len(image_id.IMAGE_ID_LOG_BLOWUPS) and len(manifest["values"]) == len(keys) + len(levels)


def test_a_shipped_verifier_key_decodes_for_the_machine_tables(memo_on):
    for config in image_id.SHIPPED_KEY_CONFIGS:
        data = shipped.get(image_id.VERIFIER_KEYS, image_id.verifier_key_name(config))
        assert data is not None, REWRITE
        pairs = decode_views(data, image_id.machine_airs(), BlindedAir)
        assert [v.air.name for v, _ in pairs] == [a.name for a in image_id.machine_airs()]
        assert all((b is not None) == config.zk for _, b in pairs)  # hiding: the blinded views too
        with pytest.raises(StarkConfigError, match="tables"):  # other AIRs: refused, then rebuilt
            decode_views(data, image_id.machine_airs()[:3], BlindedAir)


def test_a_value_is_refused_once_a_source_it_was_computed_by_changes(memo_on, monkeypatch):
    folder = memo_on / "data"
    monkeypatch.setattr(shipped, "DATA", folder)
    monkeypatch.setattr(shipped, "values", lambda: [("ns", b"k", b"a value " * 50), ("ns", b"raw", bytes(range(7)))])
    shipped.write(folder)
    assert shipped.get("ns", b"k") == b"a value " * 50 and shipped.get("ns", b"raw") == bytes(range(7))
    assert shipped.get("ns", b"other key") is None  # none shipped
    assert shipped.has("ns", b"k") and not shipped.has("ns", b"other key")

    def rewritten(change) -> None:
        manifest = shipped.read_manifest(folder)
        change(manifest)
        (folder / shipped.MANIFEST).write_text(shipped.json.dumps(manifest))
        shipped._current.cache_clear()

    good = (folder / shipped.MANIFEST).read_text()
    rewritten(lambda m: m["sources"][0].__setitem__(1, "0" * 64))
    assert shipped.get("ns", b"k") is None  # a source file is not what computed it
    assert not shipped.has("ns", b"k")
    (folder / shipped.MANIFEST).write_text(good)
    rewritten(lambda m: m["sources"].append(["gone.py", "0" * 64]))
    assert shipped.get("ns", b"k") is None  # a file that computed it is gone
    (folder / shipped.MANIFEST).write_text(good)
    rewritten(lambda m: None)
    (folder / shipped.file_name("ns", b"k")).write_bytes(b"another value")
    assert shipped.get("ns", b"k") is None  # the file is not the one the manifest records
    assert not shipped.has("ns", b"k")
    assert shipped.get("ns", b"raw") == bytes(range(7))
    monkeypatch.setenv(memo.NO_MEMO_ENV, "1")
    assert shipped.get("ns", b"raw") is None  # the memo off: every value recomputed
    assert not shipped.has("ns", b"raw")


@pytest.mark.slow
def test_the_shipped_values_are_what_the_code_computes(monkeypatch):
    monkeypatch.setenv(memo.NO_MEMO_ENV, "1")  # computed, never read back
    computed = shipped.values()
    monkeypatch.delenv(memo.NO_MEMO_ENV)
    for namespace, key, value in computed:
        assert shipped.get(namespace, key) == value, f"{namespace} {key!r}: {REWRITE}"
