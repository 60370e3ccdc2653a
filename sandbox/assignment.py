"""Chatwoot's auto-assignment: an online agent takes a new conversation inside its create."""

from __future__ import annotations

from typing import Protocol

from sandbox.state import Agent, Conversation, SandboxState

# Chatwoot's name for the actor of automatic changes (`automation.system_name`).
SYSTEM_NAME = "Automation System"


class Desk(Protocol):
    """What auto-assignment needs of ``sandbox.desk.Desk`` (which calls it: no import loop)."""

    state: SandboxState

    def assign(self, conv: Conversation, agent_name: str | None, by: str | None) -> None:
        """Assign the conversation to an agent, or unassign it."""


def auto_assign(desk: Desk, conv: Conversation) -> Agent | None:
    """Assign an online agent inside the create, as Chatwoot's auto-assignment does."""
    state = desk.state
    if conv.inbox is not state.inbox or not state.settings.enable_auto_assignment:
        return None
    if conv.assignee is not None or conv.status != "open":
        return None
    online = [a for a in state.agents.values() if a.availability == "online"]
    if not online:
        return None

    def load(agent: Agent) -> tuple[int, int]:
        mine = sum(
            1 for c in state.conversations.values() if c.assignee is agent and c.status == "open"
        )
        return mine, agent.id

    agent = min(online, key=load)
    desk.assign(conv, agent.name, SYSTEM_NAME)
    return agent
