"""Requests from server threads, run in the drill's own thread (the twin's API, the seat server).

Only the drill's thread touches the drill. A server thread ``put``s an action and ``wait``s for
its result; the drill's thread ``run_pending``s the actions queued since its last step.
An action's own errors of the ``passed`` types reach the caller as they are; any other error
is a bug of that one request: it is logged, the caller gets ``internal(error)``, and the drill
goes on.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class DrillThreadCalls:
    def __init__(self, *, passed: tuple[type[Exception], ...], internal: Callable[[Exception], Exception],
                 what: str) -> None:
        """``what`` names the requests in the log (e.g. "twin request")."""
        self.passed = passed
        self.internal = internal
        self.what = what
        self._inbox: queue.SimpleQueue[tuple[Callable[[], Any], Future[Any]]] = queue.SimpleQueue()

    # server threads -------------------------------------------------------------------------------
    def put(self, action: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        self._inbox.put((action, future))
        return future

    @staticmethod
    def wait(future: Future[T], timeout: float, timed_out: Callable[[], Exception]) -> T:
        try:
            return future.result(timeout)
        except TimeoutError:
            if future.cancel():
                raise timed_out() from None
            return future.result()

    # the drill's thread ---------------------------------------------------------------------------
    def run_pending(self) -> None:
        while True:
            try:
                action, future = self._inbox.get_nowait()
            except queue.Empty:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = action()
            except self.passed as error:
                future.set_exception(error)
            except Exception as error:  # a bug in one request must not stop the drill
                log.warning("%s failed in the drill thread", self.what, exc_info=True)
                future.set_exception(self.internal(error))
            else:
                future.set_result(result)

    def fail_pending(self, error: Callable[[], Exception]) -> None:
        """Answer what still waits with ``error()`` (the server is closing)."""
        while True:
            try:
                _, future = self._inbox.get_nowait()
            except queue.Empty:
                return
            if future.set_running_or_notify_cancel():
                future.set_exception(error())
