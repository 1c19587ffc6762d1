// aloft dashboard: polls the page's JSON (body[data-live]) every 2 s and redraws the live parts.
// Small on purpose: no framework, no build. Data is only ever written with textContent.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var W = 300, H = 80, TOP = 11;  // a chart's viewBox; TOP: room above the highest value
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

  function hhmm(t) { return new Date(t * 1000).toISOString().slice(11, 16); }

  // The nicest round number at or above v (1, 2, 5 × 10^n): the top of a chart's scale.
  function niceMax(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    return [1, 2, 5, 10].map(function (m) { return m * p; }).find(function (m) { return m >= v; });
  }

  // One chart over the window: bars (stacked when there are several keys) or lines, placed by
  // time; an x axis of five times below it, a scale in the caption. Points carry a <title>.
  function drawChart(fig, series, win) {
    var keys = fig.dataset.keys.split(" "), lines = fig.dataset.kind === "lines";
    var svg = fig.querySelector("svg"), start = win.end - win.seconds;
    var x = function (t) { return (t - start) / win.seconds * W; };
    var slot = win.step / win.seconds * W;
    var top = 0, sum = 0, latest = null, count = 0;
    series.forEach(function (p) {
      var stacked = 0;
      keys.forEach(function (k) {
        var v = p[k];
        if (v === null || v === undefined) return;
        stacked = lines ? Math.max(stacked, v) : stacked + v;
        sum += v; count += 1;
        if (k === keys[keys.length - 1] || lines) latest = v;
      });
      top = Math.max(top, stacked);
    });
    var limit = Number(fig.dataset.limit || 0);
    var max = niceMax(Math.max(top, lines && limit && top > limit * 0.6 ? limit : 0));
    var y = function (v) { return H - v / max * (H - TOP); };
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    [0.5, 1].forEach(function (f) {
      svg.appendChild(el("svg:line", { x1: 0, x2: W, y1: y(max * f), y2: y(max * f), "class": "grid" }));
    });
    svg.appendChild(el("svg:line", { x1: 0, y1: H, x2: W, y2: H, "class": "baseline" }));
    if (limit && max >= limit) {
      svg.appendChild(el("svg:line", { x1: 0, x2: W, y1: y(limit), y2: y(limit), "class": "limit" }));
    }
    var points = 0;
    if (lines) {
      keys.forEach(function (k) {
        var run = [];
        var flush = function () {
          if (run.length > 1) svg.appendChild(el("svg:polyline", { points: run.join(" "), "class": "line k-" + k }));
          run = [];
        };
        series.forEach(function (p) {
          var v = p[k];
          if (v === null || v === undefined) { flush(); return; }
          var cx = (x(p.time) + slot / 2).toFixed(1), cy = y(v).toFixed(1);
          run.push(cx + "," + cy);
          var dot = el("svg:line", { x1: cx, y1: cy, x2: cx, y2: cy, "class": "dot k-" + k });
          dot.appendChild(el("svg:title", {}, hhmm(p.time) + " UTC · " + k.replace("_ms", "") + " " + fmt(v)));
          svg.appendChild(dot);
          points += 1;
        });
        flush();
      });
    } else {
      series.forEach(function (p) {
        var base = H;
        keys.forEach(function (k) {
          var v = p[k];
          if (!v) return;
          var h = v / max * (H - TOP);
          var bar = el("svg:rect", {
            x: (x(p.time) + slot * 0.1).toFixed(2), y: (base - h).toFixed(2),
            width: Math.max(0.6, slot * 0.8).toFixed(2), height: h.toFixed(2), "class": "bar k-" + k
          });
          bar.appendChild(el("svg:title", {}, hhmm(p.time) + " UTC · " + (keys.length > 1 ? k + " " : "") + v));
          svg.appendChild(bar);
          base -= h;
          points += 1;
        });
      });
    }
    var axis = fig.querySelector(".axis");
    while (axis.firstChild) axis.removeChild(axis.firstChild);
    for (var i = 0; i <= 4; i++) axis.appendChild(el("span", {}, hhmm(start + win.seconds * i / 4)));
    fig.dataset.points = String(points);
    fig.dataset.window = String(win.seconds);
    fig.dataset.start = String(start);
    var total = lines ? latest : sum;
    fig.dataset.total = total === null ? "" : String(total);
    fig.querySelector(".total").textContent = lines
      ? (count ? "max " + fmt(top) : "no data") : fmt(sum);
    fig.querySelector(".total").title = lines ? "the highest value in the window"
      : "the total over the window";
    fig.querySelector(".ymax").textContent = fmt(max);
  }

  function setField(field, key, value) {
    document.querySelectorAll('[data-field="' + field + '"]').forEach(function (node) {
      if (key === null || node.dataset.key === key) node.textContent = String(value);
    });
  }

  function logsHref(service, stage, requestId) {
    return "/_aloft/logs?" + new URLSearchParams({ service: service, stage: stage, request_id: requestId });
  }

  function statusClass(status) {
    return /^5\d\d$/.test(status) ? "status-5xx" : /^4\d\d$/.test(status) ? "status-4xx" : "status-" + status;
  }

  function applyStage(d) {
    var wanted = new URL(live, location.href).searchParams.get("window");
    if (wanted && d.window && d.window.name !== wanted) return;  // an answer for the old window
    d.functions.forEach(function (fn) {
      setField("instances", fn["function"], fn.instances);
      document.querySelectorAll('figure.chart[data-function="' + CSS.escape(fn["function"]) + '"]')
        .forEach(function (fig) { drawChart(fig, fn.series, d.window); });
    });
    document.querySelectorAll(".window-label").forEach(function (node) {
      var current = document.querySelector('nav.windows a[data-window="' + d.window.name + '"]');
      if (current) node.textContent = current.dataset.label || node.textContent;
    });
    var alias = document.getElementById("alias");
    if (alias) alias.textContent = d.alias;
    var tbody = document.getElementById("recent");
    if (!tbody || !d.recent.length) return;
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    d.recent.forEach(function (inv) {
      var tr = el("tr", { "class": statusClass(inv.status) });
      var time = new Date(inv.time * 1000).toISOString().replace("T", " ").slice(0, 19);
      [time, inv.name, String(inv.version), inv.status, inv.duration_ms.toFixed(1) + " ms",
       inv.cold ? "cold" : ""].forEach(function (text, i) {
        tr.appendChild(el("td", i === 2 || i === 4 ? { "class": "num" } : {}, text));
      });
      var td = el("td");
      td.appendChild(el("a", { href: logsHref(d.service, d.stage, inv.request_id) }, inv.request_id));
      tr.appendChild(td);
      var trace = el("td", { "class": "trace" });
      trace.appendChild(el("code", {}, inv.trace_id || ""));
      tr.appendChild(trace);
      tbody.appendChild(tr);
    });
  }

  function applyOverview(d) {
    var p = d.platform;
    setField("platform-live-instances", null, p.instances);
    setField("platform-async-events-run", null, p.async_processed);
    setField("platform-schedules-fired", null, p.schedules_fired);
    setField("platform-log-store", null, p.log_store);
    d.stages.forEach(function (s) { setField("stage-instances", s.service + "/" + s.stage, s.instances); });
    (d.functions || []).forEach(function (fn) {
      var key = fn.service + "/" + fn.stage + "/" + fn["function"];
      ["invocations", "errors", "4xx", "5xx", "instances"].forEach(function (f) { setField("fn-" + f, key, fn[f]); });
      setField("fn-p99_ms", key, fn.p99_ms === null ? "-" : fmt(fn.p99_ms) + " ms");
    });
  }

  // Same rules as views.log_kind: a request line by its status, START/END/REPORT, an error.
  function logKind(text) {
    var request = /^REQUEST [A-Z]+ .+ (\d{3}) [\d.]+ ms RequestId: [\w-]+$/.exec(text);
    if (request) return request[1] >= "500" ? "request error" : request[1] >= "400" ? "request warn" : "request";
    if (/^(START|END|REPORT) /.test(text)) return "meta";
    return /error|Traceback/i.test(text) ? "error" : "";
  }

  function atBottom(pre) { return pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24; }

  function applyLogs(d, pre) {
    d.lines.forEach(function (line) {
      var span = el("span", { "class": "line " + logKind(line.text) });
      var time = new Date(line.time * 1000).toISOString().replace("T", " ").slice(0, 19);
      span.appendChild(el("span", { "class": "dim" }, time + " " + line["function"] + " v" + line.version));
      span.appendChild(document.createTextNode(" " + line.text + "\n"));
      pre.appendChild(span);
    });
    pre.dataset.cursor = String(d.cursor);
    var follow = document.getElementById("follow");
    if (d.lines.length && (!follow || follow.checked)) pre.scrollTop = pre.scrollHeight;
  }

  function setupLogs(pre) {
    var follow = document.getElementById("follow");
    pre.scrollTop = pre.scrollHeight;  // the log opens at its newest line
    if (!follow) return;
    pre.addEventListener("scroll", function () {
      // scrolling up to read pauses following; back at the bottom, it follows again
      follow.checked = atBottom(pre);
    });
    follow.addEventListener("change", function () { if (follow.checked) pre.scrollTop = pre.scrollHeight; });
  }

  // The window picker: switch without reloading (the links also work without this script).
  function setupWindows() {
    var labels = { "15m": "last 15 minutes, per minute", "1h": "last hour, per minute",
                   "6h": "last 6 hours, per 5 minutes", "24h": "last 24 hours, per 15 minutes" };
    document.querySelectorAll("nav.windows a").forEach(function (a) {
      a.dataset.label = labels[a.dataset.window];
      a.addEventListener("click", function (event) {
        event.preventDefault();
        var url = new URL(live, location.href);
        url.searchParams.set("window", a.dataset.window);
        live = url.pathname + url.search;
        var page = new URL(location.href);
        page.searchParams.set("window", a.dataset.window);
        history.replaceState(null, "", page.pathname + page.search);
        document.querySelectorAll("nav.windows a").forEach(function (b) {
          if (b === a) b.setAttribute("aria-current", "true"); else b.removeAttribute("aria-current");
        });
        poll(true);
      });
    });
  }

  function url() {
    var pre = document.getElementById("log");
    return pre ? live + "&after=" + encodeURIComponent(pre.dataset.cursor || "0") : live;
  }

  var busy = false;
  function poll(force) {
    if ((busy && !force) || document.hidden) return;
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

  var pre = document.getElementById("log");
  if (pre) setupLogs(pre);
  if (live) {
    setupWindows();
    poll();
    setInterval(poll, 2000);
  }
})();
