#!/usr/bin/env node
// Parses what tests/deploy/check_deploy.py asserts on, with the real parsers:
//   - every deploy/*.tf with HashiCorp's HCL parser (@cdktf/hcl2json, the Go
//     parser compiled to WASM) into Terraform's JSON form,
//   - every reference (var.x, local.x, aws_*.x, data.x.y, module.x, ...) in
//     every expression, with the same library's expression parser,
//   - every .github/workflows/*.yml with the `yaml` package.
// Prints one JSON document on stdout. A file that does not parse is an error
// (exit 1) naming the file and the parser's message.
"use strict";
const fs = require("fs");
const path = require("path");
const { parse, getReferencesInExpression } = require("@cdktf/hcl2json");
const YAML = require("yaml");

async function collectRefs(file, node, where, out) {
  if (typeof node === "string") {
    if (!node.includes("${")) return;
    let refs;
    try {
      refs = await getReferencesInExpression(file, node);
    } catch (e) {
      throw new Error(`${file}: ${where.join(".")}: expression does not parse: ${e.message}`);
    }
    for (const r of refs) out.push({ file, path: where, ref: r.value, expr: node });
    return;
  }
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) await collectRefs(file, node[i], where.concat(String(i)), out);
    return;
  }
  if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) await collectRefs(file, v, where.concat(k), out);
  }
}

async function main() {
  const root = path.resolve(process.argv[2] || ".");
  const result = { tf: {}, refs: [], workflows: {} };
  const deployDir = path.join(root, "deploy");
  const tfFiles = fs.readdirSync(deployDir).filter((f) => f.endsWith(".tf")).sort();
  if (tfFiles.length === 0) throw new Error("no .tf files in deploy/");
  for (const f of tfFiles) {
    const text = fs.readFileSync(path.join(deployDir, f), "utf8");
    let json;
    try {
      json = await parse(f, text);
    } catch (e) {
      throw new Error(`deploy/${f} does not parse as HCL: ${e.message || e}`);
    }
    result.tf[f] = json;
    await collectRefs(f, json, [], result.refs);
  }
  const wfDir = path.join(root, ".github", "workflows");
  const wfFiles = fs.existsSync(wfDir) ? fs.readdirSync(wfDir).filter((f) => /\.ya?ml$/.test(f)).sort() : [];
  for (const f of wfFiles) {
    const text = fs.readFileSync(path.join(wfDir, f), "utf8");
    const doc = YAML.parseDocument(text, { uniqueKeys: true });
    if (doc.errors.length > 0) throw new Error(`.github/workflows/${f} is not valid YAML: ${doc.errors[0].message}`);
    result.workflows[f] = doc.toJS();
  }
  process.stdout.write(JSON.stringify(result));
}

main().catch((e) => {
  console.error(`FAIL parse: ${e.message || e}`);
  process.exit(1);
});
