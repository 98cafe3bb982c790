"""stark/gc_pause.py: the cycle collector is paused inside, and back on afterwards."""

import gc

import pytest

from pyzkvm.stark.gc_pause import without_cycle_collection


def test_collector_is_paused_inside_and_restored_after_return_and_raise():
    seen = []

    @without_cycle_collection
    def inner():
        seen.append(gc.isenabled())

    @without_cycle_collection
    def outer(fail):
        inner()  # reentrant: the inner call leaves the collector off
        seen.append(gc.isenabled())
        if fail:
            raise ValueError("boom")
        return 7

    assert gc.isenabled()
    assert outer(False) == 7
    with pytest.raises(ValueError):
        outer(True)
    assert seen == [False, False, False, False]
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_caller_stays_off():
    gc.disable()
    try:
        assert without_cycle_collection(lambda: 1)() == 1
        assert not gc.isenabled()
    finally:
        gc.enable()
