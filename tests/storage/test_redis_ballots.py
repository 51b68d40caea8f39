"""Ballots on Redis read total: a vote hash value that is not a whole number (a key
edited by hand, say) is left out of the counts, not a failure of every reader."""

from __future__ import annotations

from debrief.storage.redis import RedisStorage, vote_counts


def test_vote_counts_keep_whole_positive_numbers_only() -> None:
    raw = {b"n1": b"2", b"n2": b"0", b"n3": b"-1", b"n4": b"lots", b"n5": b"1.5", "n6": "3"}
    assert vote_counts(raw) == {"n1": 2, "n6": 3}


async def test_a_bad_value_in_a_stored_ballot_fails_no_reader(
    two_redis: tuple[RedisStorage, RedisStorage],
) -> None:
    store, _ = two_redis
    assert (await store.cast_vote("b1", "ann", "n1", 3)).done
    await store.client.hset(f"{store.prefix}tally:b1", "n2", "not a number")
    await store.client.hset(f"{store.prefix}vote:b1:ann", "n2", "not a number")
    assert await store.tally("b1") == {"n1": 1}
    assert await store.votes_of("b1", "ann") == {"n1": 1}
    taken = await store.retract_vote("b1", "ann", "n1")
    assert taken.done and taken.mine == {}
