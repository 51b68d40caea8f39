"""The per-review gate: close runs alone, commands share, nobody starves, no state leaks."""

from __future__ import annotations

import asyncio

from debrief.meeting.gate import ReviewGate


async def test_close_never_overlaps_a_command_that_waited_out_another_close() -> None:
    gate = ReviewGate()
    inside: set[str] = set()
    overlaps: list[set[str]] = []

    async def hold(kind: str, name: str, until: asyncio.Event) -> None:
        guard = gate.exclusive("r") if kind == "close" else gate.shared("r")
        async with guard:
            if inside and (kind == "close" or any(n.startswith("close") for n in inside)):
                overlaps.append(set(inside) | {name})
            inside.add(name)
            await until.wait()
            inside.discard(name)

    close_1_done, command_done, close_2_done = (asyncio.Event() for _ in range(3))
    first = asyncio.create_task(hold("close", "close-1", close_1_done))
    await asyncio.sleep(0)
    command = asyncio.create_task(hold("cmd", "cmd-1", command_done))
    await asyncio.sleep(0)  # the command now waits behind the close
    close_1_done.set()
    await first  # (say it failed: the review stays open) and the command gets in
    second = asyncio.create_task(hold("close", "close-2", close_2_done))
    for _ in range(5):
        await asyncio.sleep(0)
    assert "close-2" not in inside  # it waits for the command
    command_done.set()
    close_2_done.set()
    await asyncio.gather(command, second)
    assert overlaps == []
    assert gate._states == {}  # nothing kept once the review is idle


async def test_a_waiting_close_goes_before_later_commands() -> None:
    gate = ReviewGate()
    order: list[str] = []
    running = asyncio.Event()
    finish = asyncio.Event()

    async def long_command() -> None:
        async with gate.shared("r"):
            running.set()
            await finish.wait()
            order.append("cmd-1")

    async def close() -> None:
        async with gate.exclusive("r"):
            order.append("close")

    async def late_command() -> None:
        async with gate.shared("r"):
            order.append("cmd-2")

    tasks = [asyncio.create_task(long_command())]
    await running.wait()
    tasks.append(asyncio.create_task(close()))
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(late_command()))
    await asyncio.sleep(0)
    finish.set()
    await asyncio.gather(*tasks)
    assert order == ["cmd-1", "close", "cmd-2"]
