"""Control routes for inbox settings, agents, switches and agent-side conversation changes."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox import changes
from sandbox.control import PREFIX, conversation_record, read_body, request_conversation
from sandbox.desk import Desk
from sandbox.inbox import SettingsInvalid
from sandbox.keys import DESK
from sandbox.state import AVAILABILITIES, Agent

DEFAULT_AGENT = "Sandbox Agent"


def _desk(request: web.Request) -> Desk:
    return request.app[DESK]


def _actor(body: dict[str, Any]) -> str:
    return str(body.get("agent") or DEFAULT_AGENT)


async def inbox_settings(request: web.Request) -> web.Response:
    """Show or change the inbox settings (``PATCH`` takes any subset of the keys)."""
    settings = _desk(request).state.settings
    if request.method == "PATCH":
        try:
            settings.apply(await read_body(request))
        except SettingsInvalid as exc:
            raise web.HTTPUnprocessableEntity(reason=str(exc)) from None
        _desk(request).state.touch("settings", True)
    return web.json_response(settings.as_dict())


def agent_record(agent: Agent) -> dict[str, Any]:
    """Return an agent as the control API shows it."""
    return {
        "id": agent.id,
        "name": agent.name,
        "available_name": agent.available_name,
        "email": agent.email,
        "availability": agent.availability,
    }


async def agents(request: web.Request) -> web.Response:
    """List agents, or create/update one: ``{"name", "available_name"?, "availability"?}``."""
    state = _desk(request).state
    if request.method == "POST":
        body = await read_body(request)
        name, display = body.get("name"), body.get("available_name", "")
        availability = body.get("availability", "online")
        if not isinstance(name, str) or not name.strip():
            raise web.HTTPBadRequest(reason="name is required")
        if not isinstance(display, str):
            raise web.HTTPBadRequest(reason="available_name must be a string")
        if availability not in AVAILABILITIES:
            raise web.HTTPBadRequest(reason="availability must be online, busy or offline")
        agent = state.agent(name.strip())
        agent.display_name, agent.availability = display.strip(), availability
        state.touch("agent", agent.name)
        return web.json_response(agent_record(agent))
    listed = sorted(state.agents.values(), key=lambda a: a.id)
    return web.json_response([agent_record(a) for a in listed])


async def switches(request: web.Request) -> web.Response:
    """Show or change behaviour switches: ``late_snapshots``, ``snapshot_jitter_ms``."""
    state = _desk(request).state
    if request.method == "PATCH":
        body = await read_body(request)
        unknown = set(body) - {"late_snapshots", "snapshot_jitter_ms"}
        if unknown:
            raise web.HTTPBadRequest(reason=f"unknown switches: {', '.join(sorted(unknown))}")
        late = body.get("late_snapshots", state.late_snapshots)
        jitter = body.get("snapshot_jitter_ms", state.snapshot_jitter_ms)
        if not isinstance(late, bool):
            raise web.HTTPBadRequest(reason="late_snapshots must be true or false")
        if isinstance(jitter, bool) or not isinstance(jitter, int) or not 0 <= jitter <= 60_000:
            raise web.HTTPBadRequest(reason="snapshot_jitter_ms must be an integer 0-60000")
        state.late_snapshots, state.snapshot_jitter_ms = late, jitter
    return web.json_response(
        {"late_snapshots": state.late_snapshots, "snapshot_jitter_ms": state.snapshot_jitter_ms}
    )


async def _change(request: web.Request, key: str) -> web.Response:
    conv = request_conversation(request)
    body = await read_body(request)
    if key not in body:
        raise web.HTTPBadRequest(reason=f"{key} is required")
    desk, value, actor = _desk(request), body[key], _actor(body)
    try:
        if key == "labels":
            changes.set_labels(desk, conv, value, actor)
        elif key == "priority":
            changes.set_priority(desk, conv, value, actor)
        elif key == "team":
            changes.set_team(desk, conv, value, actor)
        elif key == "custom_attributes":
            changes.set_custom_attributes(desk, conv, value)
        else:
            changes.snooze(desk, conv, value, actor)
    except changes.ChangeInvalid as exc:
        raise web.HTTPUnprocessableEntity(reason=str(exc)) from None
    return web.json_response(conversation_record(desk.state, conv))


async def labels(request: web.Request) -> web.Response:
    """Replace the labels: ``{"labels": [...]}``."""
    return await _change(request, "labels")


async def priority(request: web.Request) -> web.Response:
    """Set the priority: ``{"priority": "low"|"medium"|"high"|"urgent"|null}``."""
    return await _change(request, "priority")


async def team(request: web.Request) -> web.Response:
    """Assign a team by name: ``{"team": "it-support"|null}``."""
    return await _change(request, "team")


async def custom_attributes(request: web.Request) -> web.Response:
    """Replace the custom attributes: ``{"custom_attributes": {...}}``."""
    return await _change(request, "custom_attributes")


async def snooze(request: web.Request) -> web.Response:
    """Snooze: ``{"snoozed_until": <unix time>|null}`` (null: until the next reply)."""
    return await _change(request, "snoozed_until")


def add_routes(app: web.Application) -> None:
    """Register the settings, agent, switch and change routes."""
    conv = PREFIX + "/conversations/{conversation_id}"
    app.router.add_get(PREFIX + "/inbox", inbox_settings)
    app.router.add_patch(PREFIX + "/inbox", inbox_settings)
    app.router.add_get(PREFIX + "/agents", agents)
    app.router.add_post(PREFIX + "/agents", agents)
    app.router.add_get(PREFIX + "/switches", switches)
    app.router.add_patch(PREFIX + "/switches", switches)
    app.router.add_post(conv + "/labels", labels)
    app.router.add_post(conv + "/priority", priority)
    app.router.add_post(conv + "/team", team)
    app.router.add_post(conv + "/custom_attributes", custom_attributes)
    app.router.add_post(conv + "/snooze", snooze)
