"""A least-recently-used cache bounded both in entries and in bytes; plain data structure, no threads, no UI.

The training service keeps finished runs here: reopening one is a dictionary lookup. The caller states each
entry's size (see `tensor_bytes`); the cache evicts the least recently used entries until both limits hold. An entry
larger than the byte limit on its own is not kept at all.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable
from typing import Generic, TypeVar

import torch

V = TypeVar("V")


class BoundedCache(Generic[V]):
    def __init__(self, max_entries: int, max_bytes: int):
        if max_entries < 0 or max_bytes < 0:
            raise ValueError(f"Cache limits must be 0 or more, got {max_entries} entries and {max_bytes} bytes")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._bytes = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._items

    @property
    def bytes(self) -> int:
        return self._bytes

    def get(self, key: Hashable) -> V | None:
        """The value (now the most recently used), or None."""
        hit = self._items.get(key)
        if hit is None:
            return None
        self._items.move_to_end(key)
        return hit[0]

    def put(self, key: Hashable, value: V, nbytes: int) -> bool:
        """Keep value under key; False when it alone exceeds a limit (then it is not kept)."""
        self.pop(key)
        if nbytes > self.max_bytes or self.max_entries == 0:
            return False
        self._items[key] = (value, nbytes)
        self._bytes += nbytes
        while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
            _, (_, size) = self._items.popitem(last=False)
            self._bytes -= size
            self.evictions += 1
        return True

    def pop(self, key: Hashable) -> V | None:
        hit = self._items.pop(key, None)
        if hit is None:
            return None
        self._bytes -= hit[1]
        return hit[0]

    def keys(self) -> list[Hashable]:
        """Keys from the least to the most recently used."""
        return list(self._items)


def tensor_bytes(tensors: Iterable[torch.Tensor]) -> int:
    """Bytes held by distinct tensor storages (a tensor seen twice, or two views of one storage, count once)."""
    seen: set[int] = set()
    total = 0
    for t in tensors:
        storage = t.untyped_storage()
        ptr = storage.data_ptr()
        if ptr in seen:
            continue
        seen.add(ptr)
        total += storage.nbytes()
    return total
