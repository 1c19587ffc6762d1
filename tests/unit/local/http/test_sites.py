"""Which Host and Origin values are the server's own (pure)."""

from __future__ import annotations

import pytest

from aloft.local.http.sites import Site

SITE = Site.on(8750)


@pytest.mark.parametrize("host", [
    "127.0.0.1:8750", "localhost:8750", "[::1]:8750", "LocalHost:8750", "shop.localhost:8750",
    "a.b-c.localhost:8750", "x1.localhost:8750",
])
def test_its_own_names_with_its_port(host: str) -> None:
    assert SITE.host_ok(host)


@pytest.mark.parametrize("host", [
    None, "", "127.0.0.1", "localhost", "127.0.0.1:8751", "localhost:80", "evil.com:8750",
    "localhost.evil.com:8750", "evil.com", ".localhost:8750", "-a.localhost:8750",
    "a..localhost:8750", "a_b.localhost:8750", "127.0.0.2:8750", "0.0.0.0:8750",
    "127.0.0.1:8750.evil.com", "[::1]", "8750",
])
def test_other_names_and_ports(host: str | None) -> None:
    assert not SITE.host_ok(host)


def test_port_80_may_be_left_out() -> None:
    site = Site.on(80)
    assert site.host_ok("localhost") and site.host_ok("127.0.0.1:80")
    assert site.host_ok("app.localhost") and not site.host_ok("evil.com")


@pytest.mark.parametrize("origin", [
    "http://127.0.0.1:8750", "http://localhost:8750", "HTTP://LOCALHOST:8750",
])
def test_own_origins(origin: str) -> None:
    assert SITE.origin_ok(origin)
    assert SITE.foreign(origin, "same-origin") is None


@pytest.mark.parametrize("origin", [
    "http://127.0.0.1:3000", "https://127.0.0.1:8750", "http://evil.com", "null",
    "http://127.0.0.1:8750/path", "127.0.0.1:8750", "",
    "http://app.localhost:8750", "http://dev.shop.LOCALHOST:8750",  # a stage's app
])
def test_foreign_origins(origin: str) -> None:
    assert not SITE.origin_ok(origin)
    why = SITE.foreign(origin, None)
    assert why is not None and "is not this server's" in why


def test_sec_fetch_site() -> None:
    assert SITE.foreign(None, "cross-site") == "Sec-Fetch-Site: cross-site"
    assert SITE.foreign("http://127.0.0.1:8750", "cross-site") is not None  # it wins
    for value in ("same-origin", "same-site", "none"):
        assert SITE.foreign(None, value) is None
    assert SITE.foreign(None, None) is None  # not a browser's cross-origin request
    # a page with Referrer-Policy: no-referrer posting to itself sends `Origin: null`
    assert SITE.foreign("null", "same-origin") is None
    assert SITE.foreign("null", "same-site") is not None
    assert SITE.foreign("null", None) is not None
