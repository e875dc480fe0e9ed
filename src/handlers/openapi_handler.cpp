// GET /openapi.json (docs/openapi.json, embedded in the binary at build time:
// the container has no source tree) and GET /docs, a self-contained page that
// renders it. No external CDN: the service runs in private subnets.
#include "catalog/handlers/routes.hpp"

namespace catalog::handlers {
namespace {

constexpr const char* kDocsPage = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>catalog-api reference</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:70rem;padding:1rem 1.5rem;color:#1d2330}
h1{margin:.2rem 0}.desc{white-space:pre-wrap;color:#444}
details{border:1px solid #d5d9e0;border-radius:6px;margin:.4rem 0}
summary{cursor:pointer;padding:.45rem .7rem;font-family:ui-monospace,monospace}
.m{display:inline-block;min-width:4.2rem;font-weight:700;text-transform:uppercase}
.get{color:#0a6d3c}.post{color:#8a5a00}.put{color:#1f55a8}.patch{color:#6b3fa0}.delete{color:#b3261e}.head{color:#555}
.lock{color:#b3261e;font-size:.85em}.body{padding:.2rem 1rem .8rem}
table{border-collapse:collapse;margin:.3rem 0}td,th{border:1px solid #e1e4e8;padding:.2rem .5rem;text-align:left;vertical-align:top}
code,pre{font-family:ui-monospace,monospace;font-size:.9em}pre{background:#f5f6f8;padding:.5rem;overflow:auto}
</style>
</head>
<body>
<h1 id="title">catalog-api</h1>
<p>Rendered from <a href="/openapi.json">/openapi.json</a>.</p>
<div id="info" class="desc"></div>
<div id="ops">Loading /openapi.json&hellip;</div>
<script>
"use strict";
// Every value is inserted with textContent: the document is data, never HTML.
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
function resolve(doc, o) {
  while (o && o.$ref) o = o.$ref.split("/").slice(1).reduce((a, k) => a && a[k], doc);
  return o || {};
}
function schemaText(doc, s) {
  if (!s) return "";
  if (s.$ref) return s.$ref.split("/").pop();
  if (s.type === "array") return schemaText(doc, s.items) + "[]";
  let t = s.type || "object";
  if (s.enum) t += " (" + s.enum.join(" | ") + ")";
  if (s.nullable) t += " | null";
  return t;
}
function render(doc) {
  document.getElementById("title").textContent = doc.info.title + " " + doc.info.version;
  document.getElementById("info").textContent = doc.info.description || "";
  const ops = document.getElementById("ops");
  ops.textContent = "";
  const methods = ["get", "head", "post", "put", "patch", "delete"];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const m of methods) {
      const op = item[m];
      if (!op) continue;
      const d = el("details"), s = el("summary");
      s.append(el("span", "m " + m, m), el("span", "", path + "  "), el("span", "desc", op.summary || ""));
      const secured = (op.security || doc.security || []).length > 0;
      if (secured) s.append(el("span", "lock", "  [token]"));
      d.append(s);
      const b = el("div", "body");
      if (op.description) b.append(el("p", "desc", op.description));
      const params = (item.parameters || []).concat(op.parameters || []).map(p => resolve(doc, p));
      if (params.length) {
        const t = el("table");
        t.append(el("tr"));
        t.lastChild.append(el("th", "", "parameter"), el("th", "", "in"), el("th", "", "type"), el("th", "", "description"));
        for (const p of params) {
          const r = el("tr");
          const sc = p.schema || {};
          let type = schemaText(doc, sc);
          if (sc.default !== undefined) type += " = " + JSON.stringify(sc.default);
          r.append(el("td", "", p.name + (p.required ? " *" : "")), el("td", "", p.in), el("td", "", type),
                   el("td", "", p.description || ""));
          t.append(r);
        }
        b.append(t);
      }
      if (op.requestBody) {
        const c = op.requestBody.content || {};
        for (const [type, media] of Object.entries(c)) b.append(el("p", "", "Body " + type + ": " + schemaText(doc, media.schema)));
      }
      const t = el("table");
      t.append(el("tr"));
      t.lastChild.append(el("th", "", "status"), el("th", "", "description"), el("th", "", "body"));
      for (const [code, raw] of Object.entries(op.responses || {})) {
        const r = resolve(doc, raw), c = r.content || {};
        const bodies = Object.entries(c).map(([type, media]) => type + ": " + schemaText(doc, media.schema)).join(", ");
        const row = el("tr");
        row.append(el("td", "", code), el("td", "", r.description || ""), el("td", "", bodies));
        t.append(row);
      }
      b.append(t);
      d.append(b);
      ops.append(d);
    }
  }
  const h = el("h2", "", "Schemas");
  ops.append(h);
  for (const [name, sc] of Object.entries((doc.components || {}).schemas || {})) {
    const d = el("details");
    d.append(el("summary", "", name));
    d.append(el("pre", "", JSON.stringify(sc, null, 2)));
    ops.append(d);
  }
}
fetch("/openapi.json")
  .then(r => { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
  .then(render)
  .catch(e => { document.getElementById("ops").textContent = "Could not load /openapi.json: " + e.message; });
</script>
</body>
</html>
)html";

}  // namespace

void add_openapi_routes(http::Router& router) {
  router.add("GET", "/openapi.json", [](const http::Request&) {
    http::Response response;
    response.body = std::string(openapi_document());
    response.set_header("Content-Type", "application/json; charset=utf-8");
    return response;
  });
  router.add("GET", "/docs", [](const http::Request&) {
    http::Response response;
    response.body = kDocsPage;
    response.set_header("Content-Type", "text/html; charset=utf-8");
    // The page runs only its own inline script and talks only to this origin.
    response.set_header("Content-Security-Policy",
                        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'");
    return response;
  });
}

}  // namespace catalog::handlers
