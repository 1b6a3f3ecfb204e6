"""Seeded randomness.

Every stream derives from the run's seed through :class:`numpy.random.SeedSequence`
with a fixed path of integers, so a day's content does not depend on how many
numbers another day drew, and nothing depends on set ordering or hash seeds.

:class:`Picker` serves the text composer: it draws uniforms from a numpy
Generator in blocks and hands them out as Python floats, which is an order of
magnitude faster than calling the Generator once per choice.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")

# stream ids (never reorder: they are part of what makes a seed reproducible)
STREAM_PLAN = 1
STREAM_DAY = 2
STREAM_TEXT = 3
STREAM_CURVES = 4
STREAM_FEEDBACK = 5
STREAM_ACCOUNTS = 6


def rng_for(seed: int, *path: int) -> np.random.Generator:
    """A Generator for the stream ``path`` under ``seed``."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), *map(int, path)]))


class Picker:
    """Fast seeded choices for text composition."""

    __slots__ = ("_rng", "_buf", "_i", "_n")

    def __init__(self, rng: np.random.Generator, block: int = 1 << 15):
        self._rng = rng
        self._n = block
        self._buf: list[float] = rng.random(block).tolist()
        self._i = 0

    def u(self) -> float:
        i = self._i
        if i >= self._n:
            self._buf = self._rng.random(self._n).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]

    def chance(self, p: float) -> bool:
        return self.u() < p

    def choice(self, seq: Sequence[T]) -> T:
        return seq[int(self.u() * len(seq))]

    def randint(self, lo: int, hi: int) -> int:
        """Uniform integer in ``[lo, hi]`` inclusive."""
        return lo + int(self.u() * (hi - lo + 1))

    def weighted(self, seq: Sequence[T], cum_weights: Sequence[float]) -> T:
        """Choice with cumulative weights (``itertools.accumulate`` of the weights)."""
        x = self.u() * cum_weights[-1]
        return seq[min(bisect.bisect_right(cum_weights, x), len(seq) - 1)]

    def sample(self, seq: Sequence[T], k: int) -> list[T]:
        """``k`` distinct items (all of them, shuffled, when ``k >= len(seq)``)."""
        items = list(seq)
        n = len(items)
        k = min(k, n)
        for i in range(k):
            j = i + int(self.u() * (n - i))
            items[i], items[j] = items[j], items[i]
        return items[:k]

    def shuffle(self, items: list) -> list:
        n = len(items)
        for i in range(n - 1, 0, -1):
            j = int(self.u() * (i + 1))
            items[i], items[j] = items[j], items[i]
        return items

    def geometric(self, p: float, cap: int) -> int:
        """Number of failures before a success, capped."""
        k = 0
        while k < cap and self.u() >= p:
            k += 1
        return k
