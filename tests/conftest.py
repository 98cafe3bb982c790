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

# The memo of code-derived values (pyzkvm/memo.py: image IDs, optional-table checks) is off:
# every test computes what it checks (a known-answer test must not read a value stored by an
# earlier run), and the suite writes nothing there. tests/test_memo.py turns it on by itself.
from pyzkvm.memo import NO_MEMO_ENV  # noqa: E402

os.environ[NO_MEMO_ENV] = "1"
