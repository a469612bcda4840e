"""Pages of items kept per worker, as the JSON the reader sends, by the list's items
version.

A list's ``items_prefix_version`` (migration 0008) gets a new random value in the same
transaction as any change to its items other than an append (items added past the
list's newest, which only its last page can show); its ``items_tail``, the highest id
it has held, moves with every append. So a kept page with the version the database
has now - and, for the list's last page, the same tail - is exactly the page a fresh
query would return. For a page it keeps the reader runs a statement that returns the
header alone and whether the kept items still hold (``store.page``): an unchanged list
costs the replica one indexed row and the reader no row decoding or JSON encoding.
That check is in the same statement as the owner's, so a kept page is only ever served
to someone the database has just said may read it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import NamedTuple

from prometheus_client import Counter

# A page of 250 items with long names is about 60 KB: a few hundred pages a worker.
MAX_BYTES = 16 * 1024 * 1024

PAGES = Counter(
    "todo_reader_list_pages_total",
    "List pages answered, by how: kept (the worker's kept items still held) or read (the items read again).",
    ["items"],
)


class PageKey(NamedTuple):
    list_id: int
    status: str
    after: int
    limit: int


class KeptPage(NamedTuple):
    items_version: str
    items_tail: int | None  # the list's tail when read; compared only for its last page
    items_json: bytes  # the page's items as a JSON array
    next_after: int | None  # None: the list's last page


class PageCache:
    """A least-recently-used map from ``PageKey`` to ``KeptPage``, bounded by the
    bytes of JSON it holds; safe to share between a worker's threads."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._pages: OrderedDict[PageKey, KeptPage] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: PageKey) -> KeptPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: PageKey, page: KeptPage) -> None:
        if len(page.items_json) > self.max_bytes:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= len(old.items_json)
            self._pages[key] = page
            self._bytes += len(page.items_json)
            while self._bytes > self.max_bytes:
                _, dropped = self._pages.popitem(last=False)
                self._bytes -= len(dropped.items_json)

    def __len__(self) -> int:
        return len(self._pages)

    @property
    def bytes(self) -> int:
        return self._bytes
