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
        if gate._waiting == 1:
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
