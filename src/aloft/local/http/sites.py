"""Who the local cloud answers: its own host names, and for the APIs that run code, its own pages.

The server listens on 127.0.0.1 only, but a browser on this machine can still be made to send it
requests: a page of another site can POST a form to `http://127.0.0.1:8750/...`, and a name that
an attacker's DNS server first resolves to their own address and then to 127.0.0.1 (DNS
rebinding) lets their page read the answers too. So:

- every request must name this server in its `Host` header: `127.0.0.1`, `localhost`, `[::1]`
  or any `*.localhost` name (a stage's own host, `dev.shop.localhost`), with the server's port
  (a rebound name is none of these: 421);
- requests to the Invoke API, the control API and the dashboard's actions are refused (403) when
  a browser says they come from another site (`Sec-Fetch-Site: cross-site`) or from a page of
  another origin (`Origin`), a page served on another port of 127.0.0.1 or at a stage's host
  included. The stages' own routes stay open to other origins: they are the user's app, and
  CORS is theirs.

Pure: `Site` is built once per server; `host_ok` is on every request's path, a set lookup first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LOCAL_NAMES = ("127.0.0.1", "localhost", "[::1]")
_LABELS = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


@dataclass(frozen=True)
class Site:
    """The names one server answers to, on its port."""

    port: int
    hosts: frozenset[str]  # exact `Host` values
    suffix: str  # `.localhost:<port>`: any subdomain of localhost (RFC 6761), with the port

    @classmethod
    def on(cls, port: int) -> Site:
        hosts = {f"{name}:{port}" for name in LOCAL_NAMES}
        if port == 80:  # the default port may be left out
            hosts.update(LOCAL_NAMES)
        return cls(port, frozenset(hosts), f".localhost:{port}")

    def host_ok(self, host: str | None) -> bool:
        """Whether a `Host` header value names this server."""
        if host in self.hosts:  # the fast path: what every client sends
            return True
        if not host:
            return False
        host = host.lower()
        if host in self.hosts:
            return True
        if self.port == 80 and host.endswith(".localhost"):
            host += ":80"
        if host.endswith(self.suffix):
            return _LABELS.fullmatch(host[: -len(self.suffix)]) is not None
        return False

    def origin_ok(self, origin: str) -> bool:
        """Whether an `Origin` header value is one of this server's own origins: its own
        names, not the stages' hosts (`dev.shop.localhost` serves the user's app, a site of
        its own to the control plane)."""
        scheme, sep, rest = origin.partition("://")
        return (bool(sep) and scheme.lower() == "http" and "/" not in rest
                and self.host_ok(rest) and ".localhost:" not in rest.lower()
                and not rest.lower().endswith(".localhost"))

    def foreign(self, origin: str | None, fetch_site: str | None) -> str | None:
        """Why a request that runs code comes from another site, or None when it does not:
        `Sec-Fetch-Site: cross-site`, or an `Origin` that is not this server's (`null`, from a
        sandboxed frame or a file, included). A request without either is not a browser's
        cross-origin one (browsers send `Origin` with every POST)."""
        site = fetch_site.lower() if fetch_site is not None else None
        if site == "cross-site":
            return "Sec-Fetch-Site: cross-site"
        if origin is None or self.origin_ok(origin):
            return None
        if origin == "null" and site == "same-origin":  # a page with `no-referrer` posting
            return None  # to itself (browsers set Sec-Fetch-Site; scripts cannot)
        return f"Origin {origin[:200]} is not this server's"
