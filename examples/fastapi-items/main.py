"""fastapi-items: CRUD on an in-memory item store, with a lifespan that seeds it.

The store lives as long as the function instance: each new instance starts from the seed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Response
from pydantic import BaseModel, Field


class ItemIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    price: float = Field(ge=0)
    tags: list[str] = Field(default_factory=list)


class Item(ItemIn):
    id: int


class Store:
    def __init__(self) -> None:
        self.items: dict[int, Item] = {}
        self.next_id = 1

    def add(self, data: ItemIn) -> Item:
        item = Item(id=self.next_id, **data.model_dump())
        self.items[item.id] = item
        self.next_id += 1
        return item


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Runs once per instance, before its first request (aloft drives ASGI lifespan events).
    store = Store()
    store.add(ItemIn(name="teapot", price=12.5, tags=["kitchen"]))
    app.state.store = store
    yield
    app.state.store = None


app = FastAPI(title="fastapi-items", lifespan=lifespan)


def _store() -> Store:
    store: Store = app.state.store
    return store


@app.get("/")
async def index() -> dict[str, object]:
    return {"service": "fastapi-items", "items": len(_store().items)}


@app.get("/items")
async def list_items() -> list[Item]:
    return list(_store().items.values())


@app.post("/items", status_code=201)
async def create_item(data: ItemIn) -> Item:
    return _store().add(data)


@app.get("/items/{item_id}")
async def get_item(item_id: int) -> Item:
    item = _store().items.get(item_id)
    if item is None:
        raise HTTPException(status_code=404, detail=f"no item {item_id}")
    return item


@app.put("/items/{item_id}")
async def replace_item(item_id: int, data: ItemIn) -> Item:
    if item_id not in _store().items:
        raise HTTPException(status_code=404, detail=f"no item {item_id}")
    item = Item(id=item_id, **data.model_dump())
    _store().items[item_id] = item
    return item


@app.delete("/items/{item_id}", status_code=204)
async def delete_item(item_id: int) -> Response:
    if _store().items.pop(item_id, None) is None:
        raise HTTPException(status_code=404, detail=f"no item {item_id}")
    return Response(status_code=204)
