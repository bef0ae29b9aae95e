"""Token-bucket rate limiting for outgoing HTTP calls.

The bucket refills continuously; callers block until a token is free.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import RateLimited
from .metrics import (
    counter,
    histogram,
)

DEFAULT_RATE = 5.0
DEFAULT_BURST = 10
_waits = histogram("ratelimit_wait_seconds")


@dataclass
class Bucket:
    """A token bucket shared by threads."""

    rate: float = DEFAULT_RATE
    burst: int = DEFAULT_BURST
    tokens: float = field(default=DEFAULT_BURST)
    updated: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
        self.updated = now

    def take(self, timeout: float | None = None) -> float:
        """Take one token, waiting at most ``timeout`` seconds.

        Returns the time spent waiting.
        """
        start = time.monotonic()
        while True:
            with self.lock:
                now = time.monotonic()
                self.refill(now)
                if self.tokens >= 1:
                    self.tokens -= 1
                    waited = now - start
                    _waits.observe(waited)
                    return waited
                missing = (1 - self.tokens) / self.rate
            if timeout is not None and now - start + missing > timeout:
                counter("ratelimit_rejected").inc()
                raise RateLimited(f"no token within {timeout:.1f}s")
            time.sleep(missing)


class Limiter:
    """One bucket per host."""

    def __init__(self, rate: float = DEFAULT_RATE, burst: int = DEFAULT_BURST) -> None:
        self._rate = rate
        self._burst = burst
        self._buckets: dict[str, Bucket] = {}
        self._lock = threading.Lock()

    def bucket(self, host: str) -> Bucket:
        with self._lock:
            found = self._buckets.get(host)
            if found is None:
                found = self._buckets[host] = Bucket(self._rate, self._burst)
            return found

    @staticmethod
    def host_of(url: str) -> str:
        return url.split("/")[2] if "://" in url else url

    def wrap(self, send: Callable[[str], bytes]) -> Callable[[str], bytes]:
        def limited(url: str) -> bytes:
            self.bucket(self.host_of(url)).take()
            return send(url)

        return limited


def limited_get(url: str, *, limiter: Limiter | None = None, timeout: float = 10.0) -> bytes:
    """GET ``url`` once the host's bucket allows it."""
    import urllib.request

    limiter = limiter or Limiter()
    limiter.bucket(Limiter.host_of(url)).take(timeout)
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()
