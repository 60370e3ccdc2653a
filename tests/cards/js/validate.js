// Parse and validate Adaptive Cards with the real renderer library, in plain Node (no DOM).
// Usage: NODE_PATH=tests/js/node_modules node validate.js cards.json
// cards.json is {"name": card, ...}; prints {"name": [events...], ...} as JSON on stdout.
"use strict";
const fs = require("fs");
const AC = require("adaptivecards/dist/adaptivecards.js");

function check(json) {
  const card = new AC.AdaptiveCard();
  const context = new AC.SerializationContext();
  card.parse(json, context);
  const events = [];
  for (let i = 0; i < context.eventCount; i++) {
    const e = context.getEventAt(i);
    events.push({ phase: "parse", event: AC.ValidationEvent[e.event], message: e.message });
  }
  for (const e of card.validateProperties().validationEvents) {
    events.push({ phase: "validate", event: AC.ValidationEvent[e.event], message: e.message });
  }
  return events;
}

const cards = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const out = {};
for (const [name, json] of Object.entries(cards)) {
  out[name] = check(json);
}
process.stdout.write(JSON.stringify(out));
