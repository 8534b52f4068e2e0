"""A diff drawn: the merged graph in Mermaid and in the browser, every change marked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flowc.compiler import compile_source
from flowc.compiler.diff import diff_plans
from flowc.compiler.render.diffview import diff_html, diff_mermaid, merged

#: a browser on a loaded machine: far more than the usual 120 s per test
pytestmark = pytest.mark.timeout(300)

OLD = """\
from flowc import flow, task


@task
def load(n):
    return n


@task
def square(x):
    return x * x


@task
def audit(x):
    return x


@flow
def etl():
    a = load.submit(1)
    b = square.map(range(3))
    audit.submit(a)
    return square.submit(a, wait_for=[b])
"""
NEW = OLD.replace("    audit.submit(a)\n", "    extra = load.submit(2)\n").replace(
    "range(3)", "range(5)"
)


def the_diff():
    before, after = compile_source(OLD, "etl.py").plan, compile_source(NEW, "etl.py").plan
    return diff_plans(before, after, OLD, NEW, old_label="old.py", new_label="new.py")


def test_merged_flow_puts_removed_nodes_and_edges_back() -> None:
    (flow,), marks = merged(the_diff())
    ids = {node.id for node in flow.nodes}
    assert "removed:audit@23" in ids and "load@23" in ids
    assert marks.nodes == {
        "load@23": "added",
        "square@22": "changed",
        "removed:audit@23": "removed",
    }
    assert marks.edges == {("load@21", "removed:audit@23", "future"): "removed"}
    assert any(e.target == "removed:audit@23" for e in flow.edges)


def test_mermaid_styles_nodes_and_links() -> None:
    text = diff_mermaid(the_diff())
    assert "class n_load_23 added" in text
    assert "class n_square_22 changed" in text
    assert "class n_removed_audit_23 removed" in text
    assert "stroke:#dc2626,stroke-width:3px,stroke-dasharray: 6 3" in text
    assert "linkStyle" in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is missing")
def test_diff_page_highlights_and_lists_the_changes(tmp_path: Path, browser) -> None:
    page_path = tmp_path / "diff.html"
    page_path.write_text(diff_html(the_diff()))
    opened = browser.open(page_path)
    page = opened.page
    assert page.locator('[id="node:load@23"]').get_attribute("class") == "node diff-added"
    assert page.locator('[id="node:square@22"]').get_attribute("class") == "node diff-changed"
    removed = page.locator('[id="node:removed:audit@23"]')
    assert removed.get_attribute("class") == "node diff-removed"
    assert page.locator("g.edge.diff-removed").count() == 1
    changes = page.locator("#changes li").all_inner_texts()
    assert "~ square@22 runs ×3 -> ×5" in changes
    assert "+ load@23 added" in changes
    assert "- removed:audit@23 removed (was line 23)" in changes
    legend = page.locator("#legend").inner_text()
    assert "added" in legend and "removed" in legend and "changed" in legend
    removed.click()
    assert "23 | audit.submit(a)" in page.locator("#details").inner_text()  # the old line
    page.click("#changes a.node-link >> nth=0")
    assert "load@23" in page.locator("#details").inner_text()
    assert opened.errors == []
    assert opened.foreign_requests == []
