"""Background work gives way to exporters that press on the collector, and only to them."""

from __future__ import annotations

import time

from collector.export_load import ExportLoad


def _settle(load: ExportLoad, seconds: float) -> float:
    time.sleep(seconds)
    return load.average()


def test_exporters_sending_back_to_back_press_and_steady_traffic_does_not() -> None:
    # A tenth of a second of memory, so that the story takes a second to tell.
    load = ExportLoad(average_seconds=0.1, pressed=2.0)
    assert not load.pressed()

    # Steady traffic: one export at a time, each answered before the next arrives.
    for _ in range(5):
        load.begin()
        time.sleep(0.02)
        load.end()
        time.sleep(0.02)
    assert not load.pressed()
    assert load.average() < 1.0

    # A burst: four exporters, each with an export in flight all the time.
    for _ in range(4):
        load.begin()
    assert _settle(load, 0.5) > 3.5
    assert load.pressed()
    assert load.report() == {"in_flight": 4, "average_in_flight": round(load.average(), 2)}

    # The burst ends: within a few tenths of a second the background work may run again.
    for _ in range(4):
        load.end()
    assert _settle(load, 0.5) < 0.1
    assert not load.pressed()
    assert load.report()["in_flight"] == 0


def test_an_end_without_a_begin_does_not_count_below_zero() -> None:
    load = ExportLoad(average_seconds=0.1)
    load.end()
    load.begin()
    assert load.report()["in_flight"] == 1
