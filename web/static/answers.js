// Answers inside the timeline: the satisfaction survey, bot questions, "resolved, thanks".
// chat.js calls window.tftAnswers for each message it renders and each event it receives.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("chat-data").textContent);
  var S = data.strings;
  var csrf = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  var base = "/api/conversations/" + data.ticketId;
  var uid = 0;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function t(key, values) {
    var text = S[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    return text;
  }

  function post(path, body) {
    return fetch(base + path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        return { status: response.status, body: json };
      });
    });
  }

  function errorLine() {
    var p = el("p", "field-error");
    p.setAttribute("role", "alert");
    p.hidden = true;
    return p;
  }

  function say(line, text) {
    line.textContent = text;
    line.hidden = !text;
  }

  // ---- the survey ------------------------------------------------------------------------

  function surveyDone(box, survey) {
    if (box._item) { box._item.survey = survey; }
    var done = el("div", "survey-done");
    done.appendChild(el("p", "answer", t("ticket.survey.thanks", { rating: survey.rating })));
    if (survey.feedback) { done.appendChild(el("p", "feedback", "“" + survey.feedback + "”")); }
    if (survey.closed) {
      done.appendChild(el("p", "closed", S["ticket.survey.closed"]));
    } else {
      var change = el("button", "button link", S["ticket.survey.change"]);
      change.type = "button";
      change.addEventListener("click", function () { surveyForm(box, survey, true); });
      done.appendChild(change);
    }
    box.replaceChildren(done);
  }

  function surveyForm(box, survey, focus) {
    var form = el("form", "survey-form");
    var group = el("fieldset", "stars");
    group.appendChild(el("legend", null, S["ticket.survey.prompt"]));
    var name = "rating-" + (uid += 1);
    for (var n = 1; n <= 5; n++) {
      var label = el("label", "star");
      var radio = el("input");
      radio.type = "radio";
      radio.name = name;
      radio.value = String(n);
      radio.checked = survey.rating === n;
      label.appendChild(radio);
      label.appendChild(el("span", "score", String(n)));
      label.appendChild(el("span", "word", S["ticket.survey." + n]));
      label.title = t("ticket.survey.score", { rating: n });
      group.appendChild(label);
    }
    form.appendChild(group);
    var fid = "feedback-" + uid;
    var flabel = el("label", "feedback-label", S["ticket.survey.feedback"]);
    flabel.setAttribute("for", fid);
    var feedback = el("textarea");
    feedback.id = fid;
    feedback.name = "feedback";
    feedback.rows = 2;
    feedback.maxLength = 2000;
    feedback.value = survey.feedback || "";
    form.appendChild(flabel);
    form.appendChild(feedback);
    var send = el("button", "button primary", S["ticket.survey.send"]);
    send.type = "submit";
    form.appendChild(send);
    var problem = errorLine();
    form.appendChild(problem);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var chosen = form.querySelector("input[type=radio]:checked");
      if (!chosen) { say(problem, S["ticket.survey.pick"]); return; }
      send.disabled = true;
      say(problem, "");
      post("/csat", { rating: Number(chosen.value), feedback: feedback.value })
        .then(function (answer) {
          if (answer.status === 200 || answer.status === 201) {
            surveyDone(box, answer.body.survey);
          } else if (answer.body.error === "survey_closed") {
            survey.closed = true;
            render(box, survey);
          } else {
            say(problem, S["ticket.survey.failed"]);
          }
        })
        .catch(function () { say(problem, S["ticket.survey.failed"]); })
        .finally(function () { send.disabled = false; });
    });
    box.replaceChildren(form);
    if (focus) { group.querySelector("input").focus(); }
  }

  function render(box, survey) {
    if (survey.rating) { surveyDone(box, survey); return; }
    if (survey.closed) { box.replaceChildren(el("p", "closed", S["ticket.survey.closed"])); return; }
    surveyForm(box, survey, false);
  }

  // ---- bot questions ---------------------------------------------------------------------

  function answered(box, question, text) {
    box.classList.add("answered");
    box.querySelectorAll("button, input, select, textarea").forEach(function (node) {
      node.disabled = true;
    });
    var rows = question.answer || [];
    box.querySelectorAll("[data-value]").forEach(function (node) {
      var value = node.getAttribute("data-value");
      var title = node.getAttribute("data-title");
      var picked = rows.some(function (row) { return row.value === value || row.title === title; }) ||
        (!rows.length && text === title);
      node.classList.toggle("chosen", picked);
      node.setAttribute("aria-pressed", picked ? "true" : "false");
    });
    var line = box.querySelector(".answer") || el("p", "answer");
    line.textContent = t("ticket.question.answer", { answer: text });
    box.appendChild(line);
  }

  function submit(box, item, values, problem) {
    var controls = box.querySelectorAll("button, input, select, textarea");
    controls.forEach(function (node) { node.disabled = true; });
    say(problem, "");
    post("/messages/" + item.id + "/submit", { values: values })
      .then(function (answer) {
        if (answer.status === 200) {
          item.question = answer.body.question;
          answered(box, item.question, item.question.answerText);
          return;
        }
        if (answer.body.error === "already_answered") {
          say(problem, S["ticket.question.already"]);
          answered(box, item.question, "");
          return;
        }
        controls.forEach(function (node) { node.disabled = false; });
        say(problem, S[answer.status === 422 ? "ticket.question.invalid" : "ticket.question.failed"]);
      })
      .catch(function () {
        controls.forEach(function (node) { node.disabled = false; });
        say(problem, S["ticket.question.failed"]);
      });
  }

  function choiceButton(choice, onPick) {
    var button = el("button", "button choice", choice.title);
    button.type = "button";
    button.setAttribute("data-value", choice.value);
    button.setAttribute("data-title", choice.title);
    button.setAttribute("aria-pressed", "false");
    button.addEventListener("click", function () { onPick(choice.value); });
    return button;
  }

  function field(spec, values) {
    var wrap = el("div", "qfield");
    var id = "q-" + (uid += 1);
    var label = el("label", null, spec.label + (spec.required ? " *" : ""));
    label.setAttribute("for", id);
    var input;
    if (spec.type === "select") {
      input = el("select");
      var empty = el("option", null, S["ticket.question.choose"]);
      empty.value = "";
      input.appendChild(empty);
      spec.options.forEach(function (option) {
        var node = el("option", null, option.title);
        node.value = option.value;
        input.appendChild(node);
      });
    } else if (spec.type === "text_area") {
      input = el("textarea");
      input.rows = 2;
    } else {
      input = el("input");
      input.type = spec.type === "email" ? "email" : "text";
    }
    input.id = id;
    input.name = spec.name;
    input.required = !!spec.required;
    if (spec.placeholder && input.tagName !== "SELECT") { input.placeholder = spec.placeholder; }
    var given = (values || []).filter(function (row) { return row.name === spec.name; })[0];
    input.value = given ? given.value : (spec.default || "");
    wrap.appendChild(label);
    wrap.appendChild(input);
    return wrap;
  }

  function questionBox(box, item) {
    var question = item.question;
    var problem = errorLine();
    var pick = function (value) { submit(box, item, [value], problem); };
    if (question.kind === "input_select") {
      var row = el("div", "choices");
      question.choices.forEach(function (choice) { row.appendChild(choiceButton(choice, pick)); });
      box.appendChild(row);
    } else if (question.kind === "cards") {
      question.cards.forEach(function (card) {
        var node = el("div", "qcard");
        if (card.image) {
          var img = el("img");
          img.src = card.image;
          img.alt = card.title;
          img.loading = "lazy";
          img.referrerPolicy = "no-referrer";
          node.appendChild(img);
        }
        if (card.title) { node.appendChild(el("p", "qcard-title", card.title)); }
        if (card.description) { node.appendChild(el("p", "qcard-text", card.description)); }
        var actions = el("div", "choices");
        card.links.forEach(function (link) {
          var a = el("a", "button", link.title);
          a.href = link.url;
          a.target = "_blank";
          a.rel = "noopener noreferrer nofollow";
          actions.appendChild(a);
        });
        card.answers.forEach(function (choice) { actions.appendChild(choiceButton(choice, pick)); });
        node.appendChild(actions);
        box.appendChild(node);
      });
    } else {
      var form = el("form", "qform");
      var specs = question.kind === "form" ? question.fields :
        [{ name: "email", label: S["ticket.question.email"], type: "email", required: true, options: [] }];
      specs.forEach(function (spec) { form.appendChild(field(spec, question.answer)); });
      var send = el("button", "button primary", S["ticket.question.send"]);
      send.type = "submit";
      form.appendChild(send);
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var values = specs.map(function (spec) {
          return { name: spec.name, value: form.elements[spec.name].value };
        }).filter(function (row) { return row.value !== ""; });
        if (question.kind === "input_email") { values = values.map(function (row) { return row.value; }); }
        submit(box, item, values, problem);
      });
      box.appendChild(form);
    }
    box.appendChild(problem);
    if (question.answered) { answered(box, question, question.answerText); }
  }

  // ---- what chat.js calls ----------------------------------------------------------------

  // Give a rendered message bubble its control (survey form or question buttons).
  function decorate(item, bubble) {
    if (!item || item.deleted || (!item.survey && !item.question)) { return; }
    var old = bubble.querySelector(".options");
    if (old) { old.remove(); }
    var box = el("div", "answer-box");
    box.setAttribute("data-message", String(item.id));
    box._item = item;
    if (item.survey) {
      // Chatwoot's text differs by channel (the webhook copy has a link): show our own prompt.
      var text = bubble.querySelector(".text");
      if (text) { text.remove(); }
      box.classList.add("survey");
      render(box, item.survey);
    } else {
      box.classList.add("question");
      questionBox(box, item);
    }
    var at = bubble.querySelector(".at");
    bubble.insertBefore(box, at);
  }

  // A rating or answer given elsewhere (another tab, Teams): show it in place.
  function applyEvent(item) {
    var id = item.data && item.data.messageId;
    if (!id || (item.kind !== "rated" && item.kind !== "answered")) { return; }
    var box = document.querySelector('.answer-box[data-message="' + Number(id) + '"]');
    if (!box || !box._item) { return; }
    if (item.kind === "rated" && box._item.survey) {
      box._item.survey.rating = item.data.rating;
      if (!box.querySelector("form")) { surveyDone(box, box._item.survey); }
    } else if (item.kind === "answered" && box._item.question && !box.classList.contains("answered")) {
      answered(box, box._item.question, item.data.answer || "");
    }
  }

  function eventLine(item) {
    var d = item.data || {};
    if (d.actor && S["event." + item.kind + ".by"]) {
      return t("event." + item.kind + ".by", { actor: d.actor });
    }
    if (item.kind === "rated" || item.kind === "answered") {
      return t("event." + item.kind, { actor: d.actor || "", rating: d.rating || "", answer: d.answer || "" });
    }
    return null;
  }

  // "Problema resolvido": resolve through the API and stay on the page.
  var resolve = document.getElementById("resolve-form");
  if (resolve) {
    var resolveError = document.getElementById("resolve-error");
    resolve.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = resolve.querySelector("button");
      button.disabled = true;
      say(resolveError, "");
      post("/resolve").then(function (answer) {
        if (answer.status !== 200) { throw new Error(String(answer.status)); }
        if (window.tftShowTicket) { window.tftShowTicket(answer.body); }
      }).catch(function () {
        say(resolveError, S["ticket.resolve.failed"]);
      }).finally(function () { button.disabled = false; });
    });
  }

  window.tftAnswers = { decorate: decorate, applyEvent: applyEvent, eventLine: eventLine };

  // Messages the server rendered: their controls come with the page data.
  (data.controls || []).forEach(function (item) {
    var node = document.querySelector('#timeline [data-id="' + item.id + '"] .bubble');
    if (node) { decorate(item, node); }
  });
})();
