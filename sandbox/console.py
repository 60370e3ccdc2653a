"""A small agent console at ``/sandbox/``: server-rendered, driven by the control API."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from aiohttp import web

from sandbox.keys import DESK
from sandbox.state import ACTIVITY, INCOMING, Agent, Conversation, Message

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1f2328}
header{background:#1f93ff;color:#fff;padding:10px 16px;display:flex;gap:16px;align-items:center}
header h1{font-size:16px;margin:0}main{padding:16px;display:grid;gap:16px;
grid-template-columns:repeat(auto-fill,minmax(420px,1fr))}
.conv{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:12px}
.conv h2{font-size:15px;margin:0 0 4px}.meta{color:#57606a;font-size:12px}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;background:#eaeef2}
.open{background:#dafbe1}.resolved{background:#ddf4ff}.pending{background:#fff8c5}
.snoozed{background:#fbefff}.msgs{max-height:260px;overflow:auto;margin:8px 0;padding:0;
list-style:none}.msgs li{margin:4px 0;padding:6px 8px;border-radius:6px;background:#f6f8fa}
.msgs li.incoming{background:#eef6ff}.msgs li.private{background:#fff8c5}
.msgs li.activity{background:none;color:#57606a;font-style:italic;text-align:center}
form{display:flex;gap:6px;flex-wrap:wrap;margin-top:6px}textarea{flex:1 1 100%;min-height:40px}
button{cursor:pointer}.empty{color:#57606a}
"""

_SCRIPT = """
async function call(path, body) {
  const r = await fetch('/sandbox/api/' + path, {method: 'POST',
    headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
  if (!r.ok) { alert('Failed: ' + r.status + ' ' + await r.text()); return; }
  location.reload();
}
document.addEventListener('submit', (ev) => {
  const f = ev.target; ev.preventDefault();
  const id = f.dataset.conv, agent = document.getElementById('agent').value || 'Sandbox Agent';
  const action = ev.submitter ? ev.submitter.value : 'reply';
  if (action === 'reply' || action === 'note') {
    const content = f.elements.content.value.trim(); if (!content) return;
    call('conversations/' + id + '/messages', {content, private: action === 'note', agent});
  } else if (action === 'assign') {
    call('conversations/' + id + '/assign', {agent, by: agent});
  } else if (action === 'unassign') {
    call('conversations/' + id + '/assign', {agent: null, by: agent});
  } else {
    call('conversations/' + id + '/status', {status: action, agent});
  }
});
const agentBox = document.getElementById('agent');
agentBox.value = localStorage.getItem('sandboxAgent') || 'Sandbox Agent';
agentBox.addEventListener('change', () => localStorage.setItem('sandboxAgent', agentBox.value));
setInterval(() => {
  const busy = document.activeElement && document.activeElement.tagName === 'TEXTAREA'
    && document.activeElement.value;
  if (!busy) location.reload();
}, 5000);
"""


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")


def _message(msg: Message) -> str:
    if msg.message_type == ACTIVITY:
        return f'<li class="activity">{escape(msg.content or "")}</li>'
    kind = (
        "private" if msg.private else ("incoming" if msg.message_type == INCOMING else "outgoing")
    )
    who = msg.sender.name if msg.sender else "(template)"
    tag = " · private note" if msg.private else ""
    if isinstance(msg.sender, Agent):
        tag = " · agent" + tag
    return (
        f'<li class="{kind}"><div class="meta">{escape(who)}{tag} · {_when(msg.created_at)}'
        f" · #{msg.id}</div>{escape(msg.content or '')}</li>"
    )


def _conversation(conv: Conversation) -> str:
    assignee = conv.assignee.name if conv.assignee else "unassigned"
    attrs = ", ".join(f"{k}: {v}" for k, v in conv.custom_attributes.items())
    messages = "".join(_message(m) for m in conv.messages)
    return (
        f'<section class="conv" id="conv-{conv.display_id}">'
        f"<h2>#{conv.display_id} {escape(str(conv.custom_attributes.get('title', '')))}</h2>"
        f'<div class="meta"><span class="badge {escape(conv.status)}">{escape(conv.status)}'
        f"</span> · {escape(conv.contact.name)} · {escape(conv.inbox.name)} · "
        f"{escape(assignee)}</div>"
        f'<div class="meta">{escape(attrs)}</div>'
        f'<ul class="msgs">{messages}</ul>'
        f'<form data-conv="{conv.display_id}">'
        '<textarea name="content" placeholder="Reply or private note"></textarea>'
        '<button value="reply">Reply</button><button value="note">Private note</button>'
        '<button value="assign">Assign to me</button><button value="unassign">Unassign</button>'
        '<button value="resolved">Resolve</button><button value="open">Reopen</button>'
        '<button value="pending">Pending</button><button value="snoozed">Snooze</button>'
        "</form></section>"
    )


async def console_page(request: web.Request) -> web.Response:
    """Render every conversation, newest first, with reply/note/assign/status controls."""
    state = request.app[DESK].state
    convs = sorted(state.conversations.values(), key=lambda c: c.display_id, reverse=True)
    body = "".join(_conversation(c) for c in convs) or '<p class="empty">No conversations yet.</p>'
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Chatwoot sandbox · agent console</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<header><h1>Chatwoot sandbox — {escape(state.inbox.name)}</h1>"
        '<label>Agent <input id="agent" size="16"></label></header>'
        f"<main>{body}</main><script>{_SCRIPT}</script></body></html>"
    )
    return web.Response(text=html, content_type="text/html")


def add_routes(app: web.Application) -> None:
    """Register the console page."""
    app.router.add_get("/sandbox/", console_page)
    app.router.add_get("/sandbox", console_page)
