"""Session-wide settings of the test suite."""

import os

from pyzkvm.cli.progress import QUIET_COMPILE_ENV

# A cold numba cache makes a command say once that it compiles kernels (pyzkvm/cli/progress.py).
# Tests compare commands' stderr, and whether a kernel is cached depends on which tests ran
# first, so the notice is off here (inherited by the commands tests start) and tested by itself.
os.environ[QUIET_COMPILE_ENV] = "1"
