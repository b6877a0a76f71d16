"""The Argon2id gate bounds concurrent work and keeps no memory of failures."""

from __future__ import annotations

import threading

import pytest

from tainik.service.errors import ThrottledError
from tainik.service.kdf_gate import KdfGate


def test_a_full_queue_refuses_and_a_drained_one_serves() -> None:
    gate = KdfGate(slots=1, queue=1, wait_seconds=5)
    holding, release, waited = threading.Event(), threading.Event(), threading.Event()

    def hold() -> None:
        with gate.slot():
            holding.set()
            release.wait(5)

    def wait() -> None:
        with gate.slot():
            waited.set()

    threads = [threading.Thread(target=hold)]
    threads[0].start()
    assert holding.wait(5)
    threads.append(threading.Thread(target=wait))
    threads[1].start()
    # One running, one waiting: a third request is refused at once.
    for _ in range(100):
        if gate._waiting[False] == 1:
            break
        threading.Event().wait(0.01)
    with pytest.raises(ThrottledError), gate.slot():
        pass
    release.set()
    for thread in threads:
        thread.join(5)
    assert waited.is_set()
    # Nothing is remembered of the refusal.
    with gate.slot():
        pass


def test_waiting_too_long_is_refused() -> None:
    gate = KdfGate(slots=1, queue=4, wait_seconds=0.05)
    with gate.slot(), pytest.raises(ThrottledError), gate.slot():
        pass
    with gate.slot():
        pass


def test_returning_sources_go_ahead_of_new_ones_and_have_their_own_queue() -> None:
    gate = KdfGate(slots=1, queue=2, wait_seconds=5)
    order: list[str] = []
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with gate.slot():
            holding.set()
            release.wait(5)

    def take(name: str, priority: bool) -> None:
        with gate.slot(priority=priority):
            order.append(name)

    def waiting(priority: bool, count: int) -> None:
        for _ in range(500):
            if gate._waiting[priority] == count:
                return
            threading.Event().wait(0.01)
        raise AssertionError("the request never queued")

    threads = [threading.Thread(target=hold)]
    threads[0].start()
    assert holding.wait(5)
    for number in range(2):  # new sources fill their queue first
        threads.append(threading.Thread(target=take, args=(f"new {number}", False)))
        threads[-1].start()
        waiting(False, number + 1)
    with pytest.raises(ThrottledError), gate.slot():
        pass  # a third new source is refused...
    threads.append(threading.Thread(target=take, args=("returning", True)))
    threads[-1].start()  # ...but a returning source still queues
    waiting(True, 1)
    release.set()
    for thread in threads:
        thread.join(5)
    assert order[0] == "returning"
    assert sorted(order[1:]) == ["new 0", "new 1"]
