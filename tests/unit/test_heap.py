"""What is alive once a process has started is left out of the garbage collector's passes."""

from __future__ import annotations

import gc

from sendout.heap import freeze_started


def test_objects_alive_at_start_leave_the_collected_generations() -> None:
    started: list[object] = []
    started.append(started)  # a cycle: only the cyclic collector could ever free it
    assert any(o is started for g in range(3) for o in gc.get_objects(g))
    try:
        frozen = freeze_started()
        assert frozen == gc.get_freeze_count() > 0
        assert not any(o is started for g in range(3) for o in gc.get_objects(g))
        later: list[object] = []
        later.append(later)  # made since: collected as usual
        assert any(o is later for g in range(3) for o in gc.get_objects(g))
    finally:
        gc.unfreeze()
