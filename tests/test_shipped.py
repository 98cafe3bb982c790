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
    monkeypatch.setenv(memo.MEMO_DIR_ENV, str(tmp_path))
    monkeypatch.delenv(memo.NO_MEMO_ENV, raising=False)
    return tmp_path


def test_every_shipped_file_was_computed_by_this_code():
    files = sorted(shipped.DATA.glob("*.xz"))
    keys = {shipped.path_of(image_id.VERIFIER_KEYS, image_id.verifier_key_name(c)) for c in image_id.SHIPPED_KEY_CONFIGS}
    levels = {p for p in files if p.name.startswith(prep_root.FIXED_SUBTREES)}  # one per image ID blowup
    assert keys <= set(files) and len(levels) == len(image_id.IMAGE_ID_LOG_BLOWUPS) and set(files) == keys | levels
    for path in files:
        header, _ = shipped.read_header(path)
        assert not shipped.stale_sources(header), f"{path.name}: {shipped.stale_sources(header)[:5]}: {REWRITE}"
        recorded = {rel for rel, _ in header["sources"]}  # the chips, the AIR compiler and the key's format
        assert {"machine/cpu.py", "machine/tables.py", "stark/air.py", "stark/verifier_key.py"} <= recorded


def test_a_shipped_verifier_key_decodes_for_the_machine_tables(memo_on):
    for config in image_id.SHIPPED_KEY_CONFIGS:
        data = shipped.get(image_id.VERIFIER_KEYS, image_id.verifier_key_name(config))
        assert data is not None, REWRITE
        pairs = decode_views(data, image_id.machine_airs(), BlindedAir)
        assert [v.air.name for v, _ in pairs] == [a.name for a in image_id.machine_airs()]
        assert all((b is not None) == config.zk for _, b in pairs)  # hiding: the blinded views too
        with pytest.raises(StarkConfigError, match="tables"):  # other AIRs: refused, then rebuilt
            decode_views(data, image_id.machine_airs()[:3], BlindedAir)


def test_a_value_is_refused_once_a_source_it_was_computed_by_changes(memo_on, monkeypatch, tmp_path):
    monkeypatch.setattr(shipped, "DATA", tmp_path)
    value = b"a value computed by memo.py" * 50
    source = ["memo.py", shipped._source_digest("memo.py")]
    shipped.path_of("ns", b"k").write_bytes(shipped.encode("ns", b"k", value, [source]))
    assert shipped.get("ns", b"k") == value
    assert shipped.get("ns", b"other key") is None  # no such file
    shipped.path_of("ns", b"k").write_bytes(shipped.encode("ns", b"k", value, [["memo.py", "0" * 64]]))
    assert shipped.get("ns", b"k") is None  # memo.py is not what computed it
    shipped.path_of("ns", b"k").write_bytes(shipped.encode("ns", b"k", value, [source, ["gone.py", "0" * 64]]))
    assert shipped.get("ns", b"k") is None  # a file that computed it is gone
    shipped.path_of("ns", b"k").write_bytes(shipped.encode("ns", b"other", value, [source]))
    assert shipped.get("ns", b"k") is None  # the file names another key
    shipped.path_of("ns", b"k").write_bytes(shipped.encode("ns", b"k", value, [source])[:-9])
    assert shipped.get("ns", b"k") is None  # truncated
    shipped.path_of("ns", b"k").write_bytes(shipped.encode("ns", b"k", value, [source]))
    monkeypatch.setenv(memo.NO_MEMO_ENV, "1")
    assert shipped.get("ns", b"k") is None  # the memo off: every value recomputed


@pytest.mark.slow
def test_the_shipped_values_are_what_the_code_computes(monkeypatch):
    monkeypatch.setenv(memo.NO_MEMO_ENV, "1")  # computed, never read back
    computed = shipped.values()
    monkeypatch.delenv(memo.NO_MEMO_ENV)
    for namespace, key, value in computed:
        assert shipped.get(namespace, key) == value, f"{namespace} {key!r}: {REWRITE}"
