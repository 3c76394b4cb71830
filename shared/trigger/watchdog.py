"""The watchdog: an alarm that interrupts whatever call is still running when time is up.

The call policies in shared/adapters/clients.py bound a call by botocore's timeouts, and those do
not bound everything: ``read_timeout`` limits each socket read, not a whole response (a server
that trickles one byte a second never trips it), DNS resolution has no timeout, and an
``x-amz-retry-after`` header stretches botocore's backoff. So the trigger also arms a
real-time alarm for the whole invocation; when it rings, the call in progress is
interrupted and the trigger answers as it does at its deadline.

The alarm is ``SIGALRM``, sent to the main thread by a timer thread. Python runs signal
handlers on the main thread only, between bytecodes and when a blocking system call returns
with EINTR (PEP 475: the call is not retried when the handler raises), so the handler's
exception surfaces inside the blocked socket read, connect or sleep.

Lambda's Python runtime calls the handler on the main thread. Its runtime interface client
(``awslambdaric``; ``lambda_config.py`` names the managed runtimes ``AWS_Lambda_python3.12``
to ``3.14``) loops in ``bootstrap.run`` and calls ``request_handler(event, lambda_context)``
from ``handle_event_request`` on the thread that started it; ``wait_next_invocation`` in
``lambda_runtime_client.py`` even polls from a separate thread so that "the main thread ...
can then process signals". With ``AWS_LAMBDA_MAX_CONCURRENCY`` it starts one process per
slot, each running the same loop on its own main thread. Anywhere else (a test's worker
thread, a host that runs handlers on a thread pool) the watchdog logs once and stands
aside: the call policies still apply.

Limit: a resolver blocked *inside* the C library is interrupted only when it returns
(glibc's ``send_dg`` in ``resolv/res_send.c`` resumes its ``poll`` after EINTR until the
try's own timeout), so DNS is bounded there by ``resolv.conf``'s timeout and attempts.
"""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Protocol, TypeVar

from shared.observability import logger

T = TypeVar("T")

MIN_ALARM_SECONDS = 0.001
"""An alarm already due rings after this."""


class Alarm(Protocol):
    """Calls ``ring`` on the handler's thread ``seconds`` from now, at most once."""

    def usable(self) -> bool:
        """False when the alarm cannot interrupt the calling thread."""
        ...

    def set(self, seconds: float, ring: Callable[[], None]) -> None: ...

    def clear(self) -> None:
        """Cancel the alarm (no-op when it rang or was never set)."""
        ...


class SignalAlarm:
    """``SIGALRM`` sent to the main thread after ``seconds``; usable on the main thread only.

    The signal is thread-directed (``pthread_kill`` from a timer thread), not the
    process-directed one of ``setitimer``: the kernel may hand a process-directed signal to
    any thread, and then the main thread's blocked read is only interrupted when it returns
    by itself (against a server trickling a byte a second, the answer came a second late).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._ring: Callable[[], None] | None = None
        self._previous: Callable[[int, FrameType | None], object] | int | None = None

    def usable(self) -> bool:
        on_main_thread = threading.current_thread() is threading.main_thread()
        return on_main_thread and hasattr(signal, "pthread_kill")

    def set(self, seconds: float, ring: Callable[[], None]) -> None:
        self._previous = signal.signal(signal.SIGALRM, self._on_signal)
        main = threading.main_thread().ident
        assert main is not None
        with self._lock:
            self._ring = ring
            self._timer = threading.Timer(max(seconds, MIN_ALARM_SECONDS), self._send, (main,))
            self._timer.daemon = True
            self._timer.start()

    def clear(self) -> None:
        with self._lock:
            # After this no signal can be sent; one sent before is pending on this thread.
            self._ring = None
            timer, self._timer = self._timer, None
        if timer is None:
            return
        timer.cancel()
        # A system call delivers a pending signal, and this one runs the (now silent)
        # handler before returning, so the previous handler never sees our signal.
        signal.pthread_sigmask(signal.SIG_BLOCK, [])
        previous = self._previous
        signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)

    def _send(self, thread_id: int) -> None:
        with self._lock:
            if self._ring is not None:
                signal.pthread_kill(thread_id, signal.SIGALRM)

    def _on_signal(self, _signum: int, _frame: FrameType | None) -> None:
        ring = self._ring
        if ring is not None:
            self._ring = None  # at most once
            ring()


class _Expired(BaseException):
    """Raised by the alarm inside the blocked call.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` on the way
    (botocore's endpoint hands every Exception to its retry handler, Powertools
    Idempotency deletes its record with another DynamoDB call) turns it into something
    else or makes another call: it goes straight back to :meth:`Watchdog.run`.
    """


class Watchdog:
    """Runs work under an alarm; when it rings the work is interrupted and ``on_expiry``
    answers instead. One per container, one guard at a time (not reentrant); the alarm is
    injectable for tests."""

    def __init__(self, alarm: Alarm | None = None) -> None:
        self._alarm: Alarm = alarm if alarm is not None else SignalAlarm()
        self._armed: object | None = None
        self._said_unusable = False

    def run(self, seconds: float, work: Callable[[], T], on_expiry: Callable[[], T]) -> T:
        """``work()``, or ``on_expiry()`` if ``seconds`` pass first (at once when <= 0).

        ``on_expiry`` runs after the alarm is cleared and outside the interrupted
        call; it may raise. Without a usable alarm, or with infinite time, ``work()`` only.
        """
        if math.isinf(seconds):
            return work()
        if not self._alarm.usable():
            if not self._said_unusable:
                self._said_unusable = True
                logger.warning(
                    "watchdog off: the handler is not on the main thread, so no alarm can "
                    "interrupt a stalled call; botocore's timeouts alone bound the calls"
                )
            return work()
        if seconds <= 0:
            logger.warning("watchdog: no time left to start; answering with what is known")
            return on_expiry()
        token = object()
        self._armed = token
        try:
            try:
                self._alarm.set(seconds, self._ring_for(token))
                result = work()
            finally:
                self._disarm()
        except _Expired:
            # An alarm rings at most once, so nothing interrupts this handler.
            self._disarm()
        else:
            return result
        logger.warning(
            "watchdog: a call was still running when the time was up; interrupted it",
            extra={"alarmSeconds": round(seconds, 3)},
        )
        return on_expiry()

    def postpone(self, seconds: float) -> None:
        """Move the running guard's alarm to ``seconds`` from now (the work has moved to a
        phase with a later end). No-op outside :meth:`run` or once it rang."""
        token = self._armed
        if token is None:
            return
        ring = self._ring_for(token)
        self._alarm.clear()
        self._alarm.set(max(seconds, MIN_ALARM_SECONDS), ring)

    def _ring_for(self, token: object) -> Callable[[], None]:
        def ring() -> None:
            # Only the guard that set it: a signal arriving after the work ended does nothing.
            if self._armed is token:
                self._armed = None
                raise _Expired

        return ring

    def _disarm(self) -> None:
        self._armed = None
        self._alarm.clear()
