// Composer: text and files sent as one message (button, drag-and-drop, pasted screenshot),
// a preview with remove buttons, upload progress, limits checked before sending, and a retry
// that can never post the same message twice (one Idempotency-Key per composed message).
(function () {
  "use strict";
  var chat = window.tftChat;
  var data = JSON.parse(document.getElementById("chat-data").textContent);
  var S = data.strings;
  var limits = data.uploads;
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var form = document.getElementById("composer");
  var box = document.getElementById("content");
  var tools = document.getElementById("composer-files");
  var input = document.getElementById("attachments");
  var pick = document.getElementById("attach-button");
  var chosen = document.getElementById("composer-chosen");
  var progress = document.getElementById("composer-progress");
  var errorLine = document.getElementById("composer-error");
  var button = form.querySelector("button[type=submit]");
  var files = [];
  var key = newKey();
  var sending = false;

  var list = document.getElementById("timeline");

  // The composer grows (the files row, chips): keep the newest message in view if it was.
  function grow(change) {
    var stick = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    change();
    if (stick) { list.scrollTop = list.scrollHeight; }
  }

  // Scripts on: the attach button joins the composer's row; the files row shows when needed.
  grow(function () {
    form.classList.add("with-files");
    pick.hidden = false;
  });

  function showRow() {
    tools.hidden = !files.length && progress.hidden && !form.classList.contains("dragging");
  }
  box.removeAttribute("required");

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return String(Date.now()) + "-" + String(Math.random()).slice(2);
  }

  function t(name, values) {
    var text = S[name] || name;
    Object.keys(values || {}).forEach(function (field) {
      text = text.split("{" + field + "}").join(values[field]);
    });
    return text;
  }

  function say(text, retry) {
    errorLine.textContent = text;
    if (retry) {
      var again = document.createElement("button");
      again.type = "button";
      again.className = "link-button";
      again.id = "composer-retry";
      again.textContent = S["ticket.upload.retry"];
      again.addEventListener("click", function () { form.requestSubmit(); });
      errorLine.appendChild(document.createTextNode(" "));
      errorLine.appendChild(again);
    }
    errorLine.hidden = false;
  }

  function quiet() {
    errorLine.hidden = true;
    errorLine.textContent = "";
  }

  function allowed(file) {
    var kind = (file.type || "").toLowerCase();
    if (!kind) { return true; } // the server decides by the extension
    return limits.types.some(function (pattern) {
      pattern = pattern.toLowerCase();
      if (pattern.slice(-1) === "*") { return kind.indexOf(pattern.slice(0, -1)) === 0; }
      return kind === pattern;
    });
  }

  // Returns the refusal for a file, or "" when it may be added.
  function refusal(file) {
    if (files.length >= limits.maxFiles) { return t("ticket.upload.too_many", { limit: limits.maxFiles }); }
    if (file.size > limits.maxBytes) {
      return t("ticket.upload.too_large", { name: file.name, limit: chat.size(limits.maxBytes) });
    }
    if (!allowed(file)) { return t("ticket.upload.type_refused", { name: file.name }); }
    return "";
  }

  function addFiles(list) {
    quiet();
    Array.prototype.forEach.call(list, function (file) {
      var why = refusal(file);
      if (why) { say(why); return; }
      files.push(file);
    });
    key = newKey(); // a different message now: a retry of the old one must not match it
    grow(show);
  }

  function show() {
    chosen.textContent = "";
    chosen.hidden = files.length === 0;
    showRow();
    files.forEach(function (file, index) {
      var li = document.createElement("li");
      li.className = "chip";
      if ((file.type || "").indexOf("image/") === 0 && file.size < 8 * 1024 * 1024) {
        // data: URLs, not blob: ones: the page's CSP allows img-src 'self' data: only.
        var img = document.createElement("img");
        img.alt = "";
        var reader = new FileReader();
        reader.onload = function () { img.src = String(reader.result); };
        reader.readAsDataURL(file);
        li.appendChild(img);
      }
      var name = document.createElement("span");
      name.className = "chip-name";
      name.textContent = file.name;
      li.appendChild(name);
      var size = document.createElement("span");
      size.className = "chip-size";
      size.textContent = chat.size(file.size);
      li.appendChild(size);
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "chip-remove";
      remove.setAttribute("aria-label", t("ticket.upload.remove", { name: file.name }));
      remove.textContent = "\u00d7";
      remove.addEventListener("click", function () {
        files.splice(index, 1);
        key = newKey();
        show();
        box.focus();
      });
      li.appendChild(remove);
      chosen.appendChild(li);
    });
  }

  pick.addEventListener("click", function () { input.click(); });
  input.addEventListener("change", function () {
    addFiles(input.files);
    input.value = "";
  });

  // A pasted screenshot arrives as a file named "image.png": give it a useful name.
  box.addEventListener("paste", function (event) {
    var items = (event.clipboardData && event.clipboardData.files) || [];
    if (!items.length) { return; }
    event.preventDefault();
    var stamp = new Date().toISOString().slice(0, 19).replace(/[-:T]/g, "");
    addFiles(Array.prototype.map.call(items, function (file, index) {
      var extension = (file.type.split("/")[1] || "png").replace("jpeg", "jpg");
      var name = t("ticket.upload.pasted") + "-" + stamp + (index ? "-" + index : "") + "." + extension;
      return new File([file], name, { type: file.type });
    }));
  });

  ["dragenter", "dragover"].forEach(function (kind) {
    form.addEventListener(kind, function (event) {
      if (!event.dataTransfer || Array.prototype.indexOf.call(event.dataTransfer.types, "Files") < 0) { return; }
      event.preventDefault();
      form.classList.add("dragging");
      showRow();
    });
  });
  form.addEventListener("dragleave", function (event) {
    if (!form.contains(event.relatedTarget)) {
      form.classList.remove("dragging");
      showRow();
    }
  });
  form.addEventListener("drop", function (event) {
    form.classList.remove("dragging");
    showRow();
    if (!event.dataTransfer || !event.dataTransfer.files.length) { return; }
    event.preventDefault();
    addFiles(event.dataTransfer.files);
  });

  function answered(xhr) {
    var body = {};
    try { body = JSON.parse(xhr.responseText || "{}"); } catch (e) { body = {}; }
    if (xhr.status === 201) {
      box.value = "";
      files = [];
      key = newKey();
      show();
      chat.add(body);
      return;
    }
    if (body.error === "attachment_refused") {
      var limit = body.reason === "too_large" ? chat.size(body.limit) : body.limit;
      say(t("ticket.upload." + body.reason, { name: body.name || "", limit: limit }));
    } else if (body.error === "validation") {
      say(S["err.content." + ((body.fields && body.fields.content) || "required")] || S["err.content.required"]);
    } else if (xhr.status === 404 || xhr.status === 401) {
      say(S["ticket.composer.failed"]);
    } else {
      say(S["ticket.upload.failed"], true);
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (sending) { return; }
    var content = box.value.trim();
    if (!content && !files.length) {
      say(S["err.content.required"]);
      box.focus();
      return;
    }
    var body = new FormData();
    body.append("content", content);
    files.forEach(function (file) { body.append(limits.field, file, file.name); });
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/conversations/" + data.ticketId + "/messages");
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    xhr.setRequestHeader("Idempotency-Key", key);
    xhr.upload.onprogress = function (e) {
      if (!e.lengthComputable || !files.length) { return; }
      var percent = Math.round((e.loaded / e.total) * 100);
      progress.hidden = false;
      showRow();
      progress.value = percent;
      progress.textContent = t("ticket.upload.progress", { percent: percent });
      progress.setAttribute("aria-valuetext", progress.textContent);
    };
    xhr.onload = function () { answered(xhr); };
    xhr.onerror = function () { say(S["ticket.upload.failed"], true); };
    xhr.onloadend = function () {
      sending = false;
      button.disabled = false;
      progress.hidden = true;
      showRow();
      box.focus();
    };
    sending = true;
    button.disabled = true;
    quiet();
    xhr.send(body);
  });
})();
