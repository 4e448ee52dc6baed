"""The lifetime every library handle shares: ``close()`` releases it once (thread-safe, safe to call twice),
``with`` closes it, and garbage collection closes what the caller forgot."""
import threading


class Handle:
    """Base of Model, Session and Trainer: owns one library handle and the function that frees it."""

    def _adopt(self, handle, free):
        self._handle = handle
        self._free = free
        self._lock = threading.Lock()

    def close(self):
        """Releases the handle (a model lives on in the sessions made from it). Safe to call twice."""
        with self._lock:
            handle, self._handle = self._handle, None
        if handle:
            self._free(handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # a failed constructor, or interpreter shutdown with the library gone
            pass

    @property
    def closed(self) -> bool:
        return not self._handle
