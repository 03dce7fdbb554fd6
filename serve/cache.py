"""A least-recently-used cache of sentence translations, shared by a worker's threads."""
import threading
from collections import OrderedDict
from typing import Hashable

from serve import observability


class LruCache:
    def __init__(self, size: int):
        """`size` entries at most; 0 stores nothing."""
        self.size = size
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable):
        if not self.size:
            return None
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
        observability.CACHE.labels("miss" if value is None else "hit").inc()
        return value

    def put(self, key: Hashable, value) -> None:
        if not self.size:
            return
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
