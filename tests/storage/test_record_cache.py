"""RecordCache: filled by reads, kept current by writes, never by a read a write overtook."""

from __future__ import annotations

from debrief.storage.record_cache import RecordCache, cache_for

KEY = ("review", "r1")


def test_a_read_fills_and_a_write_updates() -> None:
    cache = RecordCache()
    assert cache.get(KEY) is None
    cache.read(KEY, '{"v": 1}', cache.reading(KEY))
    assert cache.get(KEY) == '{"v": 1}'
    cache.wrote(KEY, '{"v": 2}')
    assert cache.get(KEY) == '{"v": 2}'
    cache.deleted(KEY)
    assert cache.get(KEY) is None


def test_writes_do_not_add_records_only_reads_do() -> None:
    cache = RecordCache()
    cache.wrote(("note", "n1"), "{}")
    assert cache.get(("note", "n1")) is None and len(cache) == 0


def test_a_read_overtaken_by_a_write_or_a_clear_does_not_fill() -> None:
    cache = RecordCache()
    token = cache.reading(KEY)
    cache.wrote(KEY, '{"v": 2}')  # committed while the read was under way
    cache.read(KEY, '{"v": 1}', token)  # the read may have seen the older text
    assert cache.get(KEY) is None
    token = cache.reading(KEY)
    cache.deleted(KEY)
    cache.read(KEY, '{"v": 1}', token)
    assert cache.get(KEY) is None
    token = cache.reading(KEY)
    cache.clear()
    cache.read(KEY, '{"v": 1}', token)
    assert cache.get(KEY) is None
    first, second = cache.reading(KEY), cache.reading(KEY)  # two reads at once
    cache.read(KEY, '{"v": 1}', first)
    assert cache.get(KEY) is None  # only the last one asked may fill
    cache.read(KEY, '{"v": 1}', second)
    assert cache.get(KEY) == '{"v": 1}'


def test_missing_and_large_records_take_no_room() -> None:
    cache = RecordCache(max_text=10)
    cache.read(KEY, None, cache.reading(KEY))
    cache.read(("review", "big"), "x" * 11, cache.reading(("review", "big")))
    assert len(cache) == 0
    cache.read(KEY, "{}", cache.reading(KEY))
    cache.wrote(KEY, "y" * 11)  # grew past the bound: dropped, not kept stale
    assert cache.get(KEY) is None


def test_the_cache_is_bounded_oldest_out() -> None:
    cache = RecordCache(entries=3)
    for i in range(5):
        key = ("session", f"s{i}")
        cache.read(key, "{}", cache.reading(key))
    assert len(cache) == 3
    assert cache.get(("session", "s0")) is None and cache.get(("session", "s4")) == "{}"


def test_one_cache_per_database_in_a_process() -> None:
    assert cache_for("/data/a.sqlite3") is cache_for("/data/a.sqlite3")
    assert cache_for("/data/a.sqlite3") is not cache_for("/data/b.sqlite3")
