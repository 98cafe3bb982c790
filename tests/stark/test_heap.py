"""stark/heap.py's ordinary_pages: numpy's huge-page advice off while proving, restored after."""

from __future__ import annotations

import numpy as np
import pytest

from pyzkvm.stark import heap


def _advice_now() -> bool:
    switch = heap._multiarray()._set_madvise_hugepage
    before = switch(True)  # read the setting by setting it, then put it back
    switch(before)
    return bool(before)


@pytest.mark.parametrize("start", [True, False])
def test_ordinary_pages_turns_the_advice_off_inside_and_restores_it(start):
    switch = heap._multiarray()._set_madvise_hugepage
    original = switch(start)
    try:
        with heap.ordinary_pages():
            assert _advice_now() is False
            np.zeros(1 << 21, dtype=np.uint32).sum()  # a ≥ 4 MiB array is made and used as before
        assert _advice_now() is start
        with pytest.raises(RuntimeError), heap.ordinary_pages():
            raise RuntimeError("a failed prove")
        assert _advice_now() is start  # restored on the way out of an error too
    finally:
        switch(original)


def test_ordinary_pages_does_nothing_where_numpy_has_no_switch(monkeypatch):
    class NoSwitch:
        pass

    monkeypatch.setattr(heap, "_multiarray", lambda: NoSwitch())
    with heap.ordinary_pages():
        pass

