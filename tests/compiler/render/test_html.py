"""The HTML view of a flow's graph, opened in a real headless Chromium from ``file://``."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from flowc.compiler import compile_source
from flowc.compiler.render import format_for, render
from flowc.compiler.render.html import page_data, to_html

#: a browser on a loaded machine: far more than the usual 120 s per test
pytestmark = pytest.mark.timeout(300)
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is missing")

ETL = """\
from flowc import flow, task


@task(retries=2, timeout_seconds=30)
def fetch(n: int) -> list[int]:
    return list(range(n))


@task
def square(x: int) -> int:
    return x * x


@task
def total(xs) -> int:
    return sum(xs)


@flow
def etl(n: int = 5):
    data = fetch.submit(n)
    squares = square.map(data)
    loop = []
    for i in range(4):
        loop.append(square.submit(i))
    t = total.submit(squares, wait_for=loop)
    k = 0
    while k < t.result():
        k += 1
    return t.result()
"""


def page_for(tmp_path: Path, source: str = ETL, name: str = "etl.py") -> Path:
    path = tmp_path / name
    path.write_text(source)
    plan = compile_source(source, str(path)).plan
    page = tmp_path / (path.stem + ".html")
    page.write_text(to_html(plan.flows))
    return page


def embedded(page: Path) -> dict:
    text = page.read_text()
    match = re.search(r'<script type="application/json" id="flowc-data">(.*?)</script>', text, re.S)
    assert match is not None
    return json.loads(match.group(1))


def test_html_is_chosen_by_suffix_and_by_name() -> None:
    assert format_for(Path("flow.html"), None) == "html"
    assert format_for(Path("flow.htm"), None) == "html"
    assert format_for(None, "html") == "html"


@needs_dot
def test_page_is_self_contained(tmp_path: Path) -> None:
    text = page_for(tmp_path).read_text()
    assert "<script src" not in text and "<link" not in text
    assert not re.search(r"""(src|href)=["']https?://""", text)
    assert "@@" not in text  # every placeholder of the template was filled
    assert text.count("<svg") >= 1


@needs_dot
def test_page_data_describes_every_call_site(tmp_path: Path) -> None:
    data = embedded(page_for(tmp_path))
    (flow,) = data["flows"]
    nodes = {node["id"]: node for node in flow["nodes"]}
    assert set(nodes) == {"fetch@21", "square@22", "square@25", "total@26"}
    assert nodes["fetch@21"]["options"] == ["retries", "timeout_seconds"]
    assert nodes["fetch@21"]["source"] == "data = fetch.submit(n)"
    assert nodes["square@25"]["fanout"] and nodes["square@25"]["count"] == 4
    assert nodes["square@22"]["dynamic"]
    assert {(e["s"], e["t"], e["k"]) for e in flow["edges"]} >= {
        ("fetch@21", "square@22", "future"),  # a .map over a future: as Prefect records it
        ("square@22", "total@26", "future"),
        ("square@25", "total@26", "wait_for"),
    }
    assert [b["line"] for b in flow["breaks"]] == [28]
    # the legend lists what is drawn: no direct call, subflow or conditional here
    assert data["legend"]["shapes"] == ["submit", "map", "dynamic", "break"]
    assert data["legend"]["edges"] == ["future", "wait_for"]


@needs_dot
def test_a_task_name_cannot_close_the_script(tmp_path: Path) -> None:
    source = ETL.replace("@task\ndef total", '@task(name="</script><b>x")\ndef total')
    page = page_for(tmp_path, source)
    text = page.read_text()
    assert "</script><b>x" not in text
    names = {n["task"] for n in embedded(page)["flows"][0]["nodes"]}
    assert "</script><b>x" in names


@needs_dot
def test_page_loads_clean_with_nodes_edges_and_no_request(
    tmp_path: Path, browser, screenshots: Path
) -> None:
    opened = browser.open(page_for(tmp_path))
    page = opened.page
    ids = page.eval_on_selector_all("g.node", "els => els.map(e => e.id)")
    assert {"node:fetch@21", "node:square@22", "node:square@25", "node:total@26"} <= set(ids)
    assert page.locator("g.edge").count() == 3
    assert page.locator("#summary").inner_text().startswith("4 call sites · 3 edges")
    legend = page.locator("#legend li").all_inner_texts()
    assert any("task.map" in item for item in legend)
    assert not any("subflow" in item or "direct call" in item for item in legend)
    page.screenshot(path=str(screenshots / "small-graph.png"))
    assert page.locator("#minimap").count() == 0  # a small graph is read whole
    assert opened.errors == []
    assert opened.foreign_requests == []


@needs_dot
def test_search_finds_a_node_and_clicking_shows_its_details(tmp_path: Path, browser) -> None:
    opened = browser.open(page_for(tmp_path))
    page = opened.page
    page.fill("#search", "fetch")
    assert page.locator("#search-count").inner_text() == "1 found"
    assert page.locator("g.node.match").evaluate_all("els => els.map(e => e.id)") == [
        "node:fetch@21"
    ]
    page.press("#search", "Enter")
    details = page.locator("#details")
    assert "fetch@21" in details.inner_text()
    page.fill("#search", "")
    page.click('[id="node:fetch@21"]')
    text = details.inner_text()
    assert "etl.py:21:12" in text
    assert "retries, timeout_seconds" in text
    assert "21 | data = fetch.submit(n)" in text
    assert opened.errors == []


@needs_dot
def test_expanding_a_fan_out_shows_its_runs(tmp_path: Path, browser) -> None:
    opened = browser.open(page_for(tmp_path))
    page = opened.page
    page.click('[id="node:square@25"]')
    assert "task.submit in a loop (fan-out)" in page.locator("#details").inner_text()
    page.click("button.expand")
    assert page.locator('g.runs-grid[data-node="node:square@25"] rect.cell').count() == 4
    runs = page.locator('.runs-list[data-node="node:square@25"] .run').all_inner_texts()
    assert runs == ["#0", "#1", "#2", "#3"]
    page.click("button.expand")  # and closes again
    assert page.locator("g.runs-grid").count() == 0
    page.dblclick('[id="node:square@25"]')
    assert page.locator("g.runs-grid rect.cell").count() == 4
    assert opened.errors == []


@needs_dot
def test_graph_breaks_are_listed_and_linked(tmp_path: Path, browser) -> None:
    opened = browser.open(page_for(tmp_path))
    page = opened.page
    link = page.locator("#breaks a.break-link")
    assert link.inner_text() == "line 28:5"
    assert "while loop" in page.locator("#breaks").inner_text()
    link.click()
    assert page.locator('[id="break:28:5"]').get_attribute("class") == "node selected near"


@needs_dot
def test_pan_and_zoom_change_the_view(tmp_path: Path, browser) -> None:
    opened = browser.open(page_for(tmp_path))
    page = opened.page
    before = page.get_attribute("#graph svg", "viewBox")
    page.click("#zoom-in")
    zoomed = page.get_attribute("#graph svg", "viewBox")
    assert float(zoomed.split()[2]) < float(before.split()[2])
    page.mouse.move(300, 300)
    page.mouse.down()
    page.mouse.move(420, 360, steps=4)
    page.mouse.up()
    panned = page.get_attribute("#graph svg", "viewBox")
    assert panned.split()[:2] != zoomed.split()[:2]
    page.click("#fit")
    assert page.get_attribute("#graph svg", "viewBox") == before


def big_flow(count: int) -> str:
    """A flow of ``count`` call sites: a tree, a chain through it, a map every 50 sites."""
    lines = ["from flowc import flow, task", "", "", "@task", "def step(*xs):", "    return 1"]
    lines += ["", "", "@task", "def wide(x):", "    return x", "", "", "@flow", "def big():"]
    lines.append("    s0 = step.submit()")
    for i in range(1, count):
        if i % 50 == 0:
            lines.append(f"    s{i} = wide.map([s{i - 1}, s{(i - 1) // 2}])")
        else:
            extra = f", s{i - 1}" if i % 5 == 0 else ""
            lines.append(f"    s{i} = step.submit(s{(i - 1) // 3}{extra})")
    return "\n".join(lines) + "\n"


@needs_dot
@pytest.mark.timeout(900)
def test_a_2000_node_graph_is_usable(tmp_path: Path, browser, screenshots: Path) -> None:
    opened = browser.open(page_for(tmp_path, big_flow(2000), "big.py"))
    page = opened.page
    assert page.locator("g.node").count() == 2000
    page.screenshot(path=str(screenshots / "graph-2000-nodes.png"))
    # too large to read whole: an overview moves the view where it is clicked
    before = page.get_attribute("#graph svg", "viewBox")
    box = page.locator("#minimap").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.8, box["y"] + box["height"] / 2)
    assert float(page.get_attribute("#graph svg", "viewBox").split()[0]) > float(before.split()[0])
    page.fill("#search", "wide")
    assert page.locator("#search-count").inner_text() == "39 found"
    page.press("#search", "Enter")
    assert "wide@66" in page.locator("#details").inner_text()
    page.click("button.expand")
    assert page.locator("g.runs-grid rect.cell").count() == 2
    page.screenshot(path=str(screenshots / "graph-2000-nodes-search.png"))
    assert opened.errors == []
    assert opened.foreign_requests == []


@needs_dot
def test_render_html_matches_to_html(tmp_path: Path) -> None:
    path = tmp_path / "etl.py"
    path.write_text(ETL)
    plan = compile_source(ETL, str(path)).plan
    text = render(plan, "html")
    assert isinstance(text, str) and text.startswith("<!DOCTYPE html>")
    assert page_data(plan.flows)["flows"][0]["name"] == "etl"


@needs_dot
def test_several_flows_and_subflows_in_one_page(tmp_path: Path, browser) -> None:
    fixture = Path(__file__).parent.parent / "fixtures" / "subflows.py"
    source = fixture.read_text()
    opened = browser.open(page_for(tmp_path, source, "subflows.py"))
    page = opened.page
    ids = set(page.eval_on_selector_all("g.node", "els => els.map(e => e.id)"))
    assert {
        "node:child-flow/fetch@18",
        "node:parent/child-flow@23",
        "node:parent/child-flow@23/fetch@18",
        "node:parent/merge@25",
    } <= ids
    tasks = page.locator("#tasks li").all_inner_texts()
    assert tasks == [
        "fetch · 3 call sites · 3 runs",
        "flow:child-flow · 2 call sites · 2 runs",
        "merge · 1 call site · 1 run",
    ]
    page.click('#tasks a[data-task="merge"]')
    assert "parent/merge@25" not in page.locator("#details").inner_text()  # ids are per flow
    assert "merge@25" in page.locator("#details").inner_text()
    assert "a subflow's own tasks" in page.locator("#legend").inner_text()
    assert opened.errors == []


def test_a_break_links_the_call_sites_in_its_block() -> None:
    fixture = Path(__file__).parent.parent / "fixtures" / "branches.py"
    plan = compile_source(fixture.read_text(), str(fixture)).plan
    data = page_data(plan.flows)
    (flow,) = [f for f in data["flows"] if f["breaks"]]
    (brk,) = flow["breaks"]
    assert brk["source"] == "while k < 3:"
    assert brk["inside"] == ["node:on-result/step@30"]  # the submit in the loop's body


def test_a_call_site_in_another_module_is_not_given_this_files_line() -> None:
    fixture = Path(__file__).parent.parent / "fixtures" / "basics.py"
    plan = compile_source(fixture.read_text(), str(fixture)).plan
    nodes = {n["id"]: n for n in page_data(plan.flows)["flows"][0]["nodes"]}
    helper = nodes["helpers_mod::shout@10"]
    assert helper["module"] == "helpers_mod" and helper["source"] == ""
    assert nodes["shout@39"]["source"] == "echo = shout.submit(loud[0])"
