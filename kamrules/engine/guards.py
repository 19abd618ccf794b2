"""Worker processes that never outlive the run (issue #15, item 11).

`kill -TERM` or `kill -9` of `kamrules evaluate --jobs N` (a CI cancel, `timeout`) used to leave the
forked workers blocked forever. Each worker now asks Linux to kill it when its parent dies
(`prctl(PR_SET_PDEATHSIG, SIGKILL)`), and checks once that the parent did not die before the request
took effect. Elsewhere (macOS, Windows) the request is skipped: the pool's own shutdown still applies.
"""

from __future__ import annotations

import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Pool initializer: end this worker as soon as process `parent` is gone."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl in this libc
            pass
    if os.getppid() != parent:  # the parent died before prctl: nobody will ever collect our result
        os._exit(1)


def worker_pool(jobs: int):
    """A fork-based process pool whose workers die with this process."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"),
                               initializer=die_with_parent, initargs=(os.getpid(),))
