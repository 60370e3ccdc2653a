// Live ticket conversation: renders timeline items arriving over /ws, resumes after drops.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("chat-data").textContent);
  var S = data.strings;
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var list = document.getElementById("timeline");
  var live = document.getElementById("live");
  var form = document.getElementById("composer");
  var box = document.getElementById("content");
  var pill = document.getElementById("new-messages");
  // Phones have no Shift+Enter: there Enter adds a line and the Send button sends.
  var touch = window.matchMedia("(pointer: coarse)").matches;
  // Item id -> the cursor of the version shown: an edit or delete comes back with a newer one.
  var seen = new Map();
  var lastId = data.lastId;
  var socket = null;
  var attempt = 0;
  var stopped = false;
  var typingLine = document.getElementById("typing");
  var typingTimer = null;
  // An agent's "typing" with no news for this long is stale (a lost typing_off).
  var TYPING_TTL = 60000;

  list.querySelectorAll("[data-id]").forEach(function (node) {
    seen.set(Number(node.getAttribute("data-id")), Number(node.getAttribute("data-cursor")));
  });

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function t(key, values) {
    var text = S[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(values[name]);
    });
    return text;
  }

  function eventLine(item) {
    var own = window.tftAnswers && window.tftAnswers.eventLine(item);
    if (own) { return own; }
    var key = S["event." + item.kind] ? "event." + item.kind : "event.other";
    return t(key, { assignee: (item.data && item.data.assignee) || "" });
  }

  function time(iso) {
    var node = el("time", null, window.tftFormatTime ? window.tftFormatTime(iso) : iso);
    node.setAttribute("datetime", iso);
    return node;
  }

  // Agent Markdown arrives as spans: each becomes an element with textContent, never HTML.
  function richText(item) {
    var p = el("p", "text");
    (item.spans || [{ text: item.content }]).forEach(function (span) {
      var node;
      if (span.href && /^https?:\/\//.test(span.href)) {
        node = el("a", null, span.text);
        node.setAttribute("href", span.href);
        node.setAttribute("rel", "noopener noreferrer nofollow");
        node.setAttribute("target", "_blank");
      } else if (span.bold) {
        node = el("strong", null, span.text);
      } else if (span.italic) {
        node = el("em", null, span.text);
      } else if (span.code) {
        node = el("code", null, span.text);
      } else {
        node = document.createTextNode(span.text);
      }
      p.appendChild(node);
    });
    return p;
  }

  function size(bytes) {
    if (typeof bytes !== "number") { return ""; }
    var units = ["B", "KB", "MB", "GB"];
    var value = bytes;
    var unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    var digits = unit === 0 || value >= 10 ? 0 : 1;
    return value.toLocaleString(data.locale, { maximumFractionDigits: digits }) + " " + units[unit];
  }

  // Images as thumbnails opening full size, audio playable, other files as download rows.
  function fileList(files) {
    var ul = el("ul", "files");
    ul.setAttribute("aria-label", S["ticket.file.list"]);
    files.forEach(function (file) {
      var li;
      if (file.thumbUrl) {
        li = el("li", "file-image");
        var open = el("a");
        open.href = file.url;
        open.target = "_blank";
        open.rel = "noopener";
        open.title = t("ticket.file.open", { name: file.name });
        var img = el("img");
        img.src = file.thumbUrl;
        img.alt = file.name;
        img.loading = "lazy";
        open.appendChild(img);
        li.appendChild(open);
      } else {
        li = el("li", "file-row");
        if ((file.contentType || "").indexOf("audio/") === 0) {
          var audio = el("audio");
          audio.controls = true;
          audio.preload = "none";
          audio.src = file.url;
          li.appendChild(audio);
        }
        var link = el("a");
        link.href = file.url;
        link.setAttribute("download", file.name);
        link.title = t("ticket.file.download", { name: file.name });
        var dot = file.name.lastIndexOf(".");
        var icon = el("span", "file-icon", (dot > 0 ? file.name.slice(dot + 1) : "file").slice(0, 4).toUpperCase());
        icon.setAttribute("aria-hidden", "true");
        link.appendChild(icon);
        link.appendChild(el("span", "file-name", file.name));
        link.appendChild(el("span", "file-size", size(file.size)));
        li.appendChild(link);
      }
      ul.appendChild(li);
    });
    return ul;
  }

  function render(item) {
    var node;
    if (item.direction === "system") {
      node = el("li", "sys");
      node.appendChild(el("span", null, eventLine(item)));
      node.appendChild(document.createTextNode(" · "));
      node.appendChild(time(item.createdAt));
    } else {
      var mine = item.direction === "requester";
      node = el("li", "msg " + (mine ? "mine" : "theirs"));
      var bubble = el("div", "bubble");
      bubble.appendChild(el("p", "who", mine ? S["ticket.you"] : (item.author || S["ticket.agent"])));
      var files = item.deleted ? [] : (item.attachments || []);
      if (item.deleted) {
        bubble.appendChild(el("p", "text deleted", S["ticket.deleted"]));
      } else if (item.content || !files.length) {
        bubble.appendChild(richText(item));
      }
      if (files.length) { bubble.appendChild(fileList(files)); }
      if (!item.deleted && item.options && item.options.length) {
        var choices = el("ul", "options");
        item.options.forEach(function (title) { choices.appendChild(el("li", null, title)); });
        bubble.appendChild(choices);
      }
      if (window.tftAnswers) { window.tftAnswers.decorate(item, bubble); }
      var at = el("p", "at");
      at.appendChild(time(item.createdAt));
      bubble.appendChild(at);
      node.appendChild(bubble);
    }
    node.setAttribute("data-id", String(item.id));
    node.setAttribute("data-cursor", String(cursorOf(item)));
    node.setAttribute("data-sort", (item.sortKey || [0, 0, item.id]).join(","));
    return node;
  }

  function cursorOf(item) {
    return item.cursor || item.id;
  }

  // Chatwoot's posting order (second, message id, our id), whatever order items arrive in.
  function before(a, b) {
    for (var i = 0; i < a.length; i++) {
      if (a[i] !== b[i]) { return a[i] < b[i]; }
    }
    return false;
  }

  function sortOf(node) {
    return (node.getAttribute("data-sort") || "0,0," + node.getAttribute("data-id"))
      .split(",").map(Number);
  }

  // Place each item once, in posting order; a newer version (edit, delete) replaces the old in
  // place. The API answer and the socket may both bring an item.
  function add(item) {
    var cursor = cursorOf(item);
    if (cursor > lastId) { lastId = cursor; }
    if (seen.has(item.id)) {
      if (seen.get(item.id) >= cursor) { return; }
      seen.set(item.id, cursor);
      var old = list.querySelector('[data-id="' + item.id + '"]');
      if (old) { old.replaceWith(render(item)); }
      return;
    }
    seen.set(item.id, cursor);
    var node = render(item);
    var nearBottom = atBottom();
    var key = sortOf(node);
    var after = null;
    var children = list.children;
    for (var i = children.length - 1; i >= 0; i--) {
      if (before(sortOf(children[i]), key)) { after = children[i]; break; }
    }
    if (after) { after.after(node); } else { list.prepend(node); }
    if (item.direction === "system" && window.tftAnswers) { window.tftAnswers.applyEvent(item); }
    if (item.direction === "agent") { showTyping(null); watchSeen(node); }
    // The employee's own message or act (an answer, a rating, "resolved") brings the view down.
    var own = item.direction === "requester" || !!(item.data && item.data.actor);
    if (nearBottom || own) {
      toBottom();
      // A thumbnail gets its height when it loads: keep the newest message in view then too.
      node.querySelectorAll("img").forEach(function (img) {
        img.addEventListener("load", toBottom);
      });
    } else { pill.hidden = false; }
  }

  function showTyping(name) {
    if (typingTimer) { clearTimeout(typingTimer); typingTimer = null; }
    if (name === null || name === undefined) {
      typingLine.hidden = true;
      typingLine.textContent = "";
      return;
    }
    typingLine.textContent = t("ticket.typing", { name: name || S["ticket.agent"] });
    typingLine.hidden = false;
    typingTimer = setTimeout(function () { showTyping(null); }, TYPING_TTL);
  }

  // ---- read receipts: an agent message counts as seen once it is on a visible page ------
  var inView = new Set();
  var seenSent = 0;
  var seenTimer = null;
  var observer = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      var id = Number(entry.target.getAttribute("data-id"));
      if (entry.isIntersecting) { inView.add(id); } else { inView.delete(id); }
    });
    reportSeen();
  }, { root: list, threshold: 0.6 }) : null;

  function watchSeen(node) {
    if (observer) { observer.observe(node); }
  }

  function reportSeen() {
    if (document.visibilityState !== "visible" || !inView.size) { return; }
    var upTo = Math.max.apply(null, Array.from(inView));
    if (upTo <= seenSent) { return; }
    // Debounced: a scroll through many messages becomes one call.
    if (seenTimer) { clearTimeout(seenTimer); }
    seenTimer = setTimeout(function () {
      seenTimer = null;
      var sent = Math.max.apply(null, Array.from(inView).concat([0]));
      if (sent <= seenSent) { return; }
      seenSent = sent;
      post("seen", { upTo: sent }).catch(function () { seenSent = 0; });
    }, 1500);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { reportSeen(); } else { typingOff(); }
  });

  function post(what, body) {
    return fetch("/api/conversations/" + data.ticketId + "/" + what, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response;
    });
  }

  // ---- the employee's typing: on at the first key, refreshed while typing, off after a pause
  var typingOn = 0;
  var idleTimer = null;

  function typingKey() {
    var now = Date.now();
    if (!typingOn || now - typingOn > 8000) {
      typingOn = now;
      post("typing", { on: true }).catch(function () { typingOn = 0; });
    }
    if (idleTimer) { clearTimeout(idleTimer); }
    idleTimer = setTimeout(typingOff, 4000);
  }

  function typingOff() {
    if (idleTimer) { clearTimeout(idleTimer); idleTimer = null; }
    if (!typingOn) { return; }
    typingOn = 0;
    post("typing", { on: false }).catch(function () {});
  }

  function atBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  function toBottom() {
    list.scrollTop = list.scrollHeight;
    pill.hidden = true;
  }

  pill.addEventListener("click", function () {
    toBottom();
    list.focus();
  });
  list.addEventListener("scroll", function () {
    if (!pill.hidden && atBottom()) { pill.hidden = true; }
  });

  function showTicket(ticket) {
    var badge = document.querySelector("#ticket-status .badge");
    if (badge) {
      badge.className = "badge s-" + ticket.status;
      badge.setAttribute("data-status", ticket.status);
      badge.textContent = S["status." + ticket.status] || ticket.status;
    }
    var assignee = document.getElementById("ticket-assignee");
    if (assignee) { assignee.textContent = ticket.assignee || S["list.unassigned"] || ""; }
    showTyping(ticket.typing === undefined ? null : ticket.typing);
    document.getElementById("resolved-note").hidden = ticket.status !== "resolved";
    var resolve = document.getElementById("resolve-form");
    if (resolve) { resolve.hidden = ticket.status === "resolved"; }
  }
  window.tftShowTicket = showTicket;

  function setLive(state) {
    live.setAttribute("data-state", state);
    live.textContent = S["ticket.live." + state];
  }

  function connect() {
    if (stopped) { return; }
    setLive(attempt ? "offline" : "connecting");
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws");
    socket.onopen = function () {
      attempt = 0;
      setLive("online");
      socket.send(JSON.stringify({ type: "subscribe", ticketId: data.ticketId, after: lastId }));
    };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.type === "item") { add(frame.item); }
      else if (frame.type === "ticket") { showTicket(frame.ticket); }
      else if (frame.type === "error" && frame.error === "not_found") { stopped = true; }
    };
    socket.onclose = function (event) {
      socket = null;
      // 1008: this user opened too many live pages and this one is the oldest; reconnecting
      // would only push another page out.
      if (event.code === 1008) { stopped = true; }
      if (stopped) { setLive("offline"); return; }
      setLive("offline");
      // Back off 0.5 s, 1 s, 2 s ... up to 15 s, with jitter so many tabs do not stampede.
      var delay = Math.min(15000, 500 * Math.pow(2, attempt)) * (0.75 + Math.random() / 2);
      attempt += 1;
      setTimeout(connect, delay);
    };
  }

  // The composer (composer.js) sends messages, text and files, and adds the answer here.
  window.tftChat = { add: add, size: size };
  // Sending ends "typing" (composer.js sends; this only listens).
  form.addEventListener("submit", function () { typingOff(); });

  box.addEventListener("input", function () {
    if (box.value.trim()) { typingKey(); } else { typingOff(); }
  });

  box.addEventListener("keydown", function (event) {
    if (!touch && event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  list.querySelectorAll(".msg.theirs[data-id]").forEach(watchSeen);
  toBottom();
  connect();
})();
