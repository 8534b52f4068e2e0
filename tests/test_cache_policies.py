"""Cache policies compose and compute keys as Prefect's do."""

from __future__ import annotations

import types

import pytest

from flowc.cache_policies import (
    DEFAULT,
    FLOW_PARAMETERS,
    INPUTS,
    NO_CACHE,
    RUN_ID,
    TASK_SOURCE,
    CacheKeyFnPolicy,
    CompoundCachePolicy,
    Inputs,
    RunId,
    TaskSource,
)
from flowc.locking.memory import MemoryLockManager
from flowc.transactions import IsolationLevel


def one(x):
    return x + 1


def two(x):
    return x + 2


def _context(fn=one, flow_run_id="run-1"):
    return types.SimpleNamespace(
        task=types.SimpleNamespace(fn=fn),
        task_run=types.SimpleNamespace(id="task-run", flow_run_id=flow_run_id),
    )


def _key(policy, inputs=None, context=None, flow_parameters=None):
    return policy.compute_key(
        task_ctx=context or _context(), inputs=inputs or {}, flow_parameters=flow_parameters or {}
    )


def test_default_is_inputs_task_source_and_run_id():
    assert isinstance(DEFAULT, CompoundCachePolicy)
    kinds = sorted(type(p).__name__ for p in DEFAULT.policies)
    assert kinds == ["Inputs", "RunId", "TaskSource"]


def test_inputs_keys_follow_the_values_and_ignore_excluded_names():
    assert _key(INPUTS, {"x": 1}) == _key(INPUTS, {"x": 1}) != _key(INPUTS, {"x": 2})
    assert _key(INPUTS, {}) is None
    policy = INPUTS - "debug"
    assert _key(policy, {"x": 1, "debug": True}) == _key(policy, {"x": 1, "debug": False})
    assert isinstance(policy, Inputs) and policy.exclude == ["debug"]


def test_compound_policies_flatten_and_merge_their_inputs_policies():
    policy = (INPUTS - "a") + TASK_SOURCE + (INPUTS - "b")
    assert isinstance(policy, CompoundCachePolicy)
    inputs = [p for p in policy.policies if isinstance(p, Inputs)]
    assert len(inputs) == 1 and inputs[0].exclude == ["a", "b"]
    assert (DEFAULT - "x").compute_key(_context(), {"x": 1, "y": 2}, {}) == (
        DEFAULT - "x"
    ).compute_key(_context(), {"x": 9, "y": 2}, {})


def test_task_source_and_run_id_keys():
    assert _key(TASK_SOURCE, context=_context(one)) != _key(TASK_SOURCE, context=_context(two))
    assert _key(RUN_ID) == "run-1"
    assert _key(RUN_ID, context=_context(flow_run_id=None)) == "task-run"
    assert _key(DEFAULT, {"x": 1}) != _key(DEFAULT, {"x": 1}, context=_context(flow_run_id="2"))


def test_flow_parameters_key():
    assert _key(FLOW_PARAMETERS) is None
    assert _key(FLOW_PARAMETERS, flow_parameters={"d": 1}) != _key(
        FLOW_PARAMETERS, flow_parameters={"d": 2}
    )


def test_no_cache_is_neutral_in_sums_and_gives_no_key():
    assert NO_CACHE + INPUTS is INPUTS
    assert INPUTS + NO_CACHE is INPUTS
    assert _key(NO_CACHE, {"x": 1}) is None


def test_cache_key_fn_policy():
    policy = CacheKeyFnPolicy(cache_key_fn=lambda ctx, params: f"k{params['x']}")
    assert _key(policy, {"x": 3}) == "k3"
    assert _key(policy + RunId(), {"x": 3}) != _key(policy + RunId(), {"x": 3}, _context(two, "9"))


def test_configure_copies_and_adding_conflicting_settings_is_refused():
    locks = MemoryLockManager()
    policy = INPUTS.configure(isolation_level=IsolationLevel.SERIALIZABLE, lock_manager=locks)
    assert INPUTS.lock_manager is None and policy.lock_manager is not None
    assert policy.isolation_level is IsolationLevel.SERIALIZABLE
    combined = policy + TaskSource()
    assert combined.isolation_level is IsolationLevel.SERIALIZABLE
    with pytest.raises(ValueError, match="storage locations"):
        INPUTS.configure(key_storage="/a") + TASK_SOURCE.configure(key_storage="/b")


def test_subtracting_anything_but_a_name_is_a_type_error():
    with pytest.raises(TypeError):
        INPUTS - 1  # type: ignore[operator]
