"""A stoppable periodic refresh for a widget: a daemon thread, so it never blocks the kernel's shutdown."""
from __future__ import annotations

import threading
from typing import Callable


class Refresher:
    """Calls ``callback`` every ``interval`` real seconds until ``stop()``.

    An exception out of ``callback`` ends the thread (reported by ``threading.excepthook``,
    in the kernel's log) instead of repeating every few seconds.
    """

    def __init__(self, callback: Callable[[], None], interval: float):
        self.callback = callback
        self.interval = interval
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stopped.clear()
        self._thread = threading.Thread(target=self._loop, name="gitopslab-widget-refresh", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stopped.wait(self.interval):
            self.callback()
