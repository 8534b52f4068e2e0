"""States: types, names, predicates, text, and how a state yields its result."""

from __future__ import annotations

import pickle

import pytest

from flowc.exceptions import FailedRun, UnfinishedRun
from flowc.states import (
    AwaitingRetry,
    Cached,
    Cancelled,
    Completed,
    Crashed,
    Failed,
    NotReady,
    Pending,
    Retrying,
    Running,
    Scheduled,
    State,
    StateType,
    TimedOut,
)


def test_state_types_are_prefects():
    assert [t.value for t in StateType] == [
        "SCHEDULED",
        "PENDING",
        "RUNNING",
        "COMPLETED",
        "FAILED",
        "CANCELLED",
        "CRASHED",
        "PAUSED",
        "CANCELLING",
    ]


@pytest.mark.parametrize(
    ("make", "type_", "name"),
    [
        (Pending, StateType.PENDING, "Pending"),
        (NotReady, StateType.PENDING, "NotReady"),
        (Running, StateType.RUNNING, "Running"),
        (Retrying, StateType.RUNNING, "Retrying"),
        (Scheduled, StateType.SCHEDULED, "Scheduled"),
        (AwaitingRetry, StateType.SCHEDULED, "AwaitingRetry"),
        (Completed, StateType.COMPLETED, "Completed"),
        (Cached, StateType.COMPLETED, "Cached"),
        (Failed, StateType.FAILED, "Failed"),
        (TimedOut, StateType.FAILED, "TimedOut"),
        (Crashed, StateType.CRASHED, "Crashed"),
        (Cancelled, StateType.CANCELLED, "Cancelled"),
    ],
)
def test_state_constructors_give_engine_names_and_types(make, type_, name):
    state = make()
    assert state.type is type_
    assert state.name == name


def test_final_states_are_completed_failed_crashed_cancelled():
    finals = {s.type for s in (Completed(), Failed(), Crashed(), Cancelled()) if s.is_final()}
    assert finals == {
        StateType.COMPLETED,
        StateType.FAILED,
        StateType.CRASHED,
        StateType.CANCELLED,
    }
    assert not any(s.is_final() for s in (Pending(), Running(), Scheduled(), NotReady()))


def test_str_shows_type_only_when_name_differs():
    assert str(NotReady("upstream failed")) == "NotReady('upstream failed', type=PENDING)"
    assert str(Completed()) == "Completed()"
    assert str(Failed("boom")) == "Failed('boom')"


def test_predicates_match_type():
    assert Completed().is_completed() and Cached().is_completed()
    assert Failed().is_failed() and TimedOut().is_failed()
    assert Crashed().is_crashed() and Cancelled().is_cancelled()
    assert Pending().is_pending() and NotReady().is_pending()
    assert Running().is_running() and Retrying().is_running()
    assert Scheduled().is_scheduled()


def test_result_of_completed_returns_data():
    assert Completed(data=42).result() == 42


def test_result_of_failed_raises_its_exception_or_returns_it():
    error = ValueError("boom")
    state = Failed("failed", data=error)
    with pytest.raises(ValueError, match="boom"):
        state.result()
    assert state.result(raise_on_failure=False) is error


def test_result_of_failed_without_exception_raises_failed_run():
    with pytest.raises(FailedRun, match="2/3 states failed"):
        Failed("2/3 states failed.").result()


def test_result_of_non_final_state_raises_unfinished_run_whatever_raise_on_failure():
    with pytest.raises(UnfinishedRun):
        NotReady("upstream").result(raise_on_failure=False)


def test_timestamp_is_timezone_aware():
    assert Completed().timestamp.tzinfo is not None


def test_state_pickles_with_its_data():
    state = pickle.loads(pickle.dumps(Failed("x", data=ValueError("boom"))))
    assert isinstance(state, State)
    assert state.is_failed() and str(state.data) == "boom"
