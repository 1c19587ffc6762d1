"""A stage's own host name (`{stage}.{service}.localhost`) and the key a Host header finds it by."""

from __future__ import annotations

import pytest

from aloft.local.types import host_key, stage_host, stage_host_url


def test_a_stage_host_is_its_names_as_dns_labels() -> None:
    assert stage_host("shop", "dev") == "dev.shop.localhost"
    assert stage_host("My_Shop", "QA_1") == "qa-1.my-shop.localhost"  # no case, no underscore
    assert stage_host_url(8750, "shop", "dev") == "http://dev.shop.localhost:8750/"


@pytest.mark.parametrize(("host", "key"), [
    ("dev.shop.localhost:8750", "dev.shop"),
    ("DEV.Shop.LOCALHOST:8750", "dev.shop"),
    ("dev.shop.localhost", "dev.shop"),  # port 80
    ("dev.shop.localhost.:8750", "dev.shop"),  # a fully qualified name
    ("localhost:8750", None), ("127.0.0.1:8750", None), ("[::1]:8750", None),
    (".localhost:8750", None), ("shop.localhost.evil.com", None),
])
def test_the_key_of_a_host_header(host: str, key: str | None) -> None:
    assert host_key(host) == key
