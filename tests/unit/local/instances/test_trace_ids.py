"""X-Ray trace ids as API Gateway and Lambda hand them on (aloft.local.instances.trace_ids)."""

from __future__ import annotations

import re
from pathlib import Path

from aloft.local.instances.log_framing import start_line
from aloft.local.instances.trace_ids import incoming_root, lambda_trace, new_root, root_of
from aloft.local.types import FunctionVersion

ROOT = re.compile(r"1-[0-9a-f]{8}-[0-9a-f]{24}")


def test_a_new_root_is_x_rays_format_with_the_time_in_it() -> None:
    root = new_root(now=0x5759E988)
    assert ROOT.fullmatch(root) and root.startswith("1-5759e988-")
    assert new_root() != new_root()


def test_an_incoming_header_keeps_its_root_and_sampling() -> None:
    root = "1-5759e988-bd862e3fe1be46a994272793"
    assert incoming_root(f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1") == (root, True)
    assert incoming_root(f"Root={root}") == (root, False)
    assert incoming_root(f" Sampled=0 ; Root={root}") == (root, False)
    for bad in (None, "", "Root=2-5759e988-bd862e3fe1be46a994272793", "Root=1-xyz",
                "Parent=53995c3f42cd8ad8", f"Root={root}00"):
        assert incoming_root(bad) is None, bad


def test_each_invocation_is_a_new_segment_of_the_trace() -> None:
    root = "1-5759e988-bd862e3fe1be46a994272793"
    first, second = lambda_trace(root), lambda_trace(root, sampled=True)
    assert re.fullmatch(rf"Root={root};Parent=[0-9a-f]{{16}};Sampled=0", first)
    assert second.endswith(";Sampled=1") and first.split(";")[1] != second.split(";")[1]
    assert root_of(first) == root and root_of(root) == root


def test_the_start_line_names_the_trace() -> None:
    fv = FunctionVersion("svc-dev-f", 3, Path("/x"), None, 128, 3, None, 60)
    assert start_line(fv, "rid") == "START RequestId: rid Version: 3"
    assert start_line(fv, "rid", "1-5759e988-bd862e3fe1be46a994272793") == (
        "START RequestId: rid Version: 3 TraceId: 1-5759e988-bd862e3fe1be46a994272793")
