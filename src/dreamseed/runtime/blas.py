"""How many threads BLAS may use around work that prefers one."""

from __future__ import annotations

import contextlib

from threadpoolctl import threadpool_limits


def one_blas_thread() -> contextlib.AbstractContextManager[object]:
    """BLAS limited to one thread inside the block (the fit statistics).

    Their block products are many mid-sized products; on a busy 2-core machine OpenBLAS's
    second thread waits for a core at every product: measured at M under load average 9, the
    statistics took 5.1–7.6 s wall (2.4–3.4 s CPU) with two threads, 1.1–1.9 s (0.6–0.7 s CPU)
    with one."""
    return threadpool_limits(1, user_api="blas")
