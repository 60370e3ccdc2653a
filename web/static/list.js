// Live ticket list: rows follow /ws (status, assignee, preview, unread), newest activity first.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("list-data").textContent);
  var S = data.strings;
  var list = document.getElementById("tickets");
  // Which statuses each filter shows (the server's STATUS_FILTERS).
  var FILTERS = {
    all: null,
    open: ["open", "pending", "snoozed"],
    resolved: ["resolved"]
  };
  var baseTitle = S["list.title"] + " · " + S["app.name"];
  var socket = null;
  var attempt = 0;
  var stopped = false;

  function t(key, values) {
    var text = S[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(values[name]);
    });
    return text;
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function showTotal(total) {
    document.title = (total > 0 ? "(" + total + ") " : "") + baseTitle;
  }

  function time(iso) {
    var node = el("time", null, window.tftFormatTime ? window.tftFormatTime(iso) : iso);
    node.setAttribute("datetime", iso);
    return node;
  }

  function badge(status) {
    var node = el("span", "badge s-" + status, S["status." + status] || status);
    node.setAttribute("data-status", status);
    return node;
  }

  function assignee(name) {
    return name ? el("span", "who", name) : el("span", "muted", S["list.unassigned"]);
  }

  function preview(node, last) {
    node.replaceChildren();
    node.hidden = !last;
    if (!last) { return; }
    var who = last.direction === "requester" ? S["list.you"] : (last.author || S["ticket.agent"]);
    var text = last.content || S["list.preview.files"];
    if (text.length > 140) { text = text.slice(0, 139) + "…"; }
    node.appendChild(el("span", "preview-who", who + ":"));
    node.appendChild(document.createTextNode(" "));
    node.appendChild(el("span", "preview-text", text));
  }

  function unread(node, count) {
    node.setAttribute("data-unread", String(count));
    node.hidden = !count;
    node.textContent = t(count === 1 ? "list.unread.one" : "list.unread.other", { count: count });
  }

  // A new row, built like the server's: every user value goes in as text, never as HTML.
  function build(ticket) {
    var li = el("li", "card ticket-row");
    var link = el("a", "row-link");
    link.href = "/tickets/" + ticket.id;
    var top = el("span", "row-top");
    top.appendChild(el("span", "row-title", ticket.title));
    var flags = el("span", "row-flags");
    flags.appendChild(el("span", "unread"));
    flags.appendChild(badge(ticket.status));
    top.appendChild(flags);
    link.appendChild(top);
    link.appendChild(el("span", "row-preview"));
    var meta = el("span", "row-meta");
    meta.appendChild(el("span", null, "#" + ticket.id + " · " + (data.sectors[ticket.sector] || ticket.sector)));
    var who = el("span", null, S["list.assignee"] + ": ");
    who.appendChild(el("span", "row-assignee"));
    meta.appendChild(who);
    var when = el("span", null, S["list.last_activity"] + ": ");
    when.appendChild(el("span", "row-activity"));
    meta.appendChild(when);
    link.appendChild(meta);
    li.appendChild(link);
    li.setAttribute("data-ticket-id", String(ticket.id));
    return li;
  }

  function fill(li, ticket) {
    li.setAttribute("data-activity", ticket.lastActivityAt);
    li.classList.toggle("has-unread", ticket.unread > 0);
    li.querySelector(".row-title").textContent = ticket.title;
    li.querySelector(".badge").replaceWith(badge(ticket.status));
    unread(li.querySelector(".unread"), ticket.unread);
    preview(li.querySelector(".row-preview"), ticket.lastMessage);
    li.querySelector(".row-assignee").replaceChildren(assignee(ticket.assignee));
    li.querySelector(".row-activity").replaceChildren(time(ticket.lastActivityAt));
  }

  function activity(row) {
    return Date.parse(row.getAttribute("data-activity")) || 0;
  }

  function place(li) {
    var at = activity(li);
    var id = Number(li.getAttribute("data-ticket-id"));
    var rows = Array.prototype.slice.call(list.children).filter(function (row) { return row !== li; });
    var before = null;
    for (var i = 0; i < rows.length; i++) {
      var other = activity(rows[i]);
      var newer = at > other || (at === other && id > Number(rows[i].getAttribute("data-ticket-id")));
      if (newer) { before = rows[i]; break; }
    }
    if (li.nextElementSibling === before && li.parentNode === list) { return; }
    list.insertBefore(li, before);
  }

  function listed(ticket) {
    var shown = FILTERS[data.status];
    return !shown || shown.indexOf(ticket.status) >= 0;
  }

  function update(ticket) {
    var li = list.querySelector('[data-ticket-id="' + ticket.id + '"]');
    if (!listed(ticket)) {
      if (li) { li.remove(); }
      return;
    }
    if (!li) {
      // Only the first page takes tickets it did not list: later pages keep their window.
      if (data.page !== 1) { return; }
      li = build(ticket);
    }
    fill(li, ticket);
    place(li);
  }

  function connect() {
    if (stopped) { return; }
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws");
    socket.onopen = function () {
      attempt = 0;
      socket.send(JSON.stringify({ type: "list" }));
    };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.type === "ticket") {
        if (list) { update(frame.ticket); }
        else if (data.page === 1 && listed(frame.ticket)) { location.reload(); }
      } else if (frame.type === "unread") {
        showTotal(frame.total);
      }
    };
    socket.onclose = function (event) {
      socket = null;
      if (event.code === 1008) { stopped = true; }
      if (stopped) { return; }
      var delay = Math.min(15000, 500 * Math.pow(2, attempt)) * (0.75 + Math.random() / 2);
      attempt += 1;
      setTimeout(connect, delay);
    };
  }

  showTotal(data.unreadTotal);
  connect();
})();
