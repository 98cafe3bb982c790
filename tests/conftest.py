"""Session-wide settings of the test suite."""

import os
import shutil
import tempfile

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
# earlier run), and the suite writes nothing there. tests/test_memo.py turns it on by itself;
# the commands tests start use a memo of this run's own (below).
from pyzkvm.memo import NO_MEMO_ENV  # noqa: E402

os.environ[NO_MEMO_ENV] = "1"

# The commands tests start (subprocesses) use the memo in a folder of this test run's own
# (tests/command_env.py says why): made once per run (xdist workers inherit it from the
# controller, which made it) and removed by the process that made it, at the end of the run.
from tests.command_env import RUN_MEMO_ENV  # noqa: E402

_MADE_RUN_MEMO = None
if not os.path.isdir(os.environ.get(RUN_MEMO_ENV, "")):
    _MADE_RUN_MEMO = os.environ[RUN_MEMO_ENV] = tempfile.mkdtemp(prefix="pyzkvm-test-memo-")


def pytest_unconfigure(config):
    if _MADE_RUN_MEMO is not None:
        shutil.rmtree(_MADE_RUN_MEMO, ignore_errors=True)
