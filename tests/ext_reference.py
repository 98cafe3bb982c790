"""An independent reference for F_p^4 = F_p[X]/(X^4 − 11) on Python ints, shared by the tests
that check the field code, FRI, LogUp and the constraint evaluator against it."""

from pyzkvm.stark.field import P

W = 11  # X^4 = W


def rmul(a, b) -> list:
    """a·b for coefficient lists (schoolbook product, X^4 = W folded in)."""
    prod = [0] * 7
    for i in range(4):
        for j in range(4):
            prod[i + j] += a[i] * b[j]
    return [(prod[k] + W * (prod[k + 4] if k + 4 < 7 else 0)) % P for k in range(4)]
