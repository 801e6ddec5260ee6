"""The server's start-up objects are set aside from the garbage collector's full walks."""

import gc
import logging
import weakref
from collections.abc import Iterator

import pytest

from bot.ops.heap import settle_heap


class _Node:
    me: "_Node"


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()  # the test process goes on collecting as before


@pytest.mark.usefixtures("unfrozen")
def test_what_is_alive_at_start_leaves_the_collectors_walk_and_later_objects_stay_in_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    started = [_Node() for _ in range(2000)]  # a start-up's worth of objects the collector tracks
    assert all(gc.is_tracked(o) for o in started)
    caplog.set_level(logging.INFO, logger="aftercare.server")

    settled = settle_heap()

    walked = {id(o) for o in gc.get_objects()}
    assert not any(id(o) in walked for o in started)
    later = [_Node() for _ in range(10)]  # what requests create is still collected
    walked = {id(o) for o in gc.get_objects()}
    assert all(id(o) in walked for o in later)
    assert settled >= len(started)
    [line] = [
        r for r in caplog.records if r.getMessage() == "startup objects set aside from garbage collection"
    ]
    assert line.fields == {"objects": settled}  # type: ignore[attr-defined]


@pytest.mark.usefixtures("unfrozen")
def test_garbage_left_by_the_start_is_collected_not_kept_for_good() -> None:
    gc.disable()  # no automatic collection between here and settle_heap
    try:
        node = _Node()
        node.me = node  # a cycle: unreachable once dropped, freed only by a collection
        gone = weakref.ref(node)
        del node

        settle_heap()

        assert gone() is None
    finally:
        gc.enable()
