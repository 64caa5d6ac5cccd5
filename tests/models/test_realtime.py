"""A periodic thread asks for a priority above ordinary work and says truly what it got."""

from __future__ import annotations

import os
import threading

import pytest

from hil import realtime
from tests.nice import nice_of


def _in_a_thread(fn):
    result: dict[str, object] = {}

    def run() -> None:
        result["said"] = fn()
        result["policy"] = os.sched_getscheduler(0)
        result["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result


def test_the_priority_it_reports_is_the_one_the_thread_has():
    result = _in_a_thread(realtime.raise_thread_priority)
    if result["said"].startswith("real-time"):
        assert result["policy"] == os.SCHED_FIFO
    elif result["said"].startswith("nice"):
        assert (result["policy"], result["nice"]) == (os.SCHED_OTHER, realtime.NICE)
    else:
        assert result["policy"] == os.SCHED_OTHER
    # only the calling thread: the process's other threads keep their ordinary priority
    assert os.sched_getscheduler(0) == os.SCHED_OTHER


def _refused(*args):
    raise PermissionError(1, "Operation not permitted")


def test_without_permission_for_real_time_it_falls_back_to_nice(monkeypatch):
    monkeypatch.setattr(os, "sched_setscheduler", _refused)
    seen: list[tuple[int, int, int]] = []
    monkeypatch.setattr(os, "setpriority", lambda which, who, value: seen.append((which, who, value)))
    assert realtime.raise_thread_priority() == f"nice {realtime.NICE}"
    assert seen == [(os.PRIO_PROCESS, threading.get_native_id(), realtime.NICE)]


def test_without_any_permission_it_says_so_and_changes_nothing(monkeypatch):
    monkeypatch.setattr(os, "sched_setscheduler", _refused)
    monkeypatch.setattr(os, "setpriority", _refused)
    assert realtime.raise_thread_priority() == "ordinary (no permission to raise it)"


@pytest.mark.parametrize("missing", ["sched_setscheduler", "setpriority"])
def test_a_platform_without_the_call_is_not_an_error(monkeypatch, missing):
    other = "setpriority" if missing == "sched_setscheduler" else "sched_setscheduler"
    monkeypatch.delattr(os, missing)
    monkeypatch.setattr(os, other, _refused)  # the test's own thread keeps its priority
    assert realtime.raise_thread_priority() == "ordinary (no permission to raise it)"


def test_a_thread_that_catches_up_without_sleeping_is_never_made_real_time(monkeypatch):
    asked: list[object] = []
    monkeypatch.setattr(os, "sched_setscheduler", lambda *args: asked.append(args))
    monkeypatch.setattr(os, "setpriority", lambda *args: None)  # the test's own thread keeps its priority
    assert realtime.raise_thread_priority(realtime=False) == f"nice {realtime.NICE}"
    assert asked == []


def test_threads_started_ahead_are_raised_and_the_caller_is_not():
    own = nice_of(threading.get_native_id())
    nice: list[int] = []
    # read before or after the caller has given back its own, a thread has what it started with
    thread = threading.Thread(target=lambda: nice.append(nice_of(threading.get_native_id())))
    with realtime.threads_started_ahead() as said:
        thread.start()
    thread.join()
    assert nice == [realtime.NICE if said.startswith("nice") else own]
    assert nice_of(threading.get_native_id()) == own


def test_threads_started_ahead_gives_the_caller_back_its_priority_after_an_error(monkeypatch):
    seen: list[int] = []
    monkeypatch.setattr(os, "getpriority", lambda which, who: 3)
    monkeypatch.setattr(os, "setpriority", lambda which, who, value: seen.append(value))
    with pytest.raises(RuntimeError), realtime.threads_started_ahead():
        raise RuntimeError("a library failed to start its thread")
    assert seen == [realtime.NICE, 3]
