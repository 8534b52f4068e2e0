"""``flowc diff``'s matching: two versions of a flow, compared call site by call site."""

from __future__ import annotations

import json

from flowc.compiler import compile_source
from flowc.compiler.diff import PlanDiff, diff_plans, to_text

BASE = """\
from flowc import flow, task


@task
def load(n):
    return list(range(n))


@task
def square(x):
    return x * x


@task
def total(xs):
    return sum(xs)


@task
def report(x):
    return x


@flow
def etl(n: int = 3):
    data = load.submit(n)
    squares = square.map(range(10))
    result = total.submit(squares, wait_for=[data])
    report.submit(result)
    return result
"""


def diff(old: str, new: str) -> PlanDiff:
    before = compile_source(old, "etl.py").plan
    after = compile_source(new, "etl.py").plan
    return diff_plans(before, after, old, new, old_label="HEAD:etl.py", new_label="etl.py")


def test_no_change_is_no_change() -> None:
    result = diff(BASE, BASE)
    assert not result.changes_graph
    assert result.to_dict() == {"added": [], "removed": [], "changed": []}
    assert "graph unchanged" in to_text(result)


def test_moved_lines_are_the_same_call_sites() -> None:
    moved = BASE.replace("@flow\ndef etl", "# a comment\n# and another\n\n\n@flow\ndef etl")
    result = diff(BASE, moved)
    assert not result.changes_graph
    (flow,) = result.flows
    assert flow.matched == {
        "load@26": "load@30",
        "square@27": "square@31",
        "total@28": "total@32",
        "report@29": "report@33",
    }
    assert [(m.old, m.new) for m in flow.moved][0] == ("load@26", "load@30")
    assert "4 call sites moved" in to_text(result)


def test_two_call_sites_of_one_task_swapped_in_order_keep_their_identity() -> None:
    old = BASE.replace(
        "    report.submit(result)\n", "    report.submit(result)\n    report.submit(data)\n"
    )
    new = BASE.replace(
        "    report.submit(result)\n", "    report.submit(data)\n    report.submit(result)\n"
    )
    result = diff(old, new)
    # the calls are told apart by what they are called with, not by their rank
    (flow,) = result.flows
    assert flow.matched["report@29"] == "report@30"
    assert flow.matched["report@30"] == "report@29"
    assert not result.changes_graph


def test_renamed_variables_change_nothing() -> None:
    renamed = BASE.replace("data", "raw").replace("squares", "sq").replace("result", "out")
    result = diff(BASE, renamed)
    assert not result.changes_graph, to_text(result)


def test_an_added_task_is_named_with_its_edges() -> None:
    added = BASE.replace(
        "    report.submit(result)\n",
        "    report.submit(result)\n    checked = square.submit(result)\n",
    )
    result = diff(BASE, added)
    assert result.to_dict() == {
        "added": ["square@30", "total@28 -> square@30 (future)"],
        "removed": [],
        "changed": [],
    }
    assert "+ square@30  task.submit (line 30)" in to_text(result)


def test_a_removed_edge() -> None:
    without = BASE.replace("total.submit(squares, wait_for=[data])", "total.submit(squares)")
    result = diff(BASE, without)
    assert result.to_dict() == {
        "added": [],
        "removed": ["load@26 -> total@28 (wait_for)"],
        "changed": [],
    }
    assert "- edge load@26 -> total@28 (wait_for)" in to_text(result)


def test_a_removed_task_and_its_edges() -> None:
    without = BASE.replace("    report.submit(result)\n", "")
    result = diff(BASE, without)
    assert result.to_dict()["removed"] == ["report@29", "total@28 -> report@29 (future)"]
    assert result.to_dict()["added"] == []


def test_a_changed_map_width() -> None:
    wider = BASE.replace("range(10)", "range(25)")
    result = diff(BASE, wider)
    assert result.to_dict() == {"added": [], "removed": [], "changed": ["square@27"]}
    assert "~ square@27  runs ×10 -> ×25" in to_text(result)


def test_changed_options() -> None:
    retried = BASE.replace("@task\ndef total", "@task(retries=3)\ndef total")
    result = diff(BASE, retried)
    assert result.to_dict()["changed"] == ["total@28"]
    assert "options none -> retries" in to_text(result)


def test_a_new_graph_break() -> None:
    broken = BASE.replace(
        "    return result\n",
        "    k = 0\n    while k < result.result():\n        k += 1\n    return result\n",
    )
    result = diff(BASE, broken)
    (added,) = result.to_dict()["added"]
    assert added.startswith("break@31:5: while loop")
    assert result.changes_graph
    assert "+ graph break line 31:5: while loop" in to_text(result)


def test_a_task_renamed_is_a_remove_and_an_add() -> None:
    renamed = BASE.replace("def report(x)", "def publish(x)").replace(
        "report.submit", "publish.submit"
    )
    result = diff(BASE, renamed)
    out = result.to_dict()
    assert "publish@29" in out["added"] and "report@29" in out["removed"]


def test_moved_and_changed_at_once() -> None:
    new = BASE.replace("@flow\ndef etl", "\n\n@flow\ndef etl").replace("range(10)", "range(3)")
    result = diff(BASE, new)
    (flow,) = result.flows
    (change,) = flow.changed
    assert (change.old, change.new) == ("square@27", "square@29")
    assert "~ square@29 (was square@27)  runs ×10 -> ×3" in to_text(result)


def test_flows_added_and_removed_whole() -> None:
    other = BASE + "\n\n@flow\ndef side():\n    report.submit(1)\n"
    result = diff(BASE, other)
    assert result.to_dict()["added"] == ["side/report@35"]
    assert "flow side: new flow" in to_text(result)
    back = diff(other, BASE)
    assert back.to_dict()["removed"] == ["side/report@35"]


def test_json_has_exactly_the_three_lists() -> None:
    result = diff(BASE, BASE.replace("range(10)", "range(2)"))
    assert set(json.loads(result.to_json())) == {"added", "removed", "changed"}


def many_calls(count: int, prefix: str) -> str:
    lines = ["from flowc import flow, task", "", "", "@task", "def step(*xs):", "    return 1"]
    lines += ["", "", "@flow", "def many():", f"    {prefix}0 = step.submit()"]
    for i in range(1, count):
        lines.append(f"    {prefix}{i} = step.submit({prefix}{(i - 1) // 2})")
    return "\n".join(lines) + "\n"


def test_every_variable_renamed_in_a_large_flow_changes_nothing() -> None:
    old, new = many_calls(400, "a"), many_calls(400, "b")
    result = diff(old, new)
    assert not result.changes_graph
    (flow,) = result.flows
    assert len(flow.matched) == 400 and all(k == v for k, v in flow.matched.items())
