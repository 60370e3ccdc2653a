// Validate Teams manifest / localization JSON files with Microsoft's @microsoft/app-manifest,
// strictly offline: every file's $schema must be one the package bundles.
//
//   NODE_PATH=tests/js/node_modules node tests/manifest/validate.js FILE.json [FILE.json ...]
//
// Prints "<file>: valid" or one line per schema error; exit 0 all valid, 1 errors, 2 unusable
// (no file given, a $schema that is not bundled, or a schema ajv cannot compile).
"use strict";

const fs = require("fs");

// @microsoft/app-manifest 1.1.2 requires fs-extra without declaring it; tests/js/package.json
// pins fs-extra beside it for that reason.
const { AppManifestUtils } = require("@microsoft/app-manifest");

function bundledSchema(schemaUrl) {
  // validateAgainstSchema downloads any $schema it does not bundle; refuse those up front so a
  // test can never pass (or hang) because of the network.
  const suffix = AppManifestUtils.getLocalSchemaSuffix(schemaUrl);
  if (!suffix) return undefined;
  return AppManifestUtils.getLocalSchemaCandidates(suffix).find((file) => fs.existsSync(file));
}

async function validate(file) {
  const document = JSON.parse(fs.readFileSync(file, "utf8").replace(/^\uFEFF/, ""));
  if (typeof document.$schema !== "string" || !bundledSchema(document.$schema)) {
    console.log(`${file}: $schema ${JSON.stringify(document.$schema)} is not bundled offline`);
    return 2;
  }
  let errors;
  try {
    errors = await AppManifestUtils.validateAgainstSchema(document);
  } catch (error) {
    // e.g. the bundled v1.30 Localization schema: ajv (unicode regexps) rejects its pattern
    // `activityTypes\[\b(...)\b]`, so localization files are checked by the Python tests instead.
    console.log(`${file}: schema unusable: ${String(error.message || error).split("\n")[0]}`);
    return 2;
  }
  if (errors.length === 0) {
    console.log(`${file}: valid`);
    return 0;
  }
  for (const error of errors) console.log(`${file}: ${error}`);
  console.log(`${file}: ${errors.length} schema error(s)`);
  return 1;
}

async function main(files) {
  if (files.length === 0) {
    console.error("usage: node validate.js FILE.json [FILE.json ...]");
    return 2;
  }
  let worst = 0;
  for (const file of files) worst = Math.max(worst, await validate(file));
  return worst;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error && error.stack ? error.stack : String(error));
    process.exit(2);
  },
);
