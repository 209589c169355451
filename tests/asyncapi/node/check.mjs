// Checks an AsyncAPI document the way the tests need, and prints the findings as one JSON object.
//
//   node check.mjs DOC.json [DOC.yaml]
//
// schemaErrors: errors from validating DOC.json against the official AsyncAPI 3.0.0 JSON Schema
//   (@asyncapi/specs) with ajv; diagnostics: what the official parser (@asyncapi/parser) reports
//   (severity 0 = error, 1 = warning, 2 = information, 3 = hint); operations/channels: the ids the
//   parser saw; yaml (when DOC.yaml is given): whether the YAML loads to the same data as DOC.json
//   and what the parser reports for the YAML text.
import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";

import { Parser } from "@asyncapi/parser";
import specs from "@asyncapi/specs";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { load as loadYaml } from "js-yaml";

const [jsonFile, yamlFile] = process.argv.slice(2);
if (!jsonFile) {
  console.error("usage: node check.mjs DOC.json [DOC.yaml]");
  process.exit(2);
}

const text = readFileSync(jsonFile, "utf8");
const doc = JSON.parse(text);

// the spec bundles the draft-07 meta-schema in its definitions: let it supply its own copy
const ajv = new Ajv({ allErrors: true, strict: false, meta: false, validateSchema: false });
addFormats(ajv);
const validate = ajv.compile(specs.schemas["3.0.0"]);
const schemaErrors = validate(doc) ? [] : validate.errors;

const parser = new Parser();

async function parse(source) {
  const { document, diagnostics } = await parser.parse(source);
  return {
    parsed: document !== undefined,
    diagnostics: diagnostics.map((d) => ({
      code: d.code,
      message: d.message,
      path: d.path.join("/"),
      severity: d.severity,
    })),
    operations: document ? document.operations().all().map((op) => op.id()).sort() : [],
    channels: document ? document.channels().all().map((ch) => ch.id()).sort() : [],
  };
}

const result = { schemaErrors, ...(await parse(text)) };
if (yamlFile) {
  const yamlText = readFileSync(yamlFile, "utf8");
  const loaded = loadYaml(yamlText);
  const parsed = await parse(yamlText);
  result.yaml = {
    sameAsJson: isDeepStrictEqual(loaded, doc),
    parsed: parsed.parsed,
    diagnostics: parsed.diagnostics,
  };
}
process.stdout.write(JSON.stringify(result) + "\n");
