"""Stream checkpoints: the last sequence number a binding finished per shard, in state.db
(table `source_checkpoints`, created by state.py's schema). Written before the reader moves
on, so a restart resumes after the last record that was processed."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from aloft.local.store.state import SCHEMA, connect

START_OF_SHARD = "TRIM_HORIZON"
"""Stored for a shard that was empty when a LATEST reader first met it: read it from the start."""


class Checkpoints:
    def __init__(self, path: Path):
        self._conn = connect(path)
        self._lock = threading.Lock()  # one connection shared by the poller threads
        with self._lock:
            self._conn.executescript(SCHEMA)  # idempotent: creates what a new home lacks

    def get(self, binding: str, shard: str) -> str | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT sequence FROM source_checkpoints WHERE binding = ? AND shard = ?",
                (binding, shard),
            ).fetchone()
        return None if row is None else str(row["sequence"])

    def put(self, binding: str, shard: str, sequence: str) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO source_checkpoints VALUES (?, ?, ?, ?) ON CONFLICT (binding, shard) "
                "DO UPDATE SET sequence = excluded.sequence, updated = excluded.updated",
                (binding, shard, sequence, time.time()),
            )

    def forget(self, binding: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM source_checkpoints WHERE binding = ?", (binding,))

    def close(self) -> None:
        with self._lock:
            self._conn.close()
