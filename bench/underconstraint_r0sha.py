"""Under-constraint scan of RISC Zero's SHA ecall on the SHA chips (docs/machine.md §2.8, §7).

On the honest 3-block run of tests/machine/test_machine_risc0_sha.py (SHA-256 of a 3-block
message in one ecall: compress/extend rows 64·k.. are block k, 192.. padding), the detector
(pyzkvm.machine.undercheck) tries x + 1 in:

* every column of the RISC Zero syscall chip's SHA row (row 0) and of its last (padding) row;
* the columns the RISC Zero mode added to the SHA chips (extend: r0, kb1, kb2, mkey, mv; compress:
  r0, bf, bl, rem, rinv, kout, kin, kb1, kb2, hk, hts, hv0..7) and the o / h_in bytes, on a
  block's first row, its last row, the next block's first row (64 / 127 / 128), the last row
  of the last block (191) and the first padding row (192).

    PYTHONPATH=. NUMBA_NUM_THREADS=1 python bench/underconstraint_r0sha.py
"""

import sys
import time

from pyzkvm.machine import undercheck
from pyzkvm.machine.sha_compress import COMPRESS
from pyzkvm.machine.sha_extend import EXTEND
from pyzkvm.stark.field import P

EXTEND_COLS = [EXTEND.r0, EXTEND.kb1, EXTEND.kb2, EXTEND.mkey, *EXTEND.mv, EXTEND.prev[0], EXTEND.prev_ts]
COMPRESS_COLS = [getattr(COMPRESS, n) for n in ("r0", "bf", "bl", "rem", "rinv", "kout", "kin", "kb1", "kb2", "hk", "hts")]
COMPRESS_COLS += [c for j in (0, 7) for c in (*getattr(COMPRESS, f"hv{j}"), getattr(COMPRESS, f"o{j}")[0],
                                              getattr(COMPRESS, f"h{j}_in")[0], getattr(COMPRESS, f"h{j}_ts"))]
SHA_ROWS = (64, 127, 128, 191, 192)


def main() -> int:
    import hashlib

    from tests.machine.test_machine_risc0_sha import MSG, run
    from tests.machine.test_machine_sha import H0, _padded

    chips, tables = run([("out", "in", 0, 32, 3)], _padded(MSG), H0, hashlib.sha256(MSG).digest())
    s = undercheck.sample("risc0 sha", chips, tables)
    r0 = s.chips["syscall risc0"].trace
    todo = [("syscall risc0", r, c) for r in (0, len(r0) - 1) for c in range(r0.shape[1])]
    todo += [(name, r, c) for name, cols in (("sha extend", EXTEND_COLS), ("sha compress", COMPRESS_COLS))
             for r in SHA_ROWS for c in cols]
    outcomes, t0 = [], time.perf_counter()
    for name, row, c in todo:
        t = s.chips[name]
        outcomes.append(undercheck.try_mutation(s, t, row, {c: (int(t.trace[row, c]) + 1) % P}))
        o = outcomes[-1]
        print(f"{len(outcomes)}/{len(todo)} {name} row {row} {t.names[c]}: {o.status} {o.reason or ''}", file=sys.stderr, flush=True)
    report = undercheck.Report(outcomes, time.perf_counter() - t0)
    print(report.render())
    return 1 if report.undocumented() else 0


if __name__ == "__main__":
    sys.exit(main())
