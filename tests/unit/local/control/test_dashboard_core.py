"""The dashboard's pure parts: the session cookie and CSRF tokens, the hour of per-minute points,
escaping in the pages, and the metrics' ring buffer of recent invocations."""

from __future__ import annotations

from aloft.local.control.dashboard import auth, views
from aloft.local.control.dashboard.data import fill_series, log_store
from aloft.local.store.metrics import RECENT_INVOCATIONS, Metrics

TOKEN = "t0ken-value"


def test_session_cookie_is_signed_and_bound_to_the_token() -> None:
    cookie = auth.new_session(TOKEN)
    sid = auth.session_id(TOKEN, cookie)
    assert sid is not None and TOKEN not in cookie
    assert auth.session_id("another-token", cookie) is None
    assert auth.session_id(TOKEN, sid + ".forged") is None
    assert auth.session_id(TOKEN, None) is None and auth.session_id(TOKEN, "nodot") is None
    assert auth.new_session(TOKEN) != cookie  # a fresh id each time
    csrf = auth.csrf_token(TOKEN, sid)
    assert auth.csrf_ok(TOKEN, sid, csrf)
    assert not auth.csrf_ok(TOKEN, sid, None) and not auth.csrf_ok(TOKEN, sid, csrf[:-1] + "x")
    other = auth.session_id(TOKEN, auth.new_session(TOKEN))
    assert other is not None and not auth.csrf_ok(TOKEN, other, csrf)
    header = auth.set_cookie(cookie)
    assert "HttpOnly" in header and "SameSite=Strict" in header and "Path=/_aloft/" in header
    assert auth.parse_cookies(f"a=1; {auth.COOKIE}={cookie}; b=2")[auth.COOKIE] == cookie


def test_fill_series_gives_sixty_minutes_oldest_first() -> None:
    now = 1_000_000.0  # minute 16666, second 40
    busy = {"time": 16666 * 60, "invocations": 3, "errors": 1, "throttles": 0, "p50_ms": 2.0,
            "p99_ms": 9.0, "cold_starts": 1, "concurrent_instances": 1}
    points = fill_series([busy], now)
    assert len(points) == 60
    assert points[-1]["time"] == 16666 * 60 and points[-1]["invocations"] == 3
    assert points[0]["time"] == (16666 - 59) * 60
    assert points[0]["invocations"] == 0 and points[0]["p50_ms"] is None


def test_pages_escape_every_value() -> None:
    evil = '<script>alert("x")</script>'
    page = views.page(evil, f"<p>{views.e(evil)}</p>", csrf='"><b>')
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert 'data-csrf="&quot;&gt;&lt;b&gt;"' in page
    line = views.log_line({"time": 0.0, "function": "app", "version": 1, "text": evil})
    assert "<script>" not in line
    row = views.invocation_row({"time": 0.0, "name": evil, "version": 1, "status": "ok",
                                "duration_ms": 1.0, "cold": False, "request_id": "r&1"},
                               "svc", "dev")
    assert "<script>" not in row and "request_id=r%261" in row
    row = views.invocation_row({"time": 0.0, "name": "f", "version": 1, "status": "ok",
                                "duration_ms": 1.0, "cold": False, "request_id": "r",
                                "trace_id": "1-5759e988-bd862e3fe1be46a994272793"}, "svc", "dev")
    assert '<td class="trace"><code>1-5759e988-bd862e3fe1be46a994272793</code></td>' in row


def test_recent_invocations_ring_buffer() -> None:
    now = [100.0]
    metrics = Metrics(clock=lambda: now[0])
    metrics.record("a", 1.5, error=False, cold=True, request_id="r1", status="ok", version=2,
                   trace="1-5759e988-bd862e3fe1be46a994272793")
    metrics.record("b", 2.0, error=True, cold=False, request_id="r2", status="error")
    metrics.throttled("a", "r3", 2)
    metrics.record("a", 9.0, error=False, cold=False)  # no request id: counted, not listed
    assert [i.request_id for i in metrics.recent()] == ["r3", "r2", "r1"]
    assert [i.status for i in metrics.recent({"a"})] == ["throttled", "ok"]
    assert metrics.recent({"a"}, limit=1)[0].request_id == "r3"
    assert metrics.recent({"a"})[1].as_dict() == {
        "time": 100.0, "function": "a", "version": 2, "request_id": "r1", "status": "ok",
        "duration_ms": 1.5, "cold": True, "trace_id": "1-5759e988-bd862e3fe1be46a994272793"}
    for n in range(RECENT_INVOCATIONS + 10):
        metrics.record("c", 1.0, error=False, cold=False, request_id=f"c{n}")
    assert len(metrics.recent(limit=10**6)) == RECENT_INVOCATIONS


def test_fill_series_covers_each_window_with_its_period() -> None:
    now = 900 * 70_000 + 100.0  # 100 s into a 15-minute period
    for window, count, step in ((900, 15, 60), (3600, 60, 60), (21600, 72, 300),
                                (86400, 96, 900)):
        points = fill_series([], now, window)
        assert len(points) == count
        assert points[1]["time"] - points[0]["time"] == step
        assert points[-1]["time"] == int(now) // step * step
        assert points[0]["4xx"] == 0 and points[0]["memory_mb"] is None


def test_overview_rows_and_log_lines_are_escaped_and_classed() -> None:
    evil = '<img src=x onerror="alert(1)">'
    row = views.function_row({"service": evil, "stage": "dev", "function": evil, "version": 1,
                              "invocations": 3, "errors": 1, "4xx": 2, "5xx": 0,
                              "p99_ms": 12.345, "instances": 1})
    assert "<img" not in row and "12.3 ms" in row
    assert 'class="num bad" data-field="fn-errors"' in row
    assert 'class="num warn" data-field="fn-4xx"' in row
    assert 'class="num" data-field="fn-5xx"' in row
    assert views.log_kind("REQUEST GET / 503 1.00 ms RequestId: r") == "request error"
    assert views.log_kind("REQUEST GET / 404 1.00 ms RequestId: r") == "request warn"
    assert views.log_kind("REQUEST GET / 200 1.00 ms RequestId: r") == "request"
    assert views.log_kind("END RequestId: r") == "meta"
    assert views.log_kind("Traceback (most recent call last):") == "error"


def test_the_stage_page_lists_its_api_keys() -> None:
    assert views._api_keys([]) == ""
    html = views._api_keys([{"name": "partner", "value": "k<1>"}])
    assert "<h2>API keys</h2>" in html and "<td>partner</td>" in html
    assert "<code>k&lt;1&gt;</code>" in html


def test_the_log_store_reads_against_its_cap_with_what_the_cap_dropped() -> None:
    status = {"size_mb": 0.03, "cap_mb": 1024.0, "dropped_by_cap": 0, "last_dropped": None}
    assert log_store(status) == "0.03 of 1024 MB"
    status.update(size_mb=819.25, dropped_by_cap=1234567, last_dropped=1.0)
    assert log_store(status) == "819.25 of 1024 MB, 1,234,567 oldest lines dropped"
