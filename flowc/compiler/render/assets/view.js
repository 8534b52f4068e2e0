/* flowc's HTML view: pan, zoom, search, details, fan-outs, breaks, legend and diff panels.
   The graph is Graphviz's SVG, inlined; the facts are the JSON in #flowc-data. No network.
   run.js, after it, draws a run's panel, timeline and durations. */
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("flowc-data").textContent);
  var SVGNS = "http://www.w3.org/2000/svg";
  var graph = document.getElementById("graph");
  var svg = graph.querySelector("svg");
  var root = svg.querySelector("g.graph") || svg;
  var nodes = {};        // dom id -> node facts (with .flow, .prefix)
  var byKey = {};        // prefix + node id -> dom id
  var adjacency = {};    // dom id -> {up: [edge], down: [edge]}
  var edgeByKey = {};    // prefix|s|t|k -> edge facts
  var STATE_TEXT = {completed: "Completed", failed: "Failed", cancelled: "Cancelled",
    notready: "Not ready", unfinished: "Unfinished", notrun: "Not run"};

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) { if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]); }
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function sv(tag, attrs, text) {
    var e = document.createElementNS(SVGNS, tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = String(text);
    return e;
  }
  function byDom(id) { return document.getElementById(id); }
  function fmtMs(ms) {
    if (ms === null || ms === undefined) return "–";
    if (ms < 1) return ms.toFixed(3) + " ms";
    if (ms < 1000) return ms.toFixed(1) + " ms";
    if (ms < 60000) return (ms / 1000).toFixed(2) + " s";
    return (ms / 60000).toFixed(1) + " min";
  }
  function fmtS(s) { return fmtMs(s * 1000); }

  // ------------------------------------------------------------------ index the facts
  DATA.flows.forEach(function (flow) {
    flow.nodes.forEach(function (n) {
      n.flowPlan = flow; nodes[n.dom] = n; byKey[flow.prefix + n.id] = n.dom;
      adjacency[n.dom] = {up: [], down: []};
    });
    flow.edges.forEach(function (e) {
      e.flowPlan = flow;
      var s = byKey[flow.prefix + e.s], t = byKey[flow.prefix + e.t];
      if (adjacency[s]) adjacency[s].down.push(e);
      if (adjacency[t]) adjacency[t].up.push(e);
      edgeByKey[flow.prefix + "|" + e.s + "|" + e.t + "|" + e.k] = e;
    });
  });
  var nodeCount = Object.keys(nodes).length;
  var edgeCount = DATA.flows.reduce(function (a, f) { return a + f.edges.length; }, 0);
  var breakCount = DATA.flows.reduce(function (a, f) { return a + f.breaks.length; }, 0);
  var runTotal = 0, runsUnknown = false;
  DATA.flows.forEach(function (f) {
    f.nodes.forEach(function (n) { if (n.count === null) runsUnknown = true; else runTotal += n.count; });
  });
  document.getElementById("title").textContent = DATA.title;
  document.getElementById("summary").textContent =
    nodeCount + " call site" + (nodeCount === 1 ? "" : "s") + " · " + edgeCount + " edge" +
    (edgeCount === 1 ? "" : "s") + (runTotal ? " · " + (runsUnknown ? "≥ " : "") + runTotal.toLocaleString() + " task runs" : "") +
    (breakCount ? " · " + breakCount + " graph break" + (breakCount === 1 ? "" : "s") : "");

  // ------------------------------------------------------------------ pan and zoom
  var base = (svg.getAttribute("viewBox") || "0 0 100 100").split(/[\s,]+/).map(Number);
  var view = {x: base[0], y: base[1], w: base[2], h: base[3]};
  svg.removeAttribute("width"); svg.removeAttribute("height");
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  function apply() {
    svg.setAttribute("viewBox", [view.x, view.y, view.w, view.h].join(" "));
    if (minimap) minimap.draw();
  }
  var minimap = null;
  function fit() {  // the whole graph, but a small one no larger than 1.3 times its own size
    var r = svg.getBoundingClientRect();
    var s = Math.min(r.width / base[2], r.height / base[3]) || 1, k = Math.max(1, s / 1.3);
    var w = base[2] * k, h = base[3] * k;
    view = {x: base[0] - (w - base[2]) / 2, y: base[1] - (h - base[3]) / 2, w: w, h: h}; apply();
  }
  function scaleNow() {  // screen pixels per SVG unit
    var r = svg.getBoundingClientRect();
    return Math.min(r.width / view.w, r.height / view.h) || 1;
  }
  function toSvg(clientX, clientY) {
    var r = svg.getBoundingClientRect(), s = scaleNow();
    var ox = (r.width - view.w * s) / 2, oy = (r.height - view.h * s) / 2;
    return {x: view.x + (clientX - r.left - ox) / s, y: view.y + (clientY - r.top - oy) / s};
  }
  function zoom(factor, cx, cy) {
    var r = svg.getBoundingClientRect();
    if (cx === undefined) { cx = r.left + r.width / 2; cy = r.top + r.height / 2; }
    var p = toSvg(cx, cy);
    var w = Math.max(20, Math.min(view.w / factor, base[2] * 20));
    var h = w * view.h / view.w;
    view.x = p.x - (p.x - view.x) * (w / view.w);
    view.y = p.y - (p.y - view.y) * (h / view.h);
    view.w = w; view.h = h; apply();
  }
  graph.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    zoom(Math.exp(-ev.deltaY * 0.0015), ev.clientX, ev.clientY);
  }, {passive: false});
  var drag = null;
  graph.addEventListener("mousedown", function (ev) {
    if (ev.button !== 0) return;
    drag = {x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y, moved: false};
  });
  window.addEventListener("mousemove", function (ev) {
    if (!drag) return;
    var s = scaleNow(), dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) { drag.moved = true; graph.classList.add("dragging"); }
    view.x = drag.vx - dx / s; view.y = drag.vy - dy / s; apply();
  });
  window.addEventListener("mouseup", function () {
    graph.classList.remove("dragging");
    setTimeout(function () { drag = null; }, 0);
  });
  document.getElementById("zoom-in").onclick = function () { zoom(1.4); };
  document.getElementById("zoom-out").onclick = function () { zoom(1 / 1.4); };
  document.getElementById("fit").onclick = function () { fit(); clearFocus(); };
  graph.addEventListener("keydown", function (ev) {
    if (ev.key === "+" || ev.key === "=") zoom(1.4);
    else if (ev.key === "-") zoom(1 / 1.4);
    else if (ev.key === "0") fit();
  });

  function boxOf(g) {  // an element's box in the root viewBox's units
    var b = g.getBBox(), m = root.transform && root.transform.baseVal.consolidate();
    var mx = m ? m.matrix : {a: 1, d: 1, e: 0, f: 0};
    return {x: b.x * mx.a + mx.e, y: b.y * mx.d + mx.f, w: b.width * mx.a, h: b.height * mx.d};
  }
  function centerOn(g) {
    var b = boxOf(g), r = svg.getBoundingClientRect(), aspect = (r.height / r.width) || 0.6;
    var w = Math.max(b.w * 5, 600), h = w * aspect;
    if (h < b.h * 4) { h = b.h * 4; w = h / aspect; }
    view = {x: b.x + b.w / 2 - w / 2, y: b.y + b.h / 2 - h / 2, w: w, h: h}; apply();
  }

  // ------------------------------------------------------------------ selection and details
  var selected = null;
  function clearFocus() {
    svg.classList.remove("focusing");
    Array.prototype.forEach.call(svg.querySelectorAll(".near, .selected"), function (e) {
      e.classList.remove("near"); e.classList.remove("selected");
    });
    selected = null;
  }
  function nodeLink(dom, text) {
    var a = el("a", {"class": "node-link", href: "#", "data-node": dom}, text);
    a.onclick = function (ev) { ev.preventDefault(); select(dom, true); };
    return a;
  }
  function kv(table, key, value) {
    var tr = el("tr"); tr.appendChild(el("th", null, key));
    var td = el("td"); if (value instanceof Node) td.appendChild(value); else td.textContent = value;
    tr.appendChild(td); table.appendChild(tr);
  }
  function kindText(n) {
    if (n.kind === "subflow") return "subflow call";
    if (n.kind === "map") return "task.map";
    if (n.kind === "call") return "direct call";
    return n.fanout ? "task.submit in a loop (fan-out)" : "task.submit";
  }
  function countText(n) {
    if (n.count === null || n.count === undefined) return n.dynamic ? "unknown until the run" : "–";
    return n.count.toLocaleString() + " run" + (n.count === 1 ? "" : "s");
  }
  function select(dom, center) {
    clearFocus();
    var n = nodes[dom], g = byDom(dom);
    if (!n || !g) return;
    selected = dom;
    g.classList.add("selected", "near");
    svg.classList.add("focusing");
    var adj = adjacency[dom];
    adj.up.concat(adj.down).forEach(function (e) {
      var ge = byDom(e.dom); if (ge) ge.classList.add("near");
      var other = byDom(byKey[e.flowPlan.prefix + (e.s === n.id ? e.t : e.s)]);
      if (other) other.classList.add("near");
    });
    if (center) centerOn(g);
    showDetails(n);
  }
  function showDetails(n) {
    var box = document.getElementById("details");
    box.innerHTML = "";
    box.appendChild(el("h2", null, "Details"));
    box.appendChild(el("div", {"class": "node-title"}, "")).appendChild(el("strong", null, n.task));
    var t = el("table", {"class": "kv"});
    kv(t, "node", n.id);
    kv(t, "kind", kindText(n));
    kv(t, "flow", n.flow);
    kv(t, "call site", n.module ? "module " + n.module + ", line " + n.line + ":" + n.col
      : n.flowPlan.file + ":" + n.line + ":" + n.col);
    kv(t, "runs", countText(n));
    if (n.dynamic) kv(t, "dynamic", n.dynamic);
    if (n.conditional) kv(t, "conditional", "runs only if a branch on a task result allows");
    if (n.options && n.options.length) kv(t, "options", n.options.join(", "));
    if (n.state) kv(t, "run state", (STATE_TEXT[n.state] || n.state) + (n.stateText ? " — " + n.stateText.replace(/\n/g, " — ") : ""));
    box.appendChild(t);
    if (n.source) box.appendChild(el("pre", {"class": "source"}, n.line + " | " + n.source));
    [["upstream", "up", "s"], ["downstream", "down", "t"]].forEach(function (spec) {
      var list = adjacency[n.dom][spec[1]];
      if (!list.length) return;
      var p = el("div", {"class": spec[0]}); p.appendChild(el("span", {"class": "tag"}, spec[0]));
      list.slice(0, 50).forEach(function (e, i) {
        if (i) p.appendChild(document.createTextNode(", "));
        p.appendChild(nodeLink(byKey[e.flowPlan.prefix + e[spec[2]]], e[spec[2]]));
        if (e.k !== "future") p.appendChild(document.createTextNode(" (" + e.k + ")"));
      });
      if (list.length > 50) p.appendChild(document.createTextNode(" … " + (list.length - 50) + " more"));
      box.appendChild(p);
    });
    if (isExpandable(n)) {
      var open = expanded[n.dom];
      var b = el("button", {type: "button", "class": "expand", "data-node": n.dom},
        (open ? "Collapse " : "Expand ") + runCount(n).toLocaleString() + " runs");
      b.onclick = function () { toggleRuns(n.dom); };
      box.appendChild(b);
      if (open) box.appendChild(runsList(n));
    }
  }
  svg.addEventListener("click", function (ev) {
    if (drag && drag.moved) return;
    var g = ev.target.closest ? ev.target.closest("g.node") : null;
    if (g && nodes[g.id]) select(g.id, false);
    else if (g && g.id.indexOf("break:") === 0) showBreak(g.id);
  });
  svg.addEventListener("dblclick", function (ev) {
    var g = ev.target.closest ? ev.target.closest("g.node") : null;
    if (g && nodes[g.id] && isExpandable(nodes[g.id])) { toggleRuns(g.id); select(g.id, false); }
  });

  // ------------------------------------------------------------------ fan-outs
  var expanded = {};
  function runCount(n) { return n.count !== null && n.count !== undefined ? n.count : n.runs.length; }
  function isExpandable(n) { return (n.fanout || n.kind === "map" || n.runs.length > 1) && runCount(n) > 0; }
  function runsOf(n) {  // the runs to show: recorded or planned; synthesised from the count
    if (n.runs.length) return n.runs;
    var out = [], total = Math.min(runCount(n), 10000);
    for (var i = 0; i < total; i++) out.push({i: i});
    return out;
  }
  function runColour(r) {
    var styles = DATA.run && DATA.run.styles;
    return styles && r.state ? styles[r.state] : {fill: "#e8f5e9", stroke: "#16a34a"};
  }
  function runTitle(n, r) {
    var parts = [n.id + "#" + r.i];
    if (r.name) parts.push(r.name);
    if (r.stateName) parts.push(r.stateName);
    if (r.tries > 1) parts.push(r.tries + " attempts");
    if (r.start && r.end) parts.push(fmtMs(Date.parse(r.end) - Date.parse(r.start)));
    if (r.message) parts.push(r.message);
    return parts.join(" · ");
  }
  function runsList(n) {
    var runs = runsOf(n), wrap = el("div", {"class": "runs-list", "data-node": n.dom});
    var shown = runs.slice(0, 2000);
    shown.forEach(function (r) {
      var c = runColour(r);
      var d = el("span", {"class": "run", title: runTitle(n, r), "data-index": r.i}, "#" + r.i);
      d.style.background = c.fill; d.style.borderColor = c.stroke;
      wrap.appendChild(d);
    });
    if (runs.length > shown.length || runCount(n) > runs.length) {
      wrap.appendChild(el("span", {"class": "more"}, "… " + (runCount(n) - shown.length).toLocaleString() + " more"));
    }
    return wrap;
  }
  function toggleRuns(dom) {
    var n = nodes[dom], g = byDom(dom);
    if (expanded[dom]) {
      expanded[dom].remove(); delete expanded[dom];
      if (g) g.classList.remove("expanded");
    } else if (g) {
      var runs = runsOf(n), shown = runs.slice(0, 400), cols = Math.min(20, shown.length);
      var b = g.getBBox(), cell = 14, pad = 4;
      var rows = Math.ceil(shown.length / cols);
      var grid = sv("g", {"class": "runs-grid", "data-node": dom});
      var width = cols * cell + 2 * pad, height = rows * cell + 2 * pad + 12;
      var x0 = b.x + b.width / 2 - width / 2, y0 = b.y + b.height + 4;
      grid.appendChild(sv("rect", {"class": "bg", x: x0, y: y0, width: width, height: height, rx: 3}));
      grid.appendChild(sv("text", {x: x0 + pad, y: y0 + 10},
        runCount(n).toLocaleString() + " runs" + (runs.length > shown.length || runCount(n) > shown.length ? " (first " + shown.length + " drawn)" : "")));
      shown.forEach(function (r, i) {
        var c = runColour(r);
        var rect = sv("rect", {"class": "cell", x: x0 + pad + (i % cols) * cell, y: y0 + pad + 12 + Math.floor(i / cols) * cell,
          width: cell - 2, height: cell - 2, fill: c.fill, "data-index": r.i});
        rect.appendChild(sv("title", {}, runTitle(n, r)));
        grid.appendChild(rect);
      });
      root.appendChild(grid);
      expanded[dom] = grid; g.classList.add("expanded");
    }
    if (selected === dom || !selected) showDetails(n);
  }

  // ------------------------------------------------------------------ search
  var search = document.getElementById("search"), matches = [], cursor = -1;
  function runSearch() {
    var q = search.value.trim().toLowerCase();
    Array.prototype.forEach.call(svg.querySelectorAll("g.node.match"), function (g) { g.classList.remove("match"); });
    var panel = document.getElementById("results"), list = panel.querySelector("ul");
    list.innerHTML = ""; matches = []; cursor = -1;
    if (!q) { svg.classList.remove("searching"); panel.hidden = true; document.getElementById("search-count").textContent = ""; return; }
    Object.keys(nodes).forEach(function (dom) {
      var n = nodes[dom];
      if (n.task.toLowerCase().indexOf(q) >= 0 || n.id.toLowerCase().indexOf(q) >= 0) matches.push(dom);
    });
    matches.forEach(function (dom, i) {
      var g = byDom(dom); if (g) g.classList.add("match");
      if (i < 200) { var li = el("li"); li.appendChild(nodeLink(dom, nodes[dom].id)); list.appendChild(li); }
    });
    if (matches.length > 200) list.appendChild(el("li", null, "… " + (matches.length - 200) + " more"));
    svg.classList.add("searching"); panel.hidden = false;
    document.getElementById("search-count").textContent = matches.length + " found";
  }
  search.addEventListener("input", runSearch);
  search.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && matches.length) {
      cursor = (cursor + 1) % matches.length; select(matches[cursor], true);
    } else if (ev.key === "Escape") { search.value = ""; runSearch(); }
  });

  // ------------------------------------------------------------------ tasks index
  (function () {
    var byTask = {}, order = [];
    Object.keys(nodes).forEach(function (dom) {
      var n = nodes[dom];
      if (!byTask[n.task]) { byTask[n.task] = {sites: 0, runs: 0, unknown: false, first: dom}; order.push(n.task); }
      var t = byTask[n.task]; t.sites += 1;
      if (n.count === null || n.count === undefined) t.unknown = true; else t.runs += n.count;
    });
    order.sort();
    var list = document.querySelector("#tasks ul");
    order.forEach(function (task) {
      var t = byTask[task], li = el("li");
      var a = el("a", {"class": "node-link task-link", href: "#", "data-task": task}, task);
      a.onclick = function (ev) {
        ev.preventDefault();
        if (t.sites === 1) { select(t.first, true); return; }
        search.value = task; runSearch(); cursor = 0; select(matches[0], true);
      };
      li.appendChild(a);
      li.appendChild(document.createTextNode(" · " + t.sites + " call site" + (t.sites === 1 ? "" : "s") +
        " · " + (t.unknown ? "≥ " : "") + t.runs.toLocaleString() + " run" + (t.runs === 1 ? "" : "s")));
      list.appendChild(li);
    });
  })();

  // ------------------------------------------------------------------ graph breaks
  function showBreak(dom) {
    var g = byDom(dom); if (!g) return;
    clearFocus(); g.classList.add("selected", "near"); svg.classList.add("focusing"); centerOn(g);
  }
  (function () {
    var panel = document.getElementById("breaks"), list = panel.querySelector("ul");
    DATA.flows.forEach(function (flow) {
      flow.breaks.forEach(function (b) {
        var li = el("li"), a = el("a", {"class": "break-link", href: "#", "data-break": b.dom},
          (DATA.flows.length > 1 ? flow.name + " " : "") + "line " + b.line + ":" + b.col);
        a.onclick = function (ev) { ev.preventDefault(); showBreak(b.dom); };
        li.appendChild(a); li.appendChild(document.createTextNode(" — " + b.reason));
        if (b.source) li.appendChild(el("pre", null, b.source));
        if (b.inside.length) {
          var p = el("div", {"class": "inside"}, "in its block: ");
          b.inside.slice(0, 30).forEach(function (dom, i) {
            if (i) p.appendChild(document.createTextNode(", "));
            p.appendChild(nodeLink(dom, nodes[dom] ? nodes[dom].id : dom));
          });
          if (b.inside.length > 30) p.appendChild(document.createTextNode(" … " + (b.inside.length - 30) + " more"));
          li.appendChild(p);
        }
        list.appendChild(li);
      });
    });
    panel.hidden = !list.children.length;
  })();

  // ------------------------------------------------------------------ legend (only what is drawn)
  var SHAPES = {
    submit: ["task.submit", '<rect x="2" y="2" width="30" height="12" fill="#eef4ff" stroke="#333"/>'],
    map: ["task.map / fan-out (×N)", '<rect x="5" y="1" width="27" height="10" fill="#e8f5e9" stroke="#333"/><rect x="2" y="4" width="27" height="10" fill="#e8f5e9" stroke="#333"/>'],
    call: ["direct call", '<ellipse cx="17" cy="8" rx="15" ry="6" fill="#f5f5f5" stroke="#333"/>'],
    subflow: ["subflow call", '<polygon points="8,1 26,1 33,8 26,15 8,15 1,8" fill="#fff" stroke="#333"/>'],
    dynamic: ["dynamic (count known only at run time)", '<rect x="2" y="2" width="30" height="12" fill="#fff" stroke="#333" stroke-dasharray="4 2"/>'],
    conditional: ["conditional (runs only if a branch allows)", '<rect x="2" y="2" width="30" height="12" fill="#fff" stroke="#d97706"/>'],
    "break": ["graph break (analysis stops here)", '<polygon points="8,1 26,1 33,8 26,15 8,15 1,8" fill="#fee2e2" stroke="#dc2626"/>']
  };
  var EDGES = {future: ["future (data)", "", "#333"], wait_for: ["wait_for (order only)", "1 3", "#333"], value: ["value passed on", "5 3", "#888"]};
  (function () {
    var list = document.querySelector("#legend ul");
    function item(svgText, text) {
      var li = el("li");
      li.innerHTML = '<svg class="sample" viewBox="0 0 34 16">' + svgText + "</svg>";
      li.appendChild(document.createTextNode(text)); list.appendChild(li);
    }
    DATA.legend.shapes.forEach(function (k) { if (SHAPES[k]) item(SHAPES[k][1], SHAPES[k][0]); });
    if (DATA.legend.subflowCluster) item('<rect x="2" y="2" width="30" height="12" rx="3" fill="none" stroke="#7c3aed" stroke-dasharray="4 2"/>', "a subflow's own tasks");
    DATA.legend.edges.forEach(function (k) {
      var e = EDGES[k];
      item('<line x1="2" y1="8" x2="28" y2="8" stroke="' + e[2] + '" stroke-dasharray="' + e[1] + '"/><polygon points="28,5 33,8 28,11" fill="' + e[2] + '"/>', e[0]);
    });
    if (DATA.run) DATA.legend.states.forEach(function (k) {
      var s = DATA.run.styles[k];
      item('<rect x="2" y="2" width="30" height="12" fill="' + s.fill + '" stroke="' + s.stroke + '"/>', s.legend);
    });
    var present = {};
    if (DATA.diff) {
      Object.keys(DATA.diff.nodes).forEach(function (k) { present[DATA.diff.nodes[k]] = true; });
      Object.keys(DATA.diff.breaks).forEach(function (k) { present[DATA.diff.breaks[k]] = true; });
      DATA.diff.edges.forEach(function (e) { present[e.how] = true; });
    }
    [["#dcfce7", "#16a34a", "added"], ["#fee2e2", "#dc2626", "removed"], ["#fef3c7", "#d97706", "changed"]].forEach(function (d) {
      if (present[d[2]]) item('<rect x="2" y="2" width="30" height="12" fill="' + d[0] + '" stroke="' + d[1] + '" stroke-width="2"/>', d[2]);
    });
  })();

  // ------------------------------------------------------------------ diff
  if (DATA.diff) (function () {
    var d = DATA.diff, panel = document.getElementById("changes"), list = panel.querySelector("ul");
    Object.keys(d.nodes).forEach(function (dom) { var g = byDom(dom); if (g) g.classList.add("diff-" + d.nodes[dom]); });
    Object.keys(d.breaks).forEach(function (dom) { var g = byDom(dom); if (g) g.classList.add("diff-" + d.breaks[dom]); });
    var prefix = DATA.flows.length === 1 ? DATA.flows[0].prefix : "";
    d.edges.forEach(function (e) {
      var f = edgeByKey[prefix + "|" + e.s + "|" + e.t + "|" + e.k];
      var g = f && byDom(f.dom); if (g) g.classList.add("diff-" + e.how);
    });
    d.summary.forEach(function (line) {
      var li = el("li"), m = /^([+\-~]) (\S+)/.exec(line);
      var dom = m && (byKey[prefix + m[2]]);
      if (dom) { li.appendChild(document.createTextNode(m[1] + " ")); li.appendChild(nodeLink(dom, m[2])); li.appendChild(document.createTextNode(line.slice(m[0].length))); }
      else li.textContent = line;
      list.appendChild(li);
    });
    if (!d.summary.length) list.appendChild(el("li", null, "no change to the graph"));
    panel.hidden = false;
  })();

  // ------------------------------------------------------------------ for run.js
  window.flowcView = {DATA: DATA, el: el, sv: sv, kv: kv, fmtMs: fmtMs, fmtS: fmtS,
    select: select, byKey: byKey};

  // A graph too large to read whole (a wide tree of 2,000 call sites) opens on its start,
  // zoomed so that labels are legible; Fit shows it all, search and the lists find the rest.
  function start() {
    fit();
    if (scaleNow() >= 0.35) return;
    var first = DATA.flows.length && DATA.flows[0].nodes.length && byDom(DATA.flows[0].nodes[0].dom);
    if (first) { centerOn(first); var b = boxOf(first); view.y = Math.max(base[1], b.y - 40); if (b.x - base[0] < view.w / 2) view.x = base[0]; apply(); }
  }
  // An overview of a graph too large for the window: where the view is, and a click away.
  function buildMinimap() {
    var width = 220, height = Math.max(40, Math.min(220, width * base[3] / base[2]));
    width = Math.min(width, height * base[2] / base[3]) || width;
    var canvas = el("canvas", {id: "minimap", width: Math.round(width), height: Math.round(height),
      title: "Overview: click or drag to move the view"});
    graph.appendChild(canvas);
    // stretched to at least 40 px each way: a 50:1 graph still gives a usable strip
    var ctx = canvas.getContext("2d"), kx = canvas.width / base[2], ky = canvas.height / base[3];
    ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = "#64748b";
    Array.prototype.forEach.call(svg.querySelectorAll("g.node"), function (g) {
      var b = boxOf(g);
      ctx.fillRect((b.x - base[0]) * kx, (b.y - base[1]) * ky, Math.max(1, b.w * kx), Math.max(1, b.h * ky));
    });
    var image = ctx.getImageData(0, 0, canvas.width, canvas.height);
    function moveTo(ev) {
      var r = canvas.getBoundingClientRect();
      view.x = base[0] + (ev.clientX - r.left) / kx - view.w / 2;
      view.y = base[1] + (ev.clientY - r.top) / ky - view.h / 2;
      apply();
    }
    var held = false;
    canvas.addEventListener("mousedown", function (ev) { ev.stopPropagation(); held = true; moveTo(ev); });
    canvas.addEventListener("mousemove", function (ev) { if (held) { ev.stopPropagation(); moveTo(ev); } });
    window.addEventListener("mouseup", function () { held = false; });
    return {draw: function () {
      ctx.putImageData(image, 0, 0);
      ctx.strokeStyle = "#2563eb"; ctx.lineWidth = 2;
      ctx.strokeRect((view.x - base[0]) * kx, (view.y - base[1]) * ky, Math.max(3, view.w * kx), Math.max(3, view.h * ky));
    }};
  }
  fit();
  if (scaleNow() < 0.35 && nodeCount > 1) minimap = buildMinimap();
  start();
  window.addEventListener("resize", function () { if (!selected) start(); });
})();
