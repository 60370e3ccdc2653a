// Stand-in for the few fs-extra calls @microsoft/app-manifest 1.1.2 makes. That package requires
// fs-extra at run time but declares only @types/fs-extra, so a clean `npm ci` leaves it out.
// validate.js puts this directory last on the module path: a real fs-extra, if installed, wins.
"use strict";

const fs = require("fs");

async function pathExists(file) {
  try {
    await fs.promises.access(file);
    return true;
  } catch {
    return false;
  }
}

async function writeJson(file, value, options = {}) {
  await fs.promises.writeFile(file, JSON.stringify(value, null, options.spaces) + "\n", "utf8");
}

module.exports = {
  pathExists,
  readFile: fs.promises.readFile,
  readFileSync: fs.readFileSync,
  writeFile: fs.promises.writeFile,
  writeJson,
};
