"""The dashboard's pages as HTML strings: pure functions of the data in `dashboard.data`.

Every value is escaped (`html.escape`) where it is written; the script (`assets/dashboard.js`)
only ever sets `textContent`. No inline script or style: the Content-Security-Policy forbids them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from aloft import access_log
from aloft.local.control.dashboard.auth import CSRF_FIELD

CHARTS = (  # (id, title, how it is drawn, the series keys it shows)
    ("invocations", "Invocations", "bars", ("invocations",)),
    ("errors", "Errors", "bars", ("errors",)),
    ("http", "4xx / 5xx", "bars", ("4xx", "5xx")),
    ("throttles", "Throttles", "bars", ("throttles",)),
    ("duration", "Duration (ms)", "lines", ("p50_ms", "p99_ms")),
    ("instances", "Concurrent instances", "bars", ("concurrent_instances",)),
    ("memory", "Memory used (MB)", "lines", ("memory_mb",)),
    ("cold_starts", "Cold starts", "bars", ("cold_starts",)),
)
LEGENDS = {"4xx": "4xx", "5xx": "5xx", "p50_ms": "p50", "p99_ms": "p99"}
WINDOW_LABELS = {"15m": ("15 min", "last 15 minutes, per minute"),
                 "1h": ("1 h", "last hour, per minute"),
                 "6h": ("6 h", "last 6 hours, per 5 minutes"),
                 "24h": ("24 h", "last 24 hours, per 15 minutes")}


def e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def when(ts: float | None) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def stage_href(service: str, stage: str, suffix: str = "") -> str:
    return f"/_aloft/stages/{quote(service, safe='')}/{quote(stage, safe='')}{suffix}"


def logs_href(service: str, stage: str, **params: Any) -> str:
    query = {"service": service, "stage": stage, **{k: v for k, v in params.items() if v}}
    return "/_aloft/logs?" + urlencode(query)


def page(title: str, body: str, *, csrf: str, live: str | None = None) -> str:
    """The layout around every page. `live` is the JSON endpoint the script polls."""
    live_attr = f' data-live="{e(live)}"' if live else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} · aloft</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/_aloft/assets/dashboard.css">
<script src="/_aloft/assets/dashboard.js" defer></script>
</head><body data-csrf="{e(csrf)}"{live_attr}>
<header><a class="brand" href="/_aloft/">aloft</a> <span class="dim">local cloud</span>
<nav><a href="/_aloft/">Overview</a></nav></header>
<main>
{body}
</main></body></html>
"""


def table(headers: list[str], rows: list[str], *, body_id: str | None = None,
          empty: str = "nothing yet") -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    tbody_id = f' id="{e(body_id)}"' if body_id else ""
    content = "".join(rows) or (
        f'<tr class="empty"><td colspan="{len(headers)}">{e(empty)}</td></tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody{tbody_id}>{content}</tbody></table>"


def unauthorised() -> str:
    return """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>aloft: sign in</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/_aloft/assets/dashboard.css"></head><body><main>
<h1>This dashboard needs its link</h1>
<p>The local cloud's dashboard opens from a link that carries its token once.
Run <code>aloft dashboard</code> (or <code>aloft cloud status</code>) in a terminal and open the
link it prints.</p></main></body></html>
"""


def overview(data: dict[str, Any], *, csrf: str) -> str:
    plat = data["platform"]
    rows = []
    for s in data["stages"]:
        functions = ", ".join(f"{name} v{v}" for name, v in s["functions"].items())
        key = f"{s['service']}/{s['stage']}"
        rows.append(
            f'<tr><td><a href="{e(stage_href(s["service"], s["stage"]))}">{e(s["service"])}</a>'
            f'</td><td>{e(s["stage"])}</td><td><a href="{e(s["url"])}">{e(s["url"])}</a></td>'
            f'<td class="num">{e(s["version"])}</td><td>{e(functions)}</td>'
            f'<td class="num" data-field="stage-instances" data-key="{e(key)}">'
            f'{e(s["instances"])}</td>'
            f'<td><a href="{e(logs_href(s["service"], s["stage"]))}">logs</a></td></tr>')
    facts = [("port", plat["port"]), ("pid", plat["pid"]), ("home", plat["home"]),
             ("live instances", plat["instances"]), ("async events run", plat["async_processed"]),
             ("schedules fired", plat["schedules_fired"]), ("log store", plat["log_store"])]
    fact_html = "".join(
        f'<div class="fact"><span class="dim">{e(k)}</span> '
        f'<b data-field="platform-{e(k.replace(" ", "-"))}">{e(v)}</b></div>' for k, v in facts)
    body = (f"<h1>Local cloud</h1><section class=\"facts\">{fact_html}</section>"
            "<h2>Services and stages</h2>"
            + table(["service", "stage", "URL", "version", "functions", "instances", ""], rows,
                    empty="nothing deployed yet: run `aloft deploy dev` in a project")
            + '<h2>Functions <span class="dim">last hour</span></h2>'
            + table(["stage", "function", "version", "invocations", "errors", "4xx", "5xx",
                     "p99", "instances"], [function_row(f) for f in data["functions"]],
                    body_id="functions", empty="no function deployed yet"))
    return page("Overview", body, csrf=csrf, live="/_aloft/data/overview")


OVERVIEW_NUMBERS = ("invocations", "errors", "4xx", "5xx", "p99_ms", "instances")


def function_row(fn: dict[str, Any]) -> str:
    """A function in the overview; its numbers carry data-field/data-key for the script."""
    key = f'{fn["service"]}/{fn["stage"]}/{fn["function"]}'
    cells = "".join(
        f'<td class="num{" bad" if field in ("errors", "5xx") and fn[field] else ""}'
        f'{" warn" if field == "4xx" and fn[field] else ""}" data-field="fn-{field}" '
        f'data-key="{e(key)}">{e(ms(fn[field]) if field == "p99_ms" else fn[field])}</td>'
        for field in OVERVIEW_NUMBERS)
    return (f'<tr><td><a href="{e(stage_href(fn["service"], fn["stage"]))}">'
            f'{e(fn["service"])} / {e(fn["stage"])}</a></td><td>{e(fn["function"])}</td>'
            f'<td class="num">{e(fn["version"])}</td>{cells}</tr>')


def ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms"


def _function_rows(data: dict[str, Any]) -> list[str]:
    rows = []
    for fn in data["functions"]:
        concurrency = fn["concurrency"] if fn["concurrency"] is not None else "account"
        rows.append(
            f'<tr><td>{e(fn["function"])}</td><td class="dim">{e(fn["physical"])}</td>'
            f'<td class="num">{e(fn["version"])}</td><td>{e(data["stage"])} → {e(fn["version"])}'
            f'</td><td class="num">{e(fn["memory"])} MB</td><td class="num">{e(fn["timeout"])} s'
            f'</td><td>{e(concurrency)}</td><td class="num">{e(fn["keep_alive"])} s</td>'
            f'<td>{e(fn["payload"])}{" · snapshot" if fn["snapshot"] else ""}</td>'
            f'<td class="num" data-field="instances" data-key="{e(fn["function"])}">'
            f'{e(fn["instances"])}</td></tr>')
    return rows


def _charts(data: dict[str, Any]) -> str:
    """Empty figures the script draws into; each says what it shows (data-keys, data-kind)."""
    window = data["window"]["name"]
    current = ' aria-current="true"'
    picker = "".join(
        f'<a href="?window={key}" data-window="{key}"{current if key == window else ""}>'
        f"{e(label)}</a>" for key, (label, _) in WINDOW_LABELS.items())
    panels = []
    for fn in data["functions"]:
        charts = []
        for key, title, kind, keys in CHARTS:
            legend = "".join(f'<i class="swatch k-{k}"></i>{e(LEGENDS[k])} ' for k in keys
                             if k in LEGENDS)
            limit = f' data-limit="{e(fn["memory"])}"' if key == "memory" else ""
            charts.append(
                f'<figure class="chart" data-function="{e(fn["function"])}" data-metric="{key}" '
                f'data-keys="{" ".join(keys)}" data-kind="{kind}"{limit}>'
                f'<figcaption><span>{e(title)}<span class="legend">{legend}</span></span>'
                f'<b class="total"></b></figcaption><div class="plot"><svg viewBox="0 0 300 80" '
                f'preserveAspectRatio="none" role="img" aria-label="{e(title)}"></svg>'
                f'<span class="ymax"></span></div><div class="axis"></div></figure>')
        panels.append(f'<section class="panel"><h3>{e(fn["function"])} '
                      f'<span class="dim window-label">{e(WINDOW_LABELS[window][1])}</span></h3>'
                      f'<div class="charts">{"".join(charts)}</div></section>')
    return (f'<nav class="windows" aria-label="Time window">{picker}</nav>'
            f'<p class="dim axis-note">times in UTC</p>{"".join(panels)}')


def _api_keys(keys: list[dict[str, str]]) -> str:
    """The stage's API keys (`x-api-key` of its `private` routes), when it has any."""
    if not keys:
        return ""
    rows = [f'<tr><td>{e(k["name"])}</td><td><code>{e(k["value"])}</code></td></tr>'
            for k in keys]
    return f'<h2>API keys</h2>\n{table(["name", "x-api-key"], rows)}\n'


def invocation_row(inv: dict[str, Any], service: str, stage: str) -> str:
    href = logs_href(service, stage, request_id=inv["request_id"])
    return (f'<tr class="status-{e(inv["status"])}"><td>{e(when(inv["time"]))}</td>'
            f'<td>{e(inv["name"])}</td><td class="num">{e(inv["version"])}</td>'
            f'<td>{e(inv["status"])}</td><td class="num">{inv["duration_ms"]:.1f} ms</td>'
            f'<td>{"cold" if inv["cold"] else ""}</td>'
            f'<td><a href="{e(href)}">{e(inv["request_id"])}</a></td>'
            f'<td class="trace"><code>{e(inv.get("trace_id", ""))}</code></td></tr>')


def stage(data: dict[str, Any], *, csrf: str, notice: str | None = None) -> str:
    service, stage_name = data["service"], data["stage"]
    recent = [invocation_row(i, service, stage_name) for i in data["recent"]]
    schedules = [
        f'<tr><td>{e(s["name"])}</td><td>{e(s["function"])}</td><td><code>{e(s["expression"])}'
        f'</code></td><td>{"yes" if s["enabled"] else "no"}</td><td>{e(s["next_fire"])}</td></tr>'
        for s in data["schedules"]]
    redrive = stage_href(service, stage_name, "/redrive")
    dlq_rows = [
        f'<tr><td><code>{e(ev["id"])}</code></td><td>{e(ev["function"])}</td>'
        f'<td class="num">{e(ev["attempts"])}</td><td>{e(when(ev["created"]))}</td>'
        f'<td>{e(ev["error"])}</td><td>{_form(redrive, csrf, "Re-drive", {"id": ev["id"]})}'
        "</td></tr>"
        for ev in data["dlq"]]
    redrive_all = _form(redrive, csrf, "Re-drive all", {}) if data["dlq"] else ""
    versions = []
    for v in reversed(data["versions"]):
        functions = ", ".join(f"{k} v{n}" for k, n in sorted(v["functions"].items()))
        verb = "Roll forward" if v["version"] > data["version"] else "Roll back"
        action = ("<b>current</b>" if v["current"] else
                  f'<a class="button" href="{e(stage_href(service, stage_name, "/rollback"))}'
                  f'?to={e(v["version"])}">{verb} to {e(v["version"])}</a>')
        made = ('<span class="tag" title="each save in aloft dev replaces this version">'
                "aloft dev</span>" if v.get("dev") else "deploy")
        versions.append(f'<tr><td class="num">{e(v["version"])}</td><td>{e(v["deployed"])}</td>'
                        f"<td>{e(functions)}</td><td>{made}</td><td>{action}</td></tr>")
    notice_html = f'<p class="notice" role="status">{e(notice)}</p>' if notice else ""
    body = f"""{notice_html}<h1>{e(service)} <span class="dim">/</span> {e(stage_name)}</h1>
<section class="facts"><div class="fact"><span class="dim">URL</span>
<a href="{e(data["url"])}">{e(data["url"])}</a></div>
<div class="fact"><span class="dim">alias</span> <b id="alias">{e(data["alias"])}</b></div>
<div class="fact"><span class="dim">deployed</span> {e(data["deployed"])}</div>
<div class="fact"><a href="{e(logs_href(service, stage_name))}">logs →</a></div></section>
<h2>Functions</h2>
{table(["function", "physical name", "version", "alias", "memory", "timeout", "concurrency",
        "keep alive", "payload", "instances"], _function_rows(data))}
<h2>Routes</h2>
<p class="routes">{" ".join(f"<code>{e(r)}</code>" for r in data["routes"]) or "none"}</p>
{_api_keys(data.get("api_keys") or [])}<h2>Metrics</h2>
{_charts(data)}
<h2>Recent invocations</h2>
{table(["time (UTC)", "function", "version", "status", "duration", "", "request (logs)",
        "trace id"], recent, body_id="recent", empty="no invocation yet")}
<h2>Schedules</h2>
{table(["name", "function", "expression", "enabled", "next fire"], schedules,
       empty="no schedule")}
<h2>Dead-letter queue</h2>
{redrive_all}
{table(["event", "function", "attempts", "created (UTC)", "last error", ""], dlq_rows,
       empty="empty")}
<h2>Versions</h2>
{table(["version", "deployed", "functions", "made by", ""], versions, body_id="versions")}
"""
    live = "/_aloft/data/stage?" + urlencode({"service": service, "stage": stage_name,
                                              "window": data["window"]["name"]})
    return page(f"{service} {stage_name}", body, csrf=csrf, live=live)


def _form(action: str, csrf: str, label: str, fields: dict[str, Any]) -> str:
    hidden = "".join(f'<input type="hidden" name="{e(k)}" value="{e(v)}">'
                     for k, v in {CSRF_FIELD: csrf, **fields}.items())
    return (f'<form method="post" action="{e(action)}" class="inline">{hidden}'
            f'<button type="submit">{e(label)}</button></form>')


def confirm_rollback(service: str, stage_name: str, current: int, target: int,
                     functions: dict[str, int], *, csrf: str) -> str:
    listed = ", ".join(f"{k} v{v}" for k, v in sorted(functions.items()))
    body = f"""<h1>Roll back {e(service)} / {e(stage_name)}?</h1>
<p>The stage alias moves from version <b>{e(current)}</b> to version <b>{e(target)}</b>
({e(listed)}). Requests already running finish on the current version.</p>
{_form(stage_href(service, stage_name, "/rollback"), csrf, f"Yes, roll back to {target}",
       {"to": target})}
<p><a href="{e(stage_href(service, stage_name))}">Cancel</a></p>"""
    return page("Confirm rollback", body, csrf=csrf)


def logs(service: str, stage_name: str, data: dict[str, Any], *, function: str | None,
         text: str | None, request_id: str | None, csrf: str) -> str:
    options = "".join(
        f'<option value="{e(f)}"{" selected" if f == function else ""}>{e(f)}</option>'
        for f in data["functions"])
    lines = "".join(log_line(line) for line in data["lines"])
    query = {"service": service, "stage": stage_name, "function": function, "filter": text,
             "request_id": request_id}
    live = "/_aloft/data/logs?" + urlencode({k: v for k, v in query.items() if v})
    scope = f" · request {request_id}" if request_id else ""
    body = f"""<h1>Logs <span class="dim">{e(service)} / {e(stage_name)}{e(scope)}</span></h1>
<form method="get" action="/_aloft/logs" class="filter">
<input type="hidden" name="service" value="{e(service)}">
<input type="hidden" name="stage" value="{e(stage_name)}">
<label>function <select name="function"><option value="">all</option>{options}</select></label>
<label>contains <input type="search" name="filter" value="{e(text or "")}"></label>
<label>request <input type="search" name="request_id" value="{e(request_id or "")}"></label>
<button type="submit">Filter</button>
<a href="{e(stage_href(service, stage_name))}">← {e(stage_name)}</a></form>
<p class="follow"><label><input type="checkbox" id="follow" checked> follow new lines</label>
<span class="dim">(scrolling up pauses it)</span></p>
<pre id="log" class="log" data-cursor="{e(data["cursor"])}">{lines}</pre>"""
    return page("Logs", body, csrf=csrf, live=live)


def log_kind(text: str) -> str:
    """A line's class: a request line by its status, START/END/REPORT, an error, or nothing
    (`dashboard.js` has the same rules for the lines it adds)."""
    request = access_log.parse(text)
    if request is not None:
        return ("request error" if request.status >= 500 else
                "request warn" if request.status >= 400 else "request")
    if text.startswith(("START ", "END ", "REPORT ")):
        return "meta"
    return "error" if "error" in text.lower() or "Traceback" in text else ""


def log_line(line: dict[str, Any]) -> str:
    text = str(line["text"])
    return (f'<span class="line {log_kind(text)}"><span class="dim">{e(when(line["time"]))} '
            f'{e(line["function"])} v{e(line["version"])}</span> {e(text)}\n</span>')
