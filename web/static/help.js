// Help before a ticket: while the employee types, suggest Help Center articles under the form.
// Suggestions never block the form: a slow or failing search just shows nothing.
(function () {
  "use strict";
  var panel = document.getElementById("help-suggestions");
  var form = document.getElementById("ticket-form");
  var list = document.getElementById("help-list");
  var done = document.getElementById("help-done");
  var title = document.getElementById("title");
  var description = document.getElementById("description");
  if (!panel || !form || !list || !title || !description) { return; }

  var MIN = 3;
  var MAX = 200;
  var WAIT_MS = 350;
  var formKey = panel.getAttribute("data-form") || "";
  var timer = null;
  var inflight = null;
  var lastQuery = "";
  var csrf = (document.querySelector("meta[name=csrf-token]") || {}).content || "";

  function queryText() {
    // The title says what the problem is; the description is searched only while it is short.
    var text = title.value.trim().length >= MIN ? title.value : description.value;
    return text.replace(/\s+/g, " ").trim().slice(0, MAX);
  }

  function clear() {
    list.replaceChildren();
    panel.hidden = true;
  }

  function isWebUrl(url) {
    return /^https?:\/\//i.test(url);
  }

  function item(article) {
    var li = document.createElement("li");
    li.className = "suggestion";
    var heading = document.createElement("h3");
    heading.className = "suggestion-title";
    heading.textContent = article.title;
    var snippet = document.createElement("p");
    snippet.className = "suggestion-snippet";
    snippet.textContent = article.snippet;
    var actions = document.createElement("div");
    actions.className = "suggestion-actions";
    var open = document.createElement("a");
    open.className = "button small";
    open.href = article.url;
    open.target = "_blank";
    open.rel = "noopener noreferrer";
    open.textContent = panel.getAttribute("data-open");
    open.setAttribute("aria-label", panel.getAttribute("data-open-label").replace("{title}", article.title));
    var solved = document.createElement("button");
    solved.type = "button";
    solved.className = "button small solved";
    solved.textContent = panel.getAttribute("data-solved");
    solved.addEventListener("click", function () { resolve(solved); });
    actions.append(open, solved);
    li.append(heading, snippet, actions);
    return li;
  }

  function show(articles) {
    var items = articles.filter(function (a) { return a && a.title && isWebUrl(a.url); }).slice(0, 3);
    if (!items.length) { clear(); return; }
    list.replaceChildren.apply(list, items.map(item));
    panel.hidden = false;
  }

  function search() {
    timer = null;
    var query = queryText();
    if (query.length < MIN) { lastQuery = ""; clear(); return; }
    if (query === lastQuery) { return; }
    lastQuery = query;
    var controller = new AbortController();
    inflight = controller;
    var url = "/api/help/articles?query=" + encodeURIComponent(query) +
      "&form=" + encodeURIComponent(formKey);
    fetch(url, { credentials: "same-origin", signal: controller.signal, headers: { Accept: "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : { articles: [] }; })
      .then(function (body) {
        if (inflight === controller) { show(Array.isArray(body.articles) ? body.articles : []); }
      })
      .catch(function () { /* aborted by further typing, or offline: no suggestions */ });
  }

  function typed() {
    // Typing goes on: the pending search and any answer still on its way are dropped.
    if (timer) { clearTimeout(timer); }
    if (inflight) { inflight.abort(); inflight = null; }
    if (queryText().length < MIN) { lastQuery = ""; clear(); return; }
    timer = setTimeout(search, WAIT_MS);
  }

  function resolve(button) {
    button.disabled = true;
    var finish = function () {
      if (timer) { clearTimeout(timer); }
      if (inflight) { inflight.abort(); }
      form.hidden = true;
      if (done) {
        done.hidden = false;
        done.focus();
      }
    };
    fetch("/api/help/resolved", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ form: formKey })
    }).then(finish, finish);
  }

  if (done) { done.setAttribute("tabindex", "-1"); }
  title.addEventListener("input", typed);
  description.addEventListener("input", typed);
  // A form shown again (errors, helpdesk down) already holds text: suggest for it at once.
  if (queryText().length >= MIN) { search(); }
})();
