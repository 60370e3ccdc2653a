"""Keep the sandbox's records in a folder: a write-through journal, compacted on start."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
from pathlib import Path
from typing import IO, Any

from sandbox import state as records
from sandbox.inbox import InboxSettings
from sandbox.state import Agent, Contact, ContactInbox, Conversation, Message, SandboxState, Team

JOURNAL = "sandbox-state.jsonl"
# Compact while running once the journal outgrows the last snapshot this many times.
GROWTH_FACTOR = 4
MIN_COMPACT_BYTES = 8 * 1024 * 1024


class StoreInUse(RuntimeError):
    """Raise when another sandbox already keeps its records in the same folder."""


class Store:
    """Write every change before the answer goes out; rebuild the records on start."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.blobs = folder / "blobs"
        self._journal: IO[str] | None = None
        self._lock: IO[str] | None = None
        self._appended = 0
        self._snapshot_bytes = 0

    # --- lifecycle ----------------------------------------------------------------------

    def open(self, state: SandboxState) -> None:
        """Lock the folder, load what it holds into ``state`` and compact the journal."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.blobs.mkdir(exist_ok=True, mode=0o700)
        lock = (self.folder / "lock").open("a")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            raise StoreInUse(f"another sandbox keeps its records in {self.folder}") from None
        self._lock = lock
        path = self.folder / JOURNAL
        if path.exists():
            _replay(state, path.read_text(encoding="utf-8"), self.blobs)
        self.compact(state)

    def close(self, state: SandboxState) -> None:
        """Write what is left and release the folder."""
        if self._journal is not None:
            self.commit(state)
            self._journal.close()
            self._journal = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    # --- writing ------------------------------------------------------------------------

    def commit(self, state: SandboxState) -> None:
        """Append every record changed since the last commit, and fsync it."""
        dirty, state.dirty = state.dirty, {}
        if not dirty or self._journal is None:
            return
        if "wipe" in dirty:
            self.compact(state)
            return
        lines = [json.dumps(line, separators=(",", ":")) for line in self._lines(state, dirty)]
        text = "".join(line + "\n" for line in lines)
        self._journal.write(text)
        self._journal.flush()
        os.fsync(self._journal.fileno())
        self._appended += len(text)
        if self._appended > max(MIN_COMPACT_BYTES, GROWTH_FACTOR * self._snapshot_bytes):
            self.compact(state)

    def compact(self, state: SandboxState) -> None:
        """Rewrite the journal as one snapshot (atomically) and drop unreferenced blobs."""
        everything: dict[str, set[Any]] = {
            "counters": {True},
            "settings": {True},
            "agent": set(state.agents),
            "team": set(state.teams),
            "contact": set(state.contacts),
            "contact_inbox": {ci.id for ci in state.contact_inboxes},
            "conversation": set(state.conversations),
            "message": {
                (c.display_id, m.id) for c in state.conversations.values() for m in c.messages
            },
        }
        used: set[str] = set()
        lines = [json.dumps(x, separators=(",", ":")) for x in self._lines(state, everything, used)]
        text = "".join(line + "\n" for line in lines)
        path = self.folder / JOURNAL
        if self._journal is not None:
            self._journal.close()
        _atomic_write(path, text.encode())
        for blob in self.blobs.iterdir():
            if blob.name not in used:
                blob.unlink(missing_ok=True)
        self._journal = path.open("a", encoding="utf-8")
        self._snapshot_bytes, self._appended = len(text), 0
        state.dirty = {}

    def _lines(
        self, state: SandboxState, dirty: dict[str, set[Any]], used: set[str] | None = None
    ) -> list[dict[str, Any]]:
        codec = _Codec(self.blobs, used)
        out: list[dict[str, Any]] = []
        if dirty.get("counters"):
            out.append({"k": "counters", "v": dict(state.counters)})
        if dirty.get("settings"):
            out.append({"k": "settings", "v": state.settings.as_dict()})
        for name in sorted(dirty.get("agent", ())):
            if name in state.agents:
                out.append({"k": "agent", "v": dataclasses.asdict(state.agents[name])})
        for name in sorted(dirty.get("team", ())):
            if name in state.teams:
                out.append({"k": "team", "v": dataclasses.asdict(state.teams[name])})
        for cid in sorted(dirty.get("contact", ())):
            if cid in state.contacts:
                out.append({"k": "contact", "v": codec.fields(state.contacts[cid])})
        wanted = dirty.get("contact_inbox", set())
        for ci in state.contact_inboxes:
            if ci.id in wanted:
                out.append({"k": "contact_inbox", "v": _contact_inbox(ci)})
        for display_id in sorted(dirty.get("conversation", ())):
            conv = state.conversations.get(display_id)
            if conv is not None:
                out.append({"k": "conversation", "v": codec.conversation(conv)})
        # One line per changed message: a long conversation costs no more to extend.
        for display_id, message_id in sorted(dirty.get("message", ())):
            conv = state.conversations.get(display_id)
            msg = _find(conv.messages, message_id) if conv is not None else None
            if msg is not None:
                value = {"conversation": display_id, **codec.message(msg, state.blobs)}
                out.append({"k": "message", "v": value})
        return out


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
    # The rename itself must reach the disk, or a crash could bring the old file back.
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _contact_inbox(ci: ContactInbox) -> dict[str, Any]:
    return {
        "id": ci.id,
        "contact": ci.contact.id,
        "inbox": ci.inbox.id,
        "source_id": ci.source_id,
        "pubsub_token": ci.pubsub_token,
        "created_at": ci.created_at,
        "updated_at": ci.updated_at,
        "hmac_verified": ci.hmac_verified,
    }


class _Codec:
    """Turn records into JSON and back; bytes live in content-addressed blob files."""

    def __init__(self, blobs: Path, used: set[str] | None = None) -> None:
        self.blobs = blobs
        self.used = used if used is not None else set()

    def plain(self, value: Any) -> Any:
        """Return ``value`` as JSON (dataclasses and bytes tagged)."""
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {"__dc__": type(value).__name__, "f": self.fields(value)}
        if isinstance(value, bytes | bytearray):
            return {"__blob__": self.blob(bytes(value))}
        if isinstance(value, dict):
            mapped = {str(k): self.plain(v) for k, v in value.items()}
            return (
                {"__map__": mapped} if {"__dc__", "__blob__", "__map__"} & set(mapped) else mapped
            )
        if isinstance(value, list | tuple):
            return [self.plain(v) for v in value]
        return value

    def fields(self, obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
        """Return a dataclass's fields as JSON, leaving out ``skip``."""
        return {
            f.name: self.plain(getattr(obj, f.name))
            for f in dataclasses.fields(obj)
            if f.name not in skip
        }

    def blob(self, data: bytes) -> str:
        """Store bytes once under their hash; return the hash."""
        name = hashlib.sha256(data).hexdigest()
        self.used.add(name)
        path = self.blobs / name
        if not path.exists():
            _atomic_write(path, data)
        return name

    def restore(self, value: Any) -> Any:
        """Reverse ``plain``."""
        if isinstance(value, list):
            return [self.restore(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "__blob__" in value:
            self.used.add(value["__blob__"])
            return (self.blobs / value["__blob__"]).read_bytes()
        if "__dc__" in value:
            return _build(getattr(records, value["__dc__"]), self.restore_fields(value["f"]))
        if "__map__" in value:
            return {k: self.restore(v) for k, v in value["__map__"].items()}
        return {k: self.restore(v) for k, v in value.items()}

    def restore_fields(self, stored: dict[str, Any]) -> dict[str, Any]:
        """Reverse ``fields``."""
        return {k: self.restore(v) for k, v in stored.items()}

    def conversation(self, conv: Conversation) -> dict[str, Any]:
        """Return a conversation's own fields as JSON (its messages have their own lines)."""
        out = self.fields(conv, ("contact_inbox", "assignee", "team", "messages"))
        out["contact_inbox"] = conv.contact_inbox.id
        out["assignee"] = conv.assignee.name if conv.assignee else None
        out["team"] = conv.team.name if conv.team else None
        return out

    def message(self, msg: Message, blobs: dict[str, bytes]) -> dict[str, Any]:
        """Return a message as JSON (the sender by reference, file bytes as blob names)."""
        out = self.fields(msg, ("conversation", "sender"))
        out["blobs"] = {
            att.key: self.blob(blobs[att.key]) for att in msg.attachments if att.key in blobs
        }
        sender = msg.sender
        out["sender"] = (
            None
            if sender is None
            else {"contact": sender.id}
            if isinstance(sender, Contact)
            else {"agent": sender.name}
        )
        return out


_REFS = ("sender", "blobs")


def _find(messages: list[Message], message_id: int) -> Message | None:
    # New and recently changed messages sit at the end.
    for msg in reversed(messages):
        if msg.id == message_id:
            return msg
    return None


def _build(cls: Any, values: dict[str, Any]) -> Any:
    # Fields added since the file was written take their defaults; removed ones are dropped.
    known = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in known})


def _replay(state: SandboxState, text: str, blobs: Path) -> None:
    codec = _Codec(blobs)
    conversations: dict[int, dict[str, Any]] = {}
    messages: dict[int, dict[int, dict[str, Any]]] = {}
    for raw in text.splitlines():
        try:
            line = json.loads(raw)
        except json.JSONDecodeError:
            # Only the last line can be torn (a crash mid-append); it was never acknowledged.
            continue
        kind, value = line.get("k"), line.get("v")
        if kind == "counters":
            state.counters.update(value)
        elif kind == "settings":
            state.settings = _build(InboxSettings, value)
        elif kind == "agent":
            agent = _build(Agent, value)
            state.agents[agent.name] = agent
        elif kind == "team":
            team = _build(Team, value)
            state.teams[team.name] = team
        elif kind == "contact":
            contact = _build(Contact, codec.restore_fields(value))
            known = state.contacts.get(contact.id)
            if known is None:
                state.contacts[contact.id] = contact
            else:
                # Sessions already point at this contact: update it in place.
                known.__dict__.update(contact.__dict__)
        elif kind == "contact_inbox":
            _load_contact_inbox(state, value)
        elif kind == "conversation":
            conversations[value["display_id"]] = value
            # Journals written before messages had their own lines carry them inside.
            for stored in value.pop("messages", ()):
                messages.setdefault(value["display_id"], {})[stored["id"]] = stored
        elif kind == "message":
            messages.setdefault(value.pop("conversation"), {})[value["id"]] = value
    for display_id, value in conversations.items():
        stored = sorted(messages.get(display_id, {}).values(), key=lambda m: m["id"])
        with contextlib.suppress(KeyError):
            _load_conversation(state, codec, value, stored)
    state.dirty = {}


def _load_contact_inbox(state: SandboxState, value: dict[str, Any]) -> None:
    inbox = state.inbox_by_id(value["inbox"])
    contact = state.contacts.get(value["contact"])
    if inbox is None or contact is None:
        return
    fields = {k: v for k, v in value.items() if k not in ("contact", "inbox")}
    ci = ContactInbox(contact=contact, inbox=inbox, **fields)
    state.contact_inboxes = [c for c in state.contact_inboxes if c.id != ci.id] + [ci]


def _load_conversation(
    state: SandboxState, codec: _Codec, value: dict[str, Any], stored_messages: list[dict[str, Any]]
) -> None:
    ci = next(c for c in state.contact_inboxes if c.id == value["contact_inbox"])
    fields = codec.restore_fields(
        {k: v for k, v in value.items() if k not in ("contact_inbox", "assignee", "team")}
    )
    conv = _build(Conversation, {**fields, "contact_inbox": ci, "messages": []})
    conv.assignee = state.agents.get(value["assignee"]) if value["assignee"] else None
    conv.team = state.teams.get(value["team"]) if value["team"] else None
    for stored in stored_messages:
        sender_ref = stored.get("sender") or {}
        sender = (
            state.contacts.get(sender_ref["contact"])
            if "contact" in sender_ref
            else state.agents.get(sender_ref.get("agent", ""))
        )
        rest = codec.restore_fields({k: v for k, v in stored.items() if k not in _REFS})
        msg = _build(Message, {**rest, "conversation": conv, "sender": sender})
        for key, name in stored.get("blobs", {}).items():
            codec.used.add(name)
            state.blobs[key] = (codec.blobs / name).read_bytes()
        for att in msg.attachments:
            state.attachments[att.id] = att
        conv.messages.append(msg)
    state.conversations[conv.display_id] = conv
