"""The control plane's durable state: one SQLite database in WAL mode.

What is stored (everything else is derived at start from this):

- `versions`: every published immutable function version (its FunctionVersion as JSON);
- `deployments`: each deploy of a stage (function → version, routes, CORS, static files, the
  schedules it declared: what `rollback` brings back);
- `stages`: which deployment a stage's alias points at now (the alias switch is one UPDATE);
- `schedules`: rules with their durable next fire time;
- `async_events`: the async invocation queue (owned by triggers/async_queue.py, schema here);
- `source_checkpoints`: stream readers' last processed sequence number per shard
  (owned by triggers/pollers/checkpoints.py).

Connections are per thread; WAL lets readers proceed while one writer commits. `synchronous=NORMAL`
in WAL mode survives a crash of the process (kill -9), which is what "nothing is lost" promises.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aloft.local.types import ACCOUNT_ID, LEGACY_ACCOUNT_ID, FunctionVersion

FUNCTION_KEY_PREFIX = "ALOFTFN"  # a function version's access key id (services/auth.py)

SCHEMA = """
CREATE TABLE IF NOT EXISTS versions (
    function TEXT NOT NULL,
    version INTEGER NOT NULL,
    config_hash TEXT NOT NULL,
    code_sha256 TEXT NOT NULL,
    layer_sha256 TEXT,
    spec TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (function, version)
);
CREATE TABLE IF NOT EXISTS deployments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    service TEXT NOT NULL,
    stage TEXT NOT NULL,
    number INTEGER NOT NULL,
    spec TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS deployments_stage ON deployments (service, stage, id);
CREATE TABLE IF NOT EXISTS stages (
    service TEXT NOT NULL,
    stage TEXT NOT NULL,
    deployment INTEGER NOT NULL,
    PRIMARY KEY (service, stage)
);
CREATE TABLE IF NOT EXISTS schedules (
    name TEXT PRIMARY KEY,
    service TEXT NOT NULL,
    stage TEXT NOT NULL,
    function TEXT NOT NULL,
    expression TEXT NOT NULL,
    input TEXT,
    kind TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    anchor REAL NOT NULL,
    next_fire REAL
);
CREATE TABLE IF NOT EXISTS async_events (
    id TEXT PRIMARY KEY,
    function TEXT NOT NULL,
    qualifier TEXT,
    payload BLOB NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_retries INTEGER NOT NULL,
    max_age INTEGER NOT NULL,
    created REAL NOT NULL,
    not_before REAL NOT NULL,
    last_error TEXT,
    seq INTEGER
);
CREATE INDEX IF NOT EXISTS async_events_status ON async_events (status, function);
CREATE TABLE IF NOT EXISTS source_checkpoints (
    binding TEXT NOT NULL,
    shard TEXT NOT NULL,
    sequence TEXT NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (binding, shard)
);
"""


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.row_factory = sqlite3.Row
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class DeployedSchedule:
    """A schedule as one deployment declared it (no fire times: those belong to the live rule in
    `schedules`, and a rollback computes them again from now)."""

    name: str
    function: str  # physical name
    expression: str
    input: str | None
    kind: str  # "schedule" | "keep_warm"
    enabled: bool


@dataclass(frozen=True)
class Deployment:
    """One deploy of a stage: what its alias points at and what the gateway serves."""

    id: int
    service: str
    stage: str
    number: int  # 1, 2, 3 ... per stage: the "version" a user sees
    functions: dict[str, int]  # logical name ("app", "worker") -> version
    physical: dict[str, str]  # logical name -> physical name
    routes: list[dict[str, Any]]  # {"method", "path", "function" (physical), "cors", "auth"}
    cors: dict[str, Any] | None = None
    static_path: str | None = None
    static_dir: str | None = None
    url: str | None = None
    created: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    # None: recorded before deployments kept their schedules (a rollback to it leaves the
    # stage's schedules as they are). Stored in the `spec` JSON, so older rows need no ALTER.
    schedules: tuple[DeployedSchedule, ...] | None = None

    def spec(self) -> str:
        data = asdict(self)
        for key in ("id", "service", "stage", "number", "created"):
            data.pop(key)
        return json.dumps(data, sort_keys=True)


@dataclass(frozen=True)
class VersionRecord:
    fv: FunctionVersion
    config_hash: str
    code_sha256: str
    layer_sha256: str | None
    created: float


@dataclass(frozen=True)
class ScheduleRecord:
    name: str
    service: str
    stage: str
    function: str  # physical name
    expression: str
    input: str | None  # JSON text of the constant input, None for the Scheduled Event shape
    kind: str  # "schedule" | "keep_warm"
    enabled: bool
    anchor: float
    next_fire: float | None


def fv_to_json(fv: FunctionVersion) -> str:
    return json.dumps(
        {
            "function": fv.function,
            "version": fv.version,
            "code_dir": str(fv.code_dir),
            "layer_dir": str(fv.layer_dir) if fv.layer_dir else None,
            "memory": fv.memory,
            "timeout": fv.timeout,
            "concurrency": fv.concurrency,
            "keep_alive": fv.keep_alive,
            "environment": dict(fv.environment),
            "snapshot": fv.snapshot,
            "payload": fv.payload,
            "python": fv.python,
            "runtime_dir": str(fv.runtime_dir) if fv.runtime_dir else None,
            "ephemeral_storage": fv.ephemeral_storage,
            "prime_path": fv.prime_path,
            "provisioned": fv.provisioned,
            "snap_start": fv.snap_start,
        },
        sort_keys=True,
    )


def _from_legacy_account(conn: sqlite3.Connection) -> None:
    """Once per home: versions and deployments recorded when the local cloud lived in moto's
    default account name the local account in their ARNs (`:id:`) and queue URLs (`/id/`),
    as the endpoint's data does once moved (services/snapshot.py)."""
    if conn.execute("PRAGMA user_version").fetchone()[0] >= 1:
        return
    old, new = LEGACY_ACCOUNT_ID, ACCOUNT_ID
    with transaction(conn):
        for table in ("deployments", "versions"):
            conn.execute(
                f"UPDATE {table} SET spec = replace(replace(spec, ?, ?), ?, ?) "
                "WHERE instr(spec, ?) > 0",
                (f":{old}:", f":{new}:", f"/{old}/", f"/{new}/", old))
        conn.execute("PRAGMA user_version = 1")


def _without_stored_secrets(conn: sqlite3.Connection) -> None:
    """Once per home: versions recorded by an older aloft kept their secret access key, which
    is now derived when an instance starts (aloft.local.instances.credentials): take it out,
    and rewrite the file so that no free page or WAL frame still holds it."""
    if conn.execute("PRAGMA user_version").fetchone()[0] >= 2:
        return
    with transaction(conn):
        changed = conn.execute(
            "UPDATE versions SET spec = json_remove(spec, '$.environment.AWS_SECRET_ACCESS_KEY') "
            "WHERE json_extract(spec, '$.environment.AWS_ACCESS_KEY_ID') LIKE ? "
            "AND json_extract(spec, '$.environment.AWS_SECRET_ACCESS_KEY') IS NOT NULL",
            (FUNCTION_KEY_PREFIX + "%",)).rowcount
        conn.execute("PRAGMA user_version = 2")
    if changed:
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def fv_from_json(text: str) -> FunctionVersion:
    data = json.loads(text)
    return FunctionVersion(
        function=data["function"],
        version=int(data["version"]),
        code_dir=Path(data["code_dir"]),
        layer_dir=Path(data["layer_dir"]) if data.get("layer_dir") else None,
        memory=int(data["memory"]),
        timeout=int(data["timeout"]),
        concurrency=data.get("concurrency"),
        keep_alive=int(data["keep_alive"]),
        environment=data.get("environment") or {},
        snapshot=bool(data.get("snapshot", True)),
        payload=data.get("payload", "2.0"),
        python=data.get("python"),
        runtime_dir=Path(data["runtime_dir"]) if data.get("runtime_dir") else None,
        ephemeral_storage=int(data.get("ephemeral_storage") or 512),
        prime_path=data.get("prime_path") or "/",
        provisioned=int(data.get("provisioned") or 0),
        snap_start=bool(data.get("snap_start", False)),
    )


def _deployment(row: sqlite3.Row) -> Deployment:
    spec = json.loads(row["spec"])
    if spec.get("schedules") is not None:
        spec["schedules"] = tuple(DeployedSchedule(**s) for s in spec["schedules"])
    return Deployment(
        id=row["id"], service=row["service"], stage=row["stage"], number=row["number"],
        created=row["created"], **spec,
    )


def _schedule(row: sqlite3.Row) -> ScheduleRecord:
    return ScheduleRecord(
        name=row["name"], service=row["service"], stage=row["stage"], function=row["function"],
        expression=row["expression"], input=row["input"], kind=row["kind"],
        enabled=bool(row["enabled"]), anchor=row["anchor"], next_fire=row["next_fire"],
    )


# --------------------------------------------------------------------------- the store


class State:
    """Typed reads and transactional writes over state.db. Thread-safe: one connection per
    thread, so the daemon may call it from a worker thread without blocking its event loop."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()
        with self._conn() as conn:
            conn.executescript(SCHEMA)
            _from_legacy_account(conn)
            _without_stored_secrets(conn)

    @contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
        yield conn

    @property
    def conn(self) -> sqlite3.Connection:
        with self._conn() as conn:
            return conn

    # -- reads ----------------------------------------------------------------

    def stages(self) -> list[tuple[str, str]]:
        rows = self.conn.execute("SELECT service, stage FROM stages ORDER BY service, stage")
        return [(r["service"], r["stage"]) for r in rows]

    def current_deployment(self, service: str, stage: str) -> Deployment | None:
        row = self.conn.execute(
            "SELECT d.* FROM stages s JOIN deployments d ON d.id = s.deployment "
            "WHERE s.service = ? AND s.stage = ?",
            (service, stage),
        ).fetchone()
        return _deployment(row) if row else None

    def deployments(self, service: str, stage: str) -> list[Deployment]:
        rows = self.conn.execute(
            "SELECT * FROM deployments WHERE service = ? AND stage = ? ORDER BY id",
            (service, stage),
        )
        return [_deployment(r) for r in rows]

    def version(self, function: str, version: int) -> VersionRecord | None:
        row = self.conn.execute(
            "SELECT * FROM versions WHERE function = ? AND version = ?", (function, version)
        ).fetchone()
        if row is None:
            return None
        return VersionRecord(
            fv=fv_from_json(row["spec"]), config_hash=row["config_hash"],
            code_sha256=row["code_sha256"], layer_sha256=row["layer_sha256"],
            created=row["created"],
        )

    def versions(self, function: str) -> list[int]:
        rows = self.conn.execute(
            "SELECT version FROM versions WHERE function = ? ORDER BY version", (function,)
        )
        return [r["version"] for r in rows]

    def functions(self) -> dict[str, int]:
        """Every function with a published version, and its latest version."""
        rows = self.conn.execute("SELECT function, MAX(version) FROM versions GROUP BY function")
        return {str(r[0]): int(r[1]) for r in rows}

    def latest_version(self, function: str) -> int:
        row = self.conn.execute(
            "SELECT MAX(version) AS v FROM versions WHERE function = ?", (function,)
        ).fetchone()
        return int(row["v"] or 0)

    def referenced_artifacts(self) -> set[str]:
        rows = self.conn.execute("SELECT code_sha256, layer_sha256 FROM versions")
        out: set[str] = set()
        for r in rows:
            out.add(r["code_sha256"])
            if r["layer_sha256"]:
                out.add(r["layer_sha256"])
        return out

    def schedules(
        self, service: str | None = None, stage: str | None = None
    ) -> list[ScheduleRecord]:
        if service is None:
            rows = self.conn.execute("SELECT * FROM schedules ORDER BY name")
        else:
            rows = self.conn.execute(
                "SELECT * FROM schedules WHERE service = ? AND stage = ? ORDER BY name",
                (service, stage),
            )
        return [_schedule(r) for r in rows]

    # -- writes ---------------------------------------------------------------

    def record_deployment(
        self,
        deployment: Deployment,
        new_versions: list[VersionRecord],
        schedules: list[ScheduleRecord],
        renames: Mapping[str, str] | None = None,
    ) -> Deployment:
        """Publish versions, record the deployment and switch the alias: one transaction.

        Schedules of the stage are replaced by `schedules`, keeping the durable next fire time
        (and the enabled flag set by `aloft unschedule`) of rules whose expression did not change;
        `renames`: new rule name -> its old name, whose fire times and flag it keeps.
        """
        now = time.time()
        with self._conn() as conn, transaction(conn):
            for rec in new_versions:
                conn.execute(
                    "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (rec.fv.function, rec.fv.version, rec.config_hash, rec.code_sha256,
                     rec.layer_sha256, fv_to_json(rec.fv), rec.created or now),
                )
            row = conn.execute(
                "SELECT COALESCE(MAX(number), 0) AS n FROM deployments WHERE service=? AND stage=?",
                (deployment.service, deployment.stage),
            ).fetchone()
            number = int(row["n"]) + 1
            cur = conn.execute(
                "INSERT INTO deployments (service, stage, number, spec, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (deployment.service, deployment.stage, number, deployment.spec(), now),
            )
            dep_id = int(cur.lastrowid or 0)
            self._point_alias(conn, deployment.service, deployment.stage, dep_id)
            self._replace_schedules(conn, deployment.service, deployment.stage, schedules,
                                    renames or {})
        stored = self.current_deployment(deployment.service, deployment.stage)
        assert stored is not None
        return stored

    def amend_extra(self, deployment_id: int, key: str, value: Any) -> None:
        """Set `extra[key]` of a recorded deployment: what Lambda's API tunes without a deploy
        (reserved concurrency, async settings, event source mappings) belongs to the
        deployment it was tuned on, so a deploy that changes the stage starts again from the
        config."""
        with self._conn() as conn, transaction(conn):
            row = conn.execute("SELECT spec FROM deployments WHERE id = ?",
                               (deployment_id,)).fetchone()
            if row is None:
                raise KeyError(f"no deployment {deployment_id}")
            spec = json.loads(row["spec"])
            spec.setdefault("extra", {})[key] = value
            conn.execute("UPDATE deployments SET spec = ? WHERE id = ?",
                         (json.dumps(spec, sort_keys=True), deployment_id))

    def point_alias(self, service: str, stage: str, deployment_id: int) -> None:
        with self._conn() as conn, transaction(conn):
            self._point_alias(conn, service, stage, deployment_id)

    def roll_back(
        self, service: str, stage: str, deployment_id: int,
        schedules: list[ScheduleRecord] | None, current: Deployment | None = None,
    ) -> list[ScheduleRecord]:
        """Point the alias at an earlier deployment and put back its schedules: one
        transaction. `schedules`: the target's rules with fire times computed from now (None
        leaves the stage's schedules as they are); `current`: the deployment the stage leaves,
        whose recorded schedules tell a rule the user disabled from one its config disabled.
        Returns the stage's schedules afterwards."""
        with self._conn() as conn, transaction(conn):
            self._point_alias(conn, service, stage, deployment_id)
            if schedules is not None:
                self._restore_schedules(conn, service, stage, schedules,
                                        current.schedules if current else None)
            rows = conn.execute(
                "SELECT * FROM schedules WHERE service = ? AND stage = ? ORDER BY name",
                (service, stage),
            ).fetchall()
        return [_schedule(r) for r in rows]

    @staticmethod
    def _point_alias(conn: sqlite3.Connection, service: str, stage: str, dep_id: int) -> None:
        conn.execute(
            "INSERT INTO stages (service, stage, deployment) VALUES (?, ?, ?) "
            "ON CONFLICT (service, stage) DO UPDATE SET deployment = excluded.deployment",
            (service, stage, dep_id),
        )

    @staticmethod
    def _replace_schedules(
        conn: sqlite3.Connection, service: str, stage: str, schedules: list[ScheduleRecord],
        renames: Mapping[str, str],
    ) -> None:
        old = _take_schedules(conn, service, stage)
        for rec in schedules:
            prev = old.get(rec.name) or old.get(renames.get(rec.name, ""))
            if prev is not None and prev.expression == rec.expression:
                rec = ScheduleRecord(**{**asdict(rec), "anchor": prev.anchor,
                                        "next_fire": prev.next_fire,
                                        "enabled": prev.enabled and rec.enabled})
            _insert_schedule(conn, rec)

    @staticmethod
    def _restore_schedules(
        conn: sqlite3.Connection, service: str, stage: str, schedules: list[ScheduleRecord],
        recorded: tuple[DeployedSchedule, ...] | None,
    ) -> None:
        """Replace a stage's rules by a rollback target's. A rule that is the same as the live
        one (expression, input, function) keeps its anchor and next fire; any other starts from
        now (it is not fired for the time it did not exist). A rule the user disabled with
        `aloft unschedule` (disabled live, enabled in the deployment being left, or disabled
        live with no record to tell) stays disabled."""
        live = _take_schedules(conn, service, stage)
        declared = {s.name: s.enabled for s in recorded} if recorded is not None else {}
        for rec in schedules:
            prev = live.get(rec.name)
            if (prev is not None and prev.enabled and prev.next_fire is not None
                    and (prev.expression, prev.input, prev.function)
                    == (rec.expression, rec.input, rec.function)):
                rec = ScheduleRecord(**{**asdict(rec), "anchor": prev.anchor,
                                        "next_fire": prev.next_fire})
            user_disabled = prev is not None and not prev.enabled and declared.get(
                rec.name, True)
            if user_disabled:
                rec = ScheduleRecord(**{**asdict(rec), "enabled": False, "next_fire": None})
            elif not rec.enabled:
                rec = ScheduleRecord(**{**asdict(rec), "next_fire": None})
            _insert_schedule(conn, rec)

    def set_next_fire(self, name: str, next_fire: float | None) -> None:
        with self._conn() as conn:
            conn.execute("UPDATE schedules SET next_fire = ? WHERE name = ?", (next_fire, name))

    def set_schedule_enabled(self, name: str, enabled: bool, next_fire: float | None) -> None:
        with self._conn() as conn:
            conn.execute(
                "UPDATE schedules SET enabled = ?, next_fire = ? WHERE name = ?",
                (int(enabled), next_fire, name),
            )

    def artifacts_of(self, functions: list[str]) -> set[str]:
        """The artifact hashes the versions of `functions` use."""
        out: set[str] = set()
        for fn in functions:
            for r in self.conn.execute(
                "SELECT code_sha256, layer_sha256 FROM versions WHERE function = ?", (fn,)
            ):
                out.update(x for x in (r["code_sha256"], r["layer_sha256"]) if x)
        return out

    def prune(self, service: str, stage: str, keep: int) -> set[str]:
        """Forget all but the newest `keep` deployments of a stage (never the current one) and
        the versions no remaining deployment uses. Returns the artifact hashes those versions
        used (the caller deletes the ones nothing references any more)."""
        with self._conn() as conn, transaction(conn):
            current = conn.execute(
                "SELECT deployment FROM stages WHERE service = ? AND stage = ?", (service, stage)
            ).fetchone()
            rows = conn.execute(
                "SELECT id FROM deployments WHERE service = ? AND stage = ? ORDER BY id DESC",
                (service, stage),
            ).fetchall()
            dropped = {r["id"] for r in rows[keep:] if current is None or r["id"] != current[0]}
            return self._forget(conn, service, stage, dropped)

    def forget(self, service: str, stage: str, deployment_id: int) -> set[str]:
        """Forget one deployment that is not the current one (an `aloft dev` reload replaces
        the one before it) and its versions that no other deployment uses; like `prune`."""
        with self._conn() as conn, transaction(conn):
            current = conn.execute(
                "SELECT deployment FROM stages WHERE service = ? AND stage = ?", (service, stage)
            ).fetchone()
            if current is not None and current[0] == deployment_id:
                raise ValueError(f"deployment {deployment_id} is current: it cannot be forgotten")
            return self._forget(conn, service, stage, {deployment_id})

    @staticmethod
    def _forget(conn: sqlite3.Connection, service: str, stage: str, ids: set[int]) -> set[str]:
        """Delete the deployments `ids` of a stage and the versions only they used; the artifact
        hashes of those versions."""
        if not ids:
            return set()
        rows = conn.execute(
            "SELECT * FROM deployments WHERE service = ? AND stage = ?", (service, stage)
        ).fetchall()
        used: set[tuple[str, int]] = set()
        candidates: set[tuple[str, int]] = set()
        for r in rows:
            dep = _deployment(r)
            pairs = {(dep.physical[n], v) for n, v in dep.functions.items()}
            if r["id"] in ids:
                candidates |= pairs
                conn.execute("DELETE FROM deployments WHERE id = ?", (r["id"],))
            else:
                used |= pairs
        shas: set[str] = set()
        for fn, version in candidates - used:
            row = conn.execute(
                "SELECT code_sha256, layer_sha256 FROM versions WHERE function = ? AND "
                "version = ?", (fn, version),
            ).fetchone()
            if row is not None:
                shas.update(x for x in (row["code_sha256"], row["layer_sha256"]) if x)
            conn.execute("DELETE FROM versions WHERE function = ? AND version = ?",
                         (fn, version))
        return shas

    def remove_stage(self, service: str, stage: str, functions: list[str]) -> None:
        """Forget a stage: its alias, deployments, versions, schedules and queued events."""
        with self._conn() as conn, transaction(conn):
            conn.execute("DELETE FROM stages WHERE service = ? AND stage = ?", (service, stage))
            conn.execute(
                "DELETE FROM deployments WHERE service = ? AND stage = ?", (service, stage)
            )
            conn.execute("DELETE FROM schedules WHERE service = ? AND stage = ?", (service, stage))
            for fn in functions:
                conn.execute("DELETE FROM versions WHERE function = ?", (fn,))
                conn.execute("DELETE FROM async_events WHERE function = ?", (fn,))


def _take_schedules(
    conn: sqlite3.Connection, service: str, stage: str
) -> dict[str, ScheduleRecord]:
    """A stage's schedules by name, removed from the table (the caller writes the new set)."""
    live = {
        r["name"]: _schedule(r)
        for r in conn.execute(
            "SELECT * FROM schedules WHERE service = ? AND stage = ?", (service, stage)
        )
    }
    conn.execute("DELETE FROM schedules WHERE service = ? AND stage = ?", (service, stage))
    return live


def _insert_schedule(conn: sqlite3.Connection, rec: ScheduleRecord) -> None:
    conn.execute(
        "INSERT INTO schedules VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (rec.name, rec.service, rec.stage, rec.function, rec.expression, rec.input,
         rec.kind, int(rec.enabled), rec.anchor, rec.next_fire),
    )
