"""The ``threads(n)`` context manager."""

from collections.abc import Iterator
from contextlib import contextmanager

from ._native import get_num_threads, set_num_threads


@contextmanager
def threads(n: int) -> Iterator[None]:
    """Use ``n`` threads for reductions inside the ``with`` block, then restore the old count.

    The setting is process-wide (like threadpoolctl's limits): reductions started by other
    Python threads while the block runs use ``n`` threads too. Results do not depend on it:
    every reduction gives the same bits for any thread count.
    """
    old = get_num_threads()
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(old)
