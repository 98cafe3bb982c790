"""Trace generation for the syscall chips (syscall.py), from the ecall rows and syscall events."""

from __future__ import annotations

import numpy as np

from ..errors import UnsupportedProgram
from ..stark.field import P
from .accesses import Access
from .cpu import TS_MEM
from .memory import memory_key
from .program_table import inverse_or_zero, pad_height, to_bytes
from .syscall import A1, A2, CODES, FDS, HINT_WORDS, JOURNAL_WORDS, KEY_END, KINDS, SYS
from .syscall_verify import assumption_word_rows



def syscall_tables(clk, code, a0, ret, events, journal_start: int = 0, assumptions_start: int = 0):
    """Rows of the syscall, hint-word, journal-word and assumption-word chips for the non-HALT ecalls.

    clk, code, a0, ret: per ecall (in clk order); events: Trace.syscall_events;
    journal_start, assumptions_start: journal bytes written and VERIFY_SP1_PROOF calls made
    before (earlier segments of a continuation).
    Returns (tables dict, memory Access groups)."""
    n = len(clk)
    kind_of = {v: k for k, v in CODES.items()}
    unknown = sorted(set(int(x) for x in code) - set(kind_of))
    if unknown:
        raise UnsupportedProgram(f"syscall code(s) {', '.join(hex(u) for u in unknown)} cannot be proved")
    ev_clk, ev_addr = events["sys_clk"].astype(np.int64), events["sys_addr"].astype(np.int64)
    ev_before, ev_after = events["sys_before"].astype(np.int64), events["sys_after"].astype(np.int64)
    row_of_event = np.searchsorted(clk, ev_clk)  # every event belongs to the ecall at its clk

    def register_value(index):
        out = np.zeros(n, dtype=np.int64)
        sel = ev_addr == index
        out[row_of_event[sel]] = ev_before[sel]
        return out

    t = np.zeros((pad_height(n), SYS.width), dtype=np.int64)
    is_ = {k: code == CODES[k] for k in KINDS}
    for k in KINDS:
        t[:n, getattr(SYS, f"is_{k}")] = is_[k]
    t[:n, SYS.clk] = clk
    t[: n - 1, SYS.clk_d] = to_bytes(np.diff(clk) - 1)[:, :3] if n > 1 else 0
    t[:n, SYS.b], t[:n, SYS.c] = to_bytes(a0), to_bytes(ret)
    vp = is_["verify"]
    reads_a1 = is_["write"] | is_["hint_read"] | is_["commit"] | is_["commit_deferred"] | vp
    a1 = np.where(reads_a1, register_value(A1), 0)
    a2 = np.where(is_["write"], register_value(A2), 0)
    t[:n, SYS.a1], t[:n, SYS.a2] = to_bytes(a1), to_bytes(a2)
    fd = np.where(is_["write"], a0, 0)
    bad_fd = is_["write"] & ~np.isin(fd, FDS)
    if bad_fd.any():
        raise UnsupportedProgram(f"WRITE to fd {int(fd[bad_fd][0])} cannot be proved (provable fds: 1, 2, 3, 13)")
    for f in FDS:
        t[:n, getattr(SYS, f"fd{f}")] = is_["write"] & (fd == f)
    journal = is_["write"] & np.isin(fd, (3, 13))
    if np.any(is_["write"] & (a2 >= 1 << 24)):
        raise UnsupportedProgram("a WRITE of 2^24 bytes or more cannot be proved (the AIR bounds its length below 2^24)")
    ptr = np.where(is_["hint_read"] | vp, a0, np.where(is_["write"], a1, 0))
    t[:n, SYS.ptr] = to_bytes(ptr)
    uses_ptr = is_["hint_read"] | is_["write"] | vp
    t[np.flatnonzero(uses_ptr), np.asarray(SYS.oh)[(ptr & 3)[uses_ptr]]] = 1
    t[:n, SYS.pq] = (ptr & 0xFF) >> 2
    nw = np.where(is_["hint_read"], (a1 + 3) >> 2, 0)
    pad = 4 * nw - np.where(is_["hint_read"], a1, 0)
    t[:n, SYS.nw], t[:n, SYS.pad0], t[:n, SYS.pad1] = nw, pad & 1, pad >> 1
    length = np.where(journal, a2, 0)  # bytes each row appends to the journal
    jw = journal & (length > 0)
    wnz = is_["write"] & (a2 > 0)      # non-empty WRITE (any fd): its buffer is bounds-checked
    end = ptr + np.where(is_["write"], a2, 0) - 1
    t[np.flatnonzero(wnz), np.asarray(SYS.lh)[(end & 3)[wnz]]] = 1
    t[:n, SYS.lw] = np.where(wnz, end >> 2, 0)
    t[:n, SYS.span] = to_bytes(np.where(wnz, (end >> 2) - (ptr >> 2), 0))[:, :3]
    len_sum = to_bytes(a2).astype(np.int64).sum(axis=1)
    t[:n, SYS.nz] = len_sum > 0
    t[:n, SYS.len_inv] = inverse_or_zero(len_sum)
    jpos = journal_start + (np.concatenate([[0], np.cumsum(length)[:-1]]) if n else np.zeros(0, np.int64))
    t[:n, SYS.jpos] = jpos
    if n == 0:
        t[0, SYS.jpos] = journal_start  # no syscall: the first row still states where the journal stands
    high = to_bytes(ptr)[:, 1:].astype(np.int64).sum(axis=1)
    t[:n, SYS.phz] = high != 0
    t[:n, SYS.phinv] = inverse_or_zero(high)
    uses = is_["hint_read"] | wnz | vp
    end_key = np.where(is_["hint_read"], memory_key(ptr) + nw, memory_key(np.maximum(end, 0)) + 1)
    end_key = np.where(vp, memory_key(ptr) + 8, end_key)
    t[:n, SYS.room] = to_bytes(np.where(uses, KEY_END - end_key, 0))
    if np.any(a0[is_["commit"] | is_["commit_deferred"]] >= 8):
        raise UnsupportedProgram("COMMIT index ≥ 8")

    # VERIFY_SP1_PROOF: a1's bounds (its own columns), and apos = the calls before each row
    t[:n, SYS.a1q] = np.where(vp, (a1 & 0xFF) >> 2, 0)
    a1_high = to_bytes(a1)[:, 1:].astype(np.int64).sum(axis=1)
    t[:n, SYS.a1hz] = a1_high != 0
    t[:n, SYS.a1hinv] = inverse_or_zero(a1_high)
    t[:n, SYS.a1room] = to_bytes(np.where(vp, KEY_END - memory_key(a1) - 8, 0))
    apos = assumptions_start + (np.concatenate([[0], np.cumsum(vp)[:-1]]) if n else np.zeros(0, np.int64))
    t[:n, SYS.apos] = apos
    if n == 0:
        t[0, SYS.apos] = assumptions_start
    ts = 4 * clk + 4 + TS_MEM
    groups = [
        Access(t, np.flatnonzero(reads_a1), np.full(int(reads_a1.sum()), A1), ts[reads_a1], a1[reads_a1],
               SYS.a1_prev_ts, SYS.a1_d, None, "a1"),
        Access(t, np.flatnonzero(is_["write"]), np.full(int(is_["write"].sum()), A2), ts[is_["write"]], a2[is_["write"]],
               SYS.a2_prev_ts, SYS.a2_d, None, "a2"),
    ]
    tables = {"syscall": t}

    # ---- hint words: the words HINT_READ wrote -----------------------------------------------
    mem_ev = ev_addr >= 0x20
    sel = mem_ev & is_["hint_read"][row_of_event] if n else np.zeros_like(mem_ev)
    k = int(sel.sum())
    hw = np.zeros((pad_height(k), HINT_WORDS.width), dtype=np.int64)
    hw[:k, HINT_WORDS.active] = 1
    hw[:k, HINT_WORDS.clk] = ev_clk[sel]
    hw[:k, HINT_WORDS.key] = memory_key(ev_addr[sel])
    hw[:k, HINT_WORDS.after] = to_bytes(ev_after[sel])
    owner = row_of_event[sel]  # the HINT_READ row each word belongs to
    last_key = memory_key(ptr[owner]) + nw[owner] - 1
    pad0, pad1 = pad[owner] & 1, pad[owner] >> 1
    hw[:k, HINT_WORDS.last_key], hw[:k, HINT_WORDS.pad0], hw[:k, HINT_WORDS.pad1] = last_key, pad0, pad1
    hw[:k, HINT_WORDS.is_last] = hw[:k, HINT_WORDS.key] == last_key
    hw[:k, HINT_WORDS.inv] = inverse_or_zero(hw[:k, HINT_WORDS.key] - last_key)
    hw[:k, HINT_WORDS.z1], hw[:k, HINT_WORDS.z3] = pad0 & pad1, pad0 | pad1
    groups.append(Access(hw, np.arange(k), hw[:k, HINT_WORDS.key], 4 * ev_clk[sel] + 4 + TS_MEM, ev_after[sel],
                         HINT_WORDS.prev_ts, HINT_WORDS.d, HINT_WORDS.before, "hint word"))
    tables["hint words"] = hw

    # ---- journal words: the words a journal WRITE read ----------------------------------------
    sel = mem_ev & jw[row_of_event] if n else np.zeros_like(mem_ev)
    k = int(sel.sum())
    jt = np.zeros((pad_height(k), JOURNAL_WORDS.width), dtype=np.int64)
    owner = row_of_event[sel]
    key = memory_key(ev_addr[sel])
    first_key = memory_key(ptr[owner] & ~3)
    last_key = memory_key(end[owner] & ~3)
    jt[:k, JOURNAL_WORDS.active] = 1
    jt[:k, JOURNAL_WORDS.clk] = ev_clk[sel]
    jt[:k, JOURNAL_WORDS.key] = key
    jt[:k, JOURNAL_WORDS.w] = to_bytes(ev_before[sel])
    is_first, is_last = key == first_key, key == last_key
    jt[:k, JOURNAL_WORDS.is_first], jt[:k, JOURNAL_WORDS.is_last] = is_first, is_last
    jt[:k, JOURNAL_WORDS.inv] = inverse_or_zero(key - last_key)
    j = np.arange(4)
    fm = (j[None, :] >= (ptr[owner] & 3)[:, None]).astype(np.int64)
    lm = (j[None, :] <= (end[owner] & 3)[:, None]).astype(np.int64)
    jt[:k, JOURNAL_WORDS.fm], jt[:k, JOURNAL_WORDS.lm] = fm, lm
    jt[:k, JOURNAL_WORDS.jbase] = (jpos[owner] - ptr[owner]) % P
    jt[:k, JOURNAL_WORDS.last_key] = last_key
    u = np.where(is_first[:, None], fm, 1)
    jt[:k, JOURNAL_WORDS.u] = u
    jt[:k, JOURNAL_WORDS.e] = u * np.where(is_last[:, None], lm, 1)
    groups.append(Access(jt, np.arange(k), key, 4 * ev_clk[sel] + 4 + TS_MEM, ev_before[sel],
                         JOURNAL_WORDS.prev_ts, JOURNAL_WORDS.d, None, "journal word"))
    tables["journal words"] = jt

    # ---- assumption words: the 16 words each VERIFY_SP1_PROOF read ----------------------------
    sel = mem_ev & vp[row_of_event] if n else np.zeros_like(mem_ev)
    at, group = assumption_word_rows(row_of_event[sel], ev_clk[sel], ev_addr[sel], ev_before[sel], apos)
    groups.append(group)
    tables["assumption words"] = at
    return tables, groups
