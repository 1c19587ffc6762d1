// aloft dashboard: polls the page's JSON (body[data-live]) every 2 s and redraws the live parts.
// Small on purpose: no framework, no build. Data is only ever written with textContent.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var W = 300, H = 90, PAD = 4;
  var body = document.body;
  var live = body.dataset.live;

  function el(name, attrs, text) {
    var node = name.indexOf("svg:") === 0
      ? document.createElementNS(SVG, name.slice(4)) : document.createElement(name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function fmt(v) {
    if (v === null || v === undefined) return "–";
    return v >= 100 ? String(Math.round(v)) : String(Math.round(v * 10) / 10);
  }

  // One chart: bars for counts, a line for durations; 60 per-minute points, oldest first.
  function drawChart(fig, series) {
    var key = fig.dataset.metric, svg = fig.querySelector("svg");
    var values = series.map(function (p) { return p[key]; });
    var present = values.filter(function (v) { return v !== null && v !== undefined; });
    var max = Math.max.apply(null, [1].concat(present));
    var isDuration = /_ms$/.test(key);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    svg.appendChild(el("svg:line", { x1: 0, y1: H - PAD, x2: W, y2: H - PAD, "class": "axis" }));
    var step = W / values.length;
    var y = function (v) { return H - PAD - (v / max) * (H - 2 * PAD - 10); };
    if (isDuration) {
      var points = [];
      values.forEach(function (v, i) {
        if (v !== null && v !== undefined) points.push((i * step + step / 2).toFixed(1) + "," + y(v).toFixed(1));
      });
      if (points.length > 1) svg.appendChild(el("svg:polyline", { points: points.join(" "), "class": "line" }));
      points.forEach(function (p) {
        var xy = p.split(",");
        svg.appendChild(el("svg:circle", { cx: xy[0], cy: xy[1], r: 2, "class": "dot" }));
      });
    } else {
      values.forEach(function (v, i) {
        if (!v) return;
        var top = y(v);
        svg.appendChild(el("svg:rect", {
          x: (i * step + 0.5).toFixed(1), y: top.toFixed(1),
          width: Math.max(1, step - 1).toFixed(1), height: (H - PAD - top).toFixed(1),
          "class": key === "errors" || key === "throttles" ? "bar bad" : "bar"
        }));
      });
    }
    svg.appendChild(el("svg:text", { x: W - 2, y: 10, "text-anchor": "end", "class": "scale" }, "max " + fmt(max)));
    var total = isDuration ? (present.length ? present[present.length - 1] : null)
      : present.reduce(function (a, b) { return a + b; }, 0);
    fig.dataset.total = total === null ? "" : String(total);
    fig.querySelector(".total").textContent = isDuration ? "latest " + fmt(total) : fmt(total) + " in the hour";
  }

  function setField(field, key, value) {
    document.querySelectorAll('[data-field="' + field + '"]').forEach(function (node) {
      if (key === null || node.dataset.key === key) node.textContent = String(value);
    });
  }

  function logsHref(service, stage, requestId) {
    return "/_aloft/logs?" + new URLSearchParams({ service: service, stage: stage, request_id: requestId });
  }

  function applyStage(d) {
    d.functions.forEach(function (fn) {
      setField("instances", fn["function"], fn.instances);
      document.querySelectorAll('figure.chart[data-function="' + CSS.escape(fn["function"]) + '"]')
        .forEach(function (fig) { drawChart(fig, fn.series); });
    });
    var alias = document.getElementById("alias");
    if (alias) alias.textContent = d.alias;
    var tbody = document.getElementById("recent");
    if (!tbody || !d.recent.length) return;
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    d.recent.forEach(function (inv) {
      var tr = el("tr", { "class": "status-" + inv.status });
      var time = new Date(inv.time * 1000).toISOString().replace("T", " ").slice(0, 19);
      [time, inv.name, String(inv.version), inv.status, inv.duration_ms.toFixed(1) + " ms",
       inv.cold ? "cold" : ""].forEach(function (text, i) {
        tr.appendChild(el("td", i === 2 || i === 4 ? { "class": "num" } : {}, text));
      });
      var td = el("td");
      td.appendChild(el("a", { href: logsHref(d.service, d.stage, inv.request_id) }, inv.request_id));
      tr.appendChild(td);
      tbody.appendChild(tr);
    });
  }

  function applyOverview(d) {
    var p = d.platform;
    setField("platform-live-instances", null, p.instances);
    setField("platform-async-events-run", null, p.async_processed);
    setField("platform-schedules-fired", null, p.schedules_fired);
    d.stages.forEach(function (s) { setField("stage-instances", s.service + "/" + s.stage, s.instances); });
  }

  function applyLogs(d, pre) {
    d.lines.forEach(function (line) {
      var text = line.text, kind = /^(START|END|REPORT) /.test(text) ? "meta"
        : (/error|Traceback/i.test(text) ? "error" : "");
      var span = el("span", { "class": "line " + kind });
      var time = new Date(line.time * 1000).toISOString().replace("T", " ").slice(0, 19);
      span.appendChild(el("span", { "class": "dim" }, time + " " + line["function"] + " v" + line.version));
      span.appendChild(document.createTextNode(" " + text + "\n"));
      pre.appendChild(span);
    });
    pre.dataset.cursor = String(d.cursor);
    if (d.lines.length) pre.scrollTop = pre.scrollHeight;
  }

  function url() {
    var pre = document.getElementById("log");
    return pre ? live + "&after=" + encodeURIComponent(pre.dataset.cursor || "0") : live;
  }

  var busy = false;
  function poll() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(url(), { credentials: "same-origin", headers: { "X-Requested-With": "aloft" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (d) {
        if (!d) return;
        var pre = document.getElementById("log");
        if (pre) applyLogs(d, pre);
        else if (d.platform) applyOverview(d);
        else if (d.functions) applyStage(d);
        body.dataset.updated = String(Date.now());
      })
      .catch(function () { /* the daemon may be restarting: try again at the next tick */ })
      .then(function () { busy = false; });
  }

  if (live) {
    poll();
    setInterval(poll, 2000);
  }
})();
