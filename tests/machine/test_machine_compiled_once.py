"""A prove builds each chip's constraint DAG once: trace generation's derived multiplicities
and the debug check (machine/evaluate.compiled_air) use the very compiled AIR that the keys
use (stark/keys.compile_for at the image ID's blowup), in both modes."""

from pyzkvm.machine import machine_airs
from pyzkvm.machine.evaluate import compiled_air
from pyzkvm.stark import DEFAULT, DEFAULT_ZK
from pyzkvm.stark.keys import compile_for


def test_the_evaluator_and_the_keys_share_one_compiled_air():
    for air in machine_airs()[:6]:
        c = compiled_air(air)
        assert c is compile_for(DEFAULT, air) is compile_for(DEFAULT_ZK, air)
        assert compiled_air(air) is c
