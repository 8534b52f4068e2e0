/* flowc's HTML view, a run: outcome, result or error, artifacts, a timeline of task runs per
   worker lane, durations per task. Reads what view.js shares in window.flowcView. */
(function (V) {
  "use strict";
  var DATA = V.DATA, el = V.el, sv = V.sv, kv = V.kv, fmtMs = V.fmtMs, fmtS = V.fmtS;
  var select = V.select, byKey = V.byKey;

  if (DATA.run) (function () {
    var r = DATA.run, panel = document.getElementById("run");
    var t = el("table", {"class": "kv"});
    var state = el("span", {"class": "tag " + (r.state === "completed" ? "good" : r.state === "failed" ? "bad" : "warn")}, r.stateName);
    kv(t, "flow run", r.flowRun); kv(t, "state", state);
    kv(t, "task runs", r.taskRuns.toLocaleString());
    if (r.duration !== null) kv(t, "duration", fmtMs(r.duration));
    if (r.unmatched) kv(t, "unmatched", r.unmatched + " task run(s) match no node (another version of the file?)");
    if (r.mappedBy === "name" || r.mappedBy === "node and name") kv(t, "placed by", "task name (the report has no node ids)");
    panel.appendChild(t);
    if (r.result !== null && r.result !== undefined) { panel.appendChild(el("h2", null, "Result")); panel.appendChild(el("pre", {"class": "result"}, r.result)); }
    if (r.state !== "completed" && r.message) { panel.appendChild(el("h2", null, "Error")); panel.appendChild(el("pre", {"class": "error"}, r.message)); }
    if (r.artifacts && r.artifacts.length) panel.appendChild(artifacts(r.artifacts));
    panel.hidden = false;
    timeline(r); stats(r);
  })();

  function artifacts(items) {
    var box = el("div", {"class": "artifacts"});
    box.appendChild(el("h2", null, "Artifacts"));
    var list = Array.isArray(items) ? items : (typeof items === "object" ? Object.keys(items).map(function (k) {
      var v = items[k]; return (v && typeof v === "object" && !Array.isArray(v)) ? Object.assign({key: k}, v) : {key: k, data: v};
    }) : [{data: items}]);
    if (!list.length) box.appendChild(el("p", {"class": "hint"}, "none"));
    list.forEach(function (a) {
      var item = el("div", {"class": "artifact"});
      if (a && typeof a === "object") {
        var head = [a.key, a.type, a.task_run_name || a.task || a.node].filter(Boolean).join(" · ");
        item.appendChild(el("strong", null, head || "artifact"));
        if (a.description) item.appendChild(el("div", {"class": "hint"}, a.description));
        var body = a.data !== undefined ? a.data : a;
        item.appendChild(el("pre", null, typeof body === "string" ? body : JSON.stringify(body, null, 2)));
      } else item.appendChild(el("pre", null, String(a)));
      box.appendChild(item);
    });
    return box;
  }

  function timeline(r) {
    var bars = r.timeline;
    if (!bars.length) return;
    var section = document.getElementById("timeline"), body = document.getElementById("timeline-body");
    var end = Math.max.apply(null, bars.map(function (b) { return b.e; }).concat([1e-3]));
    var laneH = 16, left = 70, width = Math.max(600, (section.clientWidth || 1000) - 40), plotW = width - left - 10;
    var height = r.lanes.length * laneH + 24;
    var s = sv("svg", {width: width, height: height, "class": "timeline"});
    for (var k = 0; k <= 5; k++) {
      var x = left + plotW * k / 5;
      s.appendChild(sv("line", {"class": "grid", x1: x, x2: x, y1: 0, y2: height - 14}));
      s.appendChild(sv("text", {"class": "tick", x: x, y: height - 2, "text-anchor": k === 5 ? "end" : "middle"}, fmtMs(end * k / 5)));
    }
    r.lanes.forEach(function (name, i) {
      s.appendChild(sv("text", {"class": "lane-label", x: 4, y: i * laneH + 12}, name));
    });
    bars.forEach(function (b) {
      var st = r.styles[b.state] || r.styles.unfinished;
      var x = left + plotW * b.s / end, w = Math.max(1.5, plotW * (b.e - b.s) / end);
      var rect = sv("rect", {"class": "bar", x: x, y: b.lane * laneH + 2, width: w, height: laneH - 4,
        fill: st.fill, stroke: st.stroke, "data-node": b.node || "", "data-state": b.state});
      rect.appendChild(sv("title", {}, b.name + " · " + b.stateName + " · " + fmtMs(b.e - b.s) +
        " (from " + fmtMs(b.s) + ")" + (b.tries > 1 ? " · " + b.tries + " attempts" : "")));
      if (b.node) rect.addEventListener("click", function () {
        var dom = byKey[(DATA.flows.length === 1 ? DATA.flows[0].prefix : r.flow + "/") + b.node];
        if (dom) select(dom, true);
      });
      s.appendChild(rect);
      if (w > 70) s.appendChild(sv("text", {"class": "tick", x: x + 3, y: b.lane * laneH + 11.5}, b.name.slice(0, Math.floor(w / 6.5))));
      if (b.tries > 1) s.appendChild(sv("text", {"class": "tick", x: x + w + 2, y: b.lane * laneH + 12}, "↻" + (b.tries - 1)));
    });
    body.appendChild(s);
    if (r.firstTaskAfter) body.appendChild(el("p", {"class": "hint"}, "times from the first task run's start, " + fmtMs(r.firstTaskAfter) + " after the flow run's"));
    if (r.timelineLeftOut) body.appendChild(el("p", {"class": "hint"}, r.timelineLeftOut.toLocaleString() + " later task runs not drawn"));
    section.hidden = false;
  }

  function stats(r) {
    if (!r.stats.length) return;
    var t = el("table", {"class": "stats"}), head = el("tr");
    ["task", "timed runs", "failed", "retries", "min", "median", "mean", "p95", "max", "total"].forEach(function (h) { head.appendChild(el("th", null, h)); });
    t.appendChild(head);
    r.stats.forEach(function (row) {
      var tr = el("tr");
      [row.task, row.timed, row.failed, row.retries, fmtS(row.min), fmtS(row.median), fmtS(row.mean), fmtS(row.p95), fmtS(row.max), fmtS(row.total)]
        .forEach(function (v) { tr.appendChild(el("td", null, v)); });
      t.appendChild(tr);
    });
    document.getElementById("stats-body").appendChild(t);
    document.getElementById("stats").hidden = false;
  }

  document.body.setAttribute("data-ready", "true");
})(window.flowcView);
