"""Named columns: every chip declares its columns once, as a spec string, and reads them by name.

    CPU = Layout("is_real clk pc a:4")      # a:4 → a0..a3, CPU.a == [idx(a0), ..., idx(a3)]
    CPU.pc   → the column index of pc;  CPU.width → number of columns

The same layout is used by the AIR (``b.main(CPU.pc)``), by trace generation
(``table[:, CPU.pc] = ...``) and by docs/machine.md, so the three cannot drift apart.
"""

from __future__ import annotations


class Layout:
    """Column names → indices for one table (main or preprocessed)."""

    def __init__(self, spec: str):
        self.names: list[str] = []
        self._index: dict[str, int | list[int]] = {}
        for item in spec.split():
            name, _, count = item.partition(":")
            idx: int | list[int]  # a limb group's columns, or one column
            if name in self._index:
                raise ValueError(f"column {name!r} declared twice")
            if count:
                idx = list(range(len(self.names), len(self.names) + int(count)))
                for i, col in enumerate(idx):  # the limbs are also addressable one by one
                    self._index[f"{name}{i}"] = col
                self.names.extend(f"{name}{i}" for i in range(int(count)))
            else:
                idx = len(self.names)
                self.names.append(name)
            self._index[name] = idx

    def __getattr__(self, name: str):
        try:
            return self.__dict__["_index"][name]
        except KeyError:
            raise AttributeError(name) from None

    def adjacent(self, first: str, last: str | None = None) -> slice:
        """The columns ``first`` … ``last`` (default: ``first``'s limb group) as a slice: numpy
        writes a block of adjacent columns in one pass, where a list of indices copies."""
        lo, hi = self._index[first], self._index[last or first]
        lo, hi = (lo[0] if isinstance(lo, list) else lo), (hi[-1] if isinstance(hi, list) else hi)
        return slice(lo, hi + 1)

    @property
    def width(self) -> int:
        return len(self.names)
