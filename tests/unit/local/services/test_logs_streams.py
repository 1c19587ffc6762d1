"""The Logs API's streams over a log store: one per instance, the version's for entries of no
instance, and reads by stream that find a stream's lines however many others came after."""

from __future__ import annotations

from pathlib import Path

from aloft.local.services.logs_api import LogsApi, stream_name
from aloft.local.store.logs import LogStore

A = "2026/12/06/[1]" + "a" * 32
B = "2026/12/06/[1]" + "b" * 32
GROUP = {"logGroupName": "/aws/lambda/f"}


def api(tmp_path: Path) -> LogsApi:
    store = LogStore(tmp_path / "logs.db")
    store.write("f", 1, None, "refused", None)  # about no instance: the version's stream
    store.write("f", 1, "r1", "\n".join(f"a{i}" for i in range(10)), A)
    store.flush()
    store.write("f", 1, "r2", "\n".join(f"b{i}" for i in range(12_000)), B)  # many, later
    store.flush()
    return LogsApi(tmp_path / "logs.db", tmp_path / "state.db")


def test_a_stream_per_instance_and_the_versions(tmp_path: Path) -> None:
    logs = api(tmp_path)
    version = stream_name("f", 1, 0.0, None)  # no state.db: the name the store falls back on
    streams = logs.describe_log_streams(GROUP)["logStreams"]
    assert [s["logStreamName"] for s in streams] == sorted([A, B, version])
    mine = logs.get_log_events({**GROUP, "logStreamName": version})["events"]
    assert [e["message"] for e in mine] == ["refused"]
    by_time = logs.describe_log_streams({**GROUP, "orderBy": "LastEventTime",
                                         "descending": True})["logStreams"]
    assert by_time[0]["logStreamName"] == B  # written last
    answer = logs.answer("DescribeLogStreams", b'{"logGroupName": "/aws/lambda/f", '
                         b'"orderBy": "LastEventTime", "logStreamNamePrefix": "2026"}')
    assert answer is not None and b"InvalidParameterException" in answer[1]


def test_an_older_streams_lines_are_found(tmp_path: Path) -> None:
    logs = api(tmp_path)
    latest = logs.get_log_events({**GROUP, "logStreamName": A})
    assert [e["message"] for e in latest["events"]] == [f"a{i}" for i in range(10)]
    head = logs.get_log_events({**GROUP, "logStreamName": A, "startFromHead": True,
                                "limit": 4})
    assert [e["message"] for e in head["events"]] == ["a0", "a1", "a2", "a3"]
    rest = logs.get_log_events({**GROUP, "logStreamName": A,
                                "nextToken": head["nextForwardToken"]})
    assert [e["message"] for e in rest["events"]] == [f"a{i}" for i in range(4, 10)]
    done = logs.get_log_events({**GROUP, "logStreamName": A,
                                "nextToken": rest["nextForwardToken"]})
    assert done["events"] == [] and done["nextForwardToken"] == rest["nextForwardToken"]


def test_filter_by_streams(tmp_path: Path) -> None:
    logs = api(tmp_path)
    named = logs.filter_log_events({**GROUP, "logStreamNames": [A], "filterPattern": "a3"})
    assert [(e["logStreamName"], e["message"]) for e in named["events"]] == [(A, "a3")]
    by_prefix = logs.filter_log_events({**GROUP, "logStreamNamePrefix": B[:-1],
                                        "filterPattern": "b11999"})
    assert [e["message"] for e in by_prefix["events"]] == ["b11999"]
    answer = logs.answer("FilterLogEvents",
                         b'{"logGroupName": "/aws/lambda/f", "logStreamNames": ["x"], '
                         b'"logStreamNamePrefix": "x"}')
    assert answer is not None and answer[0].startswith("400")
    assert b"InvalidParameterException" in answer[1]
