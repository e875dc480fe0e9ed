// Drives /docs in headless Chromium the way a person would: "Try it out" on a
// protected operation is refused (401) until the token is entered in the
// Authorize box, then answers 200 from this same server.
// Usage: node try_it_out.js CHROMIUM BASE_URL TOKEN PROFILE_DIR
// Talks the DevTools protocol over --remote-debugging-pipe (fds 3 and 4, NUL-
// separated JSON), so it needs nothing but node. Prints a JSON report; exits 1
// on failure. Bounded by a 90 s watchdog.
"use strict";
const { spawn } = require("child_process");

const [chromium, base, token, profile] = process.argv.slice(2);
if (!profile) {
  console.error("usage: node try_it_out.js CHROMIUM BASE_URL TOKEN PROFILE_DIR");
  process.exit(2);
}

const browser = spawn(chromium, [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
  "--disable-default-apps", "--no-default-browser-check", `--user-data-dir=${profile}`,
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--window-size=1280,1600",
  "--remote-debugging-pipe", "about:blank",
], { stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] });

const watchdog = setTimeout(() => finish(false, "timed out after 90 s"), 90000);
let finished = false;
function finish(ok, message, details) {
  if (finished) return;
  finished = true;
  clearTimeout(watchdog);
  console.log(JSON.stringify({ ok, message, ...details }, null, 2));
  // Wait for the browser to go, so the caller can remove its profile.
  const exit = () => process.exit(ok ? 0 : 1);
  if (browser.exitCode !== null || browser.signalCode !== null) return exit();
  browser.on("exit", exit);
  setTimeout(exit, 5000).unref();
  try { browser.kill("SIGKILL"); } catch (e) { exit(); }
}
browser.on("error", (e) => finish(false, `cannot start ${chromium}: ${e.message}`));

// --- the protocol: requests by id, events to listeners ---------------------
let nextId = 1, buffered = "";
const pending = new Map(), listeners = [];
browser.stdio[4].on("data", (chunk) => {
  buffered += chunk.toString("utf8");
  let end;
  while ((end = buffered.indexOf("\0")) >= 0) {
    const message = JSON.parse(buffered.slice(0, end));
    buffered = buffered.slice(end + 1);
    if (message.id && pending.has(message.id)) {
      const { resolve, reject } = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) reject(new Error(JSON.stringify(message.error)));
      else resolve(message.result);
    } else if (message.method) {
      for (const listener of listeners) listener(message);
    }
  }
});
function send(method, params = {}, sessionId) {
  const id = nextId++;
  browser.stdio[3].write(JSON.stringify({ id, method, params, ...(sessionId && { sessionId }) }) + "\0");
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}
function once(method) {
  return new Promise((resolve) => listeners.push((m) => { if (m.method === method) resolve(m.params); }));
}

// --- in the page: what a person clicks --------------------------------------
// Runs inside /docs. Every step waits for Swagger UI to render its result.
async function inPage(token) {
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  async function waitFor(what, find, limit = 15000) {
    for (let waited = 0; waited < limit; waited += 50) {
      const found = find();
      if (found) return found;
      await sleep(50);
    }
    throw new Error(`not found within ${limit} ms: ${what}`);
  }
  function type(input, value) {  // React listens for input events, not value writes
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(input, value);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }
  const operation = await waitFor("GET /jobs", () => document.getElementById("operations-jobs-listJobs"));
  operation.querySelector("button.opblock-summary-control").click();
  (await waitFor("Try it out", () => operation.querySelector("button.try-out__btn"))).click();
  async function execute() {
    const old = operation.querySelector(".live-responses-table");
    if (old) operation.querySelector("button.btn-clear")?.click();
    await waitFor("cleared", () => !operation.querySelector(".live-responses-table"));
    (await waitFor("Execute", () => operation.querySelector("button.execute"))).click();
    const status = await waitFor("response status", () =>
      operation.querySelector(".live-responses-table .response .response-col_status"));
    const url = operation.querySelector(".request-url pre")?.textContent.trim();
    const curl = operation.querySelector(".curl-command")?.textContent || "";
    return { status: parseInt(status.textContent, 10), url, sent_token: curl.includes(token) };
  }
  const before = await execute();

  document.querySelector("button.btn.authorize").click();
  const dialog = await waitFor("Authorize dialog", () => document.querySelector(".dialog-ux .modal-ux"));
  const bearer = await waitFor("bearerAuth box", () =>
    [...dialog.querySelectorAll(".auth-container")].find((c) => c.textContent.includes("bearerAuth")));
  type(bearer.querySelector("input"), token);
  bearer.querySelector("button.authorize, button[type=submit]").click();
  await waitFor("authorized", () => bearer.querySelector("button.logout") ||
    [...bearer.querySelectorAll("button")].some((b) => b.textContent.trim() === "Logout"));
  dialog.querySelector("button.close-modal").click();
  await waitFor("dialog closed", () => !document.querySelector(".dialog-ux .modal-ux"));

  const after = await execute();
  return { before, after };
}

(async () => {
  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
  const problems = [];
  listeners.push((m) => {
    if (m.sessionId !== sessionId) return;
    if (m.method === "Log.entryAdded" && m.params.entry.level === "error") problems.push(m.params.entry.text);
    if (m.method === "Runtime.exceptionThrown") problems.push(m.params.exceptionDetails.text);
  });
  await send("Page.enable", {}, sessionId);
  await send("Log.enable", {}, sessionId);
  await send("Runtime.enable", {}, sessionId);
  const loaded = once("Page.loadEventFired");
  await send("Page.navigate", { url: `${base}/docs` }, sessionId);
  await loaded;
  const evaluated = await send("Runtime.evaluate", {
    expression: `(${inPage.toString()})(${JSON.stringify(token)})`,
    awaitPromise: true, returnByValue: true,
  }, sessionId);
  if (evaluated.exceptionDetails) {
    return finish(false, evaluated.exceptionDetails.exception?.description || evaluated.exceptionDetails.text);
  }
  const { before, after } = evaluated.result.value;
  // The expected 401 is logged by the browser as a failed load: not a problem.
  const unexpected = problems.filter((p) => !/status of 401/.test(p));
  const ok = before.status === 401 && !before.sent_token && after.status === 200 && after.sent_token &&
    after.url === `${base}/jobs` && unexpected.length === 0;
  await send("Browser.close").catch(() => {});
  finish(ok, ok ? "Try it out: 401 without the token, 200 after Authorize" : "unexpected result",
         { before, after, browser_errors: unexpected });
})().catch((e) => finish(false, e.stack || String(e)));
