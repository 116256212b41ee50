"""The object store: SQLite (WAL) for durability, an in-memory index for reads,
and a per-resource journal of recent changes for watches.

Every write is one SQLite transaction, committed before the write returns,
so a ``kill -9`` of the daemon never loses an acknowledged write. The global
``resourceVersion`` counter (like an etcd revision) is persisted in the same
transaction. Reads never touch SQLite: the whole store is loaded at start.

Objects handed out by ``get``/``scan`` are the stored dicts themselves;
callers must copy before mutating (``Entry.copy()``).
"""
from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

JOURNAL_SIZE = 5000        # recent changes kept per resource for watch replay
SUBSCRIBER_BACKLOG = 20000  # a watcher that falls this far behind is cut off


def dumps(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class Entry:
    """One stored object: the dict and its JSON text (shared, never mutated)."""

    __slots__ = ("obj", "raw")

    def __init__(self, obj: dict, raw: str):
        self.obj = obj
        self.raw = raw

    def copy(self) -> dict:
        return json.loads(self.raw)


@dataclass(frozen=True)
class Change:
    """One committed write, as the journal and the watchers see it."""

    rv: int
    type: str          # ADDED, MODIFIED, DELETED
    key: str           # storage key "group/plural"
    entry: Entry       # the object after the change (for DELETED: last state at the deletion RV)
    prev: dict | None  # the object before the change (None for ADDED)


class Subscription:
    """A live feed of the changes of one storage key."""

    def __init__(self, store: "Store", key: str):
        self.store = store
        self.key = key
        self.queue: asyncio.Queue[Change | None] = asyncio.Queue()
        self.overflowed = False

    def push(self, change: Change) -> None:
        if self.overflowed:
            return
        if self.queue.qsize() >= SUBSCRIBER_BACKLOG:
            self.overflowed = True
            self.queue.put_nowait(None)
            return
        self.queue.put_nowait(change)

    def close(self) -> None:
        self.store._subscribers.get(self.key, set()).discard(self)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Journal:
    """Recent changes of one storage key; everything after ``floor`` is here."""

    def __init__(self, floor: int):
        self.floor = floor
        self.changes: deque[Change] = deque()

    def append(self, change: Change) -> None:
        if len(self.changes) >= JOURNAL_SIZE:
            self.floor = self.changes.popleft().rv
        self.changes.append(change)

    def since(self, rv: int) -> list[Change] | None:
        """Changes after ``rv``, or None when ``rv`` is older than the journal."""
        if rv < self.floor:
            return None
        if not self.changes or self.changes[-1].rv <= rv:
            return []
        return [c for c in self.changes if c.rv > rv]


class Store:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self.db.execute("CREATE TABLE IF NOT EXISTS objects (key TEXT NOT NULL, namespace TEXT NOT NULL, "
                        "name TEXT NOT NULL, rv INTEGER NOT NULL, data TEXT NOT NULL, "
                        "PRIMARY KEY (key, namespace, name)) WITHOUT ROWID")
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
        row = self.db.execute("SELECT v FROM meta WHERE k='rv'").fetchone()
        self.rv = int(row[0]) if row else 0
        self._objects: dict[str, dict[str, dict[str, Entry]]] = {}
        self._journals: dict[str, Journal] = {}
        self._subscribers: dict[str, set[Subscription]] = {}
        self.start_rv = self.rv
        for key, ns, name, data in self.db.execute("SELECT key, namespace, name, data FROM objects"):
            self._objects.setdefault(key, {}).setdefault(ns, {})[name] = Entry(json.loads(data), data)

    def close(self) -> None:
        for subs in self._subscribers.values():
            for s in list(subs):
                s.queue.put_nowait(None)
        self._subscribers.clear()
        try:
            self.db.close()
        except sqlite3.Error:
            pass

    # --- reads --------------------------------------------------------------
    def get(self, key: str, namespace: str, name: str) -> Entry | None:
        return self._objects.get(key, {}).get(namespace or "", {}).get(name)

    def scan(self, key: str, namespace: str | None = None) -> Iterator[Entry]:
        """Entries of ``key`` (one namespace, or all), sorted like etcd keys: namespace, name."""
        by_ns = self._objects.get(key, {})
        if namespace is not None:
            names = by_ns.get(namespace, {})
            for name in sorted(names):
                yield names[name]
            return
        for ns in sorted(by_ns):
            names = by_ns[ns]
            for name in sorted(names):
                yield names[name]

    def count(self, key: str, namespace: str | None = None) -> int:
        by_ns = self._objects.get(key, {})
        if namespace is not None:
            return len(by_ns.get(namespace, {}))
        return sum(len(v) for v in by_ns.values())

    def keys(self) -> list[str]:
        return [k for k, v in self._objects.items() if any(v.values())]

    # --- writes -------------------------------------------------------------
    def put(self, key: str, obj: dict, prev: dict | None = None) -> Entry:
        """Store ``obj`` (ADDED if new, else MODIFIED) at a new resourceVersion.

        ``obj`` becomes the store's: the caller must not touch it afterwards.
        """
        meta = obj["metadata"]
        ns, name = meta.get("namespace") or "", meta["name"]
        rv = self.rv + 1
        meta["resourceVersion"] = str(rv)
        raw = dumps(obj)
        self._commit(("INSERT OR REPLACE INTO objects VALUES (?,?,?,?,?)", (key, ns, name, rv, raw)), rv)
        entry = Entry(obj, raw)
        old = self.get(key, ns, name)
        self._objects.setdefault(key, {}).setdefault(ns, {})[name] = entry
        self._publish(Change(rv, "MODIFIED" if old else "ADDED", key, entry, old.obj if old else prev))
        return entry

    def delete(self, key: str, namespace: str, name: str) -> Entry | None:
        """Remove an object; the DELETED event carries its last state at the deletion RV."""
        ns = namespace or ""
        old = self.get(key, ns, name)
        if old is None:
            return None
        rv = self.rv + 1
        self._commit(("DELETE FROM objects WHERE key=? AND namespace=? AND name=?", (key, ns, name)), rv)
        del self._objects[key][ns][name]
        if not self._objects[key][ns]:
            del self._objects[key][ns]
        last = old.copy()
        last["metadata"]["resourceVersion"] = str(rv)
        entry = Entry(last, dumps(last))
        self._publish(Change(rv, "DELETED", key, entry, old.obj))
        return entry

    def _commit(self, statement: tuple[str, tuple], rv: int) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(*statement)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('rv', ?)", (str(rv),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self.rv = rv

    # --- watch --------------------------------------------------------------
    def _journal(self, key: str) -> Journal:
        j = self._journals.get(key)
        if j is None:
            j = self._journals[key] = Journal(self.start_rv)
        return j

    def _publish(self, change: Change) -> None:
        self._journal(change.key).append(change)
        for sub in list(self._subscribers.get(change.key, ())):
            sub.push(change)

    def subscribe(self, key: str) -> Subscription:
        sub = Subscription(self, key)
        self._subscribers.setdefault(key, set()).add(sub)
        return sub

    def changes_since(self, key: str, rv: int) -> list[Change] | None:
        return self._journal(key).since(rv)

    def oldest_rv(self, key: str) -> int:
        """The oldest resourceVersion a watch of ``key`` can still start from."""
        j = self._journal(key)
        return j.floor + 1 if not j.changes else min(j.floor + 1, j.changes[0].rv)
