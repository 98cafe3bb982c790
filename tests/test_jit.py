"""pyzkvm/_jit.py's @inner: compiled without numba's Python wrapper, callable from compiled code
only; a call from Python is a TypeError naming the function, not a crash."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from pyzkvm.stark.field import P, f_add


@njit(cache=False)
def _add_in_numba(a, b):
    return f_add(a, b)


def test_an_inner_function_works_from_compiled_code():
    assert int(_add_in_numba(np.uint64(P - 1), np.uint64(2))) == 1


def test_an_inner_function_called_from_python_is_a_type_error():
    with pytest.raises(TypeError, match=r"pyzkvm\.stark\.field\.f_add is compiled for numba code only"):
        f_add(np.uint64(1), np.uint64(2))
