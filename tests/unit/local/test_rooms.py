"""The local cloud's rooms are layered: each imports only `aloft.local.types` and the rooms before
it in ROOMS, so nothing imports upwards (docs/contributing.md draws the map)."""

from __future__ import annotations

from tests.unit.test_import_cycles import import_graph

ROOMS = ["store", "instances", "http", "services", "triggers", "deploy", "control"]
TOP = ["compiled", "daemon", "provider"]  # above the rooms (with `types` below them)


def _room(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if parts[:2] == ["aloft", "local"] and len(parts) > 2 else None


def test_no_room_imports_a_room_after_it() -> None:
    rank = {room: i for i, room in enumerate([*ROOMS, *TOP])}  # types: -1
    upwards = {(module, other) for module, imported in import_graph().items()
               if _room(module) in ROOMS for other in imported
               if rank.get(_room(other) or "", -1) > rank[_room(module) or ""]}
    assert upwards == set()


def test_every_module_of_local_is_in_a_room_or_at_the_top() -> None:
    rooms = {_room(m) for m in import_graph() if m.startswith("aloft.local.")}
    assert rooms == {*ROOMS, *TOP, "types"}
