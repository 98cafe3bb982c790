"""Session-wide settings of the test suite."""

import os

from pyzkvm.cli.progress import QUIET_COMPILE_ENV, QUIET_S_ENV

# A cold numba cache makes a command say once that it compiles kernels (pyzkvm/cli/progress.py).
# Tests compare commands' stderr, and whether a kernel is cached depends on which tests ran
# first, so the notice is off here (inherited by the commands tests start) and tested by itself.
os.environ[QUIET_COMPILE_ENV] = "1"

# Likewise, a command that runs past 2 s prints its phase lines (pyzkvm: LABEL: STEP) when stderr
# is not a terminal, and how long a command runs depends on the machine's load: no phase lines
# here, unless a test asks for them (PYZKVM_PROGRESS_AFTER_S=0) to check them.
os.environ[QUIET_S_ENV] = "86400"
