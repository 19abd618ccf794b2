"""Worker processes that never outlive the run: a pool for many small tasks
(rendering playbooks), one forked child for one long task (writing one of a million-account run's
large files beside the others), and a forked child per slice of accounts to decide (`fork_map`).

`kill -TERM` or `kill -9` of `kamrules evaluate --jobs N` (a CI cancel, `timeout`) used to leave the
forked workers blocked forever. Each worker now asks Linux to kill it when its parent dies
(`prctl(PR_SET_PDEATHSIG, SIGKILL)`), and checks once that the parent did not die before the request
took effect. Elsewhere (macOS, Windows) the request is skipped: the pool's own shutdown still applies.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import sys
from typing import Callable

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Pool initializer: end this worker as soon as process `parent` is gone. The objects it inherits
    are kept out of the garbage collector's sight (gc.freeze): a collection would write to every one
    of them and so copy the pages the worker shares with its parent."""
    gc.freeze()
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


class Forked:
    """A child process running one function (see `fork_and_run`); `wait` for its end, `stop` it."""

    def __init__(self, pid: int, results: int):
        self.pid: int | None = pid
        self._results: int | None = results

    def wait(self) -> None:
        """Wait for the child; raise the exception it raised (a KamrulesError keeps its message)."""
        results, self._results = self._results, None
        with os.fdopen(results, "rb") as pipe:
            reported = pipe.read()  # empty when the function returned
        pid, self.pid = self.pid, None  # once reaped, its number may belong to another process
        _, status = os.waitpid(pid, 0)
        if reported:
            try:
                error = pickle.loads(reported)
            except Exception:  # an exception that cannot be rebuilt here: its text, as a RuntimeError
                error = RuntimeError(reported.decode("utf-8", "replace"))
            raise error
        if status != 0:
            raise RuntimeError(f"a worker process (pid {pid}) ended without finishing (status {status})")

    def stop(self) -> None:
        """End the child now (the parent failed: its work is not wanted any more); nothing once waited for."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.pid = None
        if self._results is not None:
            os.close(self._results)
            self._results = None


def can_fork() -> bool:
    return hasattr(os, "fork") and sys.platform != "darwin"  # macOS: fork after threads is unsafe


def _fork(produce: Callable[[], bytes | None], on_error: Callable[[BaseException], bytes]) -> tuple[int, int]:
    """Fork a child that runs `produce()` and writes what it returns (bytes, or nothing) to a pipe — on an
    exception, `on_error(exc)` — then exits with os._exit: it never runs the parent's cleanup or flushes
    its buffers, and it dies with the parent. (the child's pid, the pipe's end to read)"""
    results, report = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child (coverage does not follow it)
        status, payload = 0, None
        try:
            os.close(results)
            die_with_parent(parent)  # (and the inherited objects out of the collector's sight)
            payload = produce()
        except BaseException as exc:
            status, payload = 1, on_error(exc)
        try:
            if payload is not None:
                with os.fdopen(report, "wb") as pipe:
                    pipe.write(payload)
        except BaseException:
            pass
        finally:
            os._exit(status)
    os.close(report)
    return pid, results


def _exception_bytes(exc: BaseException) -> bytes:
    """The exception, pickled when it can be read back, else its text."""
    try:
        data = pickle.dumps(exc)
        pickle.loads(data)
        return data
    except Exception:
        return f"{type(exc).__name__}: {exc}".encode("utf-8", "replace")


def fork_and_run(function: Callable[[], None]) -> Forked:
    """Run `function()` in a forked child, which inherits this process's memory (no pickling of the
    work) and dies with it. The child reports an exception back through a pipe."""
    def produce() -> None:
        function()

    return Forked(*_fork(produce, _exception_bytes))


class ForkedCall(Forked):
    """A child process computing one value (see `fork_map`); `result` waits for it."""

    def result(self):
        """The child's return value; the exception it raised, raised here."""
        results, self._results = self._results, None
        with os.fdopen(results, "rb") as pipe:
            reported = pipe.read()
        pid, self.pid = self.pid, None
        _, status = os.waitpid(pid, 0)
        try:
            finished, value = pickle.loads(reported)
        except Exception:  # nothing (it was killed) or something unreadable
            raise RuntimeError(f"a worker process (pid {pid}) ended without finishing (status {status})") from None
        if not finished:
            raise value
        return value


def _fork_call(function: Callable, item) -> ForkedCall:
    def failed(exc: BaseException) -> bytes:
        try:
            payload = pickle.dumps((False, exc))
            pickle.loads(payload)
            return payload
        except Exception:
            return pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))

    return ForkedCall(*_fork(lambda: pickle.dumps((True, function(item))), failed))


def fork_map(function: Callable, items: list) -> list:
    """`[function(item) for item in items]`, each call in a forked child of its own, all at once: the
    children inherit this process's memory (nothing of the work is pickled: `function` may be a
    closure over a million accounts), die with it, and send their result back pickled; an exception in
    one is raised here and the others are stopped. For a few large items (a slice of accounts each)."""
    children = [_fork_call(function, item) for item in items]
    try:
        return [child.result() for child in children]
    finally:
        for child in children:
            child.stop()
