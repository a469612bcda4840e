"""The reader's kept pages: least recently used goes first, bounded by bytes."""

from __future__ import annotations

from todo_reader.page_cache import KeptPage, PageCache, PageKey


def _page(size: int, version: str = "v1") -> KeptPage:
    return KeptPage(version, None, b"x" * size, None)


def test_keeps_and_replaces_a_page():
    cache = PageCache(max_bytes=100)
    key = PageKey(1, "all", 0, 250)
    assert cache.get(key) is None
    cache.put(key, _page(10))
    cache.put(key, _page(20, "v2"))
    assert cache.get(key) == _page(20, "v2")
    assert (len(cache), cache.bytes) == (1, 20)


def test_drops_the_least_recently_used_pages_past_its_bytes():
    cache = PageCache(max_bytes=100)
    keys = [PageKey(n, "all", 0, 250) for n in range(3)]
    for key in keys:
        cache.put(key, _page(40))
    # Three pages of 40 bytes do not fit in 100: the first one in went.
    assert cache.get(keys[0]) is None
    cache.get(keys[1])  # now the most recently used
    cache.put(PageKey(9, "all", 0, 250), _page(40))
    assert cache.get(keys[2]) is None
    assert cache.get(keys[1]) is not None
    assert cache.bytes == 80


def test_a_page_larger_than_the_whole_cache_is_not_kept():
    cache = PageCache(max_bytes=100)
    cache.put(PageKey(1, "all", 0, 250), _page(101))
    assert len(cache) == 0
