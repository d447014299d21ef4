"""``threads(n)``: the thread count for reductions, as a context manager or a plain call."""

from types import TracebackType

from ._native import get_num_threads, set_num_threads


class threads:  # lower case: called as a function, as threadpoolctl's threadpool_limits
    """Use ``n`` threads for reductions, from this call on; a ``with`` block restores the old
    count at its end.

    As threadpoolctl's ``threadpool_limits``: the count is set when ``threads(n)`` is called,
    so a plain ``sw.threads(1)`` (no ``with``) takes effect too, until ``.restore()`` (it used
    to be a generator-based context manager, which a plain call left without effect, silently).

    The setting is process-wide (like threadpoolctl's limits): reductions started by other
    Python threads use ``n`` threads too. Results do not depend on it: every reduction gives
    the same bits for any thread count.
    """

    def __init__(self, n: int) -> None:
        self._old = get_num_threads()
        set_num_threads(n)

    def restore(self) -> None:
        """Set the thread count back to what it was before this call."""
        set_num_threads(self._old)

    def __enter__(self) -> "threads":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.restore()
