// The Stepwise console: one page, routed by the URL's #fragment, reading /console/api/*.
// No framework and no build step: the file the binary serves is this file.

const main = document.getElementById("main");
const ROW_H = 28; // history row height, px (app.css .history .row)
let cleanup = []; // what the current view must stop when another one opens (streams, timers)
let generation = 0; // which route() is the latest: an older one still loading must not draw

// ----- helpers -------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// The session: whether the server asks for a sign-in, who is signed in, and the CSRF token every
// POST carries (it is readable only by pages of this origin).
const session = { required: false, user: null, csrf: null };

/// A call the server refused because no one is signed in: the page shows the sign-in form.
class SignInNeeded extends Error {}

async function api(path, body) {
  const headers = body === undefined ? {} : { "content-type": "application/json" };
  if (body !== undefined && session.csrf) headers["x-stepwise-csrf"] = session.csrf;
  const res = await fetch(path, body === undefined ? {} : { method: "POST", headers, body: JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401 && data.error === "NotSignedIn") {
    session.user = null;
    session.csrf = null;
    showUser();
    throw new SignInNeeded(data.message);
  }
  if (!res.ok) throw new Error(`${data.error || res.status}: ${data.message || res.statusText}`);
  return data;
}

const q = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "")).toString();
const fmtTime = (s) => (s ? new Date(s * 1000).toLocaleString(undefined, { hour12: false }) : "");
const shortArn = (arn) => arn.split(":").slice(-2).join(":");
/// A Map Run's label (`…:mapRun:MACHINE/LABEL:UUID`): its Map state's Label, or its name.
const mapRunLabel = (arn) => (arn.split(":mapRun:")[1] || arn).split("/").slice(1).join("/").replace(/:[^:]*$/, "");
const badge = (status) => el("span", { class: `badge ${status}`, text: status === "notreached" ? "not reached" : status });

/// ms since the epoch as a datetime-local input's value (local time, to the second).
function localInput(ms) {
  if (!ms) return "";
  const t = Number(ms);
  return new Date(t - new Date(t).getTimezoneOffset() * 60000).toISOString().slice(0, 19);
}

function fmtMs(ms) {
  if (ms === undefined || ms === null) return "";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

function pretty(text) {
  if (text === undefined || text === null) return "";
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch (_) { return String(text); }
}

function show(...nodes) {
  main.replaceChildren(...nodes.filter((n) => n !== null && n !== undefined)); // not the text "null"
}

function failure(e) {
  return el("p", { class: "error", role: "alert", text: e.message || String(e) });
}

function setNav(which) {
  for (const a of document.querySelectorAll("nav a")) {
    if (a.dataset.nav === which) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

// ----- routing -------------------------------------------------------------------------

async function route() {
  for (const stop of cleanup) stop();
  cleanup = [];
  const hash = location.hash.slice(1) || "/";
  const [path, query] = hash.split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const mine = ++generation;
  const stale = () => mine !== generation;
  if (session.required && !session.user) { signInView(); return; }
  try {
    if (parts[0] === "state-machine" && parts[1]) await machineView(parts[1], stale);
    else if (parts[0] === "executions") await executionsView(params, stale);
    else if (parts[0] === "execution" && parts[1]) await executionView(parts[1], stale);
    else if (parts[0] === "map-run" && parts[1]) await mapRunView(parts[1], params, stale);
    else await machinesView(stale);
  } catch (e) {
    if (stale()) return;
    if (e instanceof SignInNeeded) signInView();
    else show(failure(e));
  }
}

// ----- signing in ----------------------------------------------------------------------

/// The header's "signed in as" and Sign out button.
function showUser() {
  const box = document.getElementById("user");
  if (!session.required) { box.replaceChildren(); return; }
  box.replaceChildren(...(session.user
    ? [el("span", { class: "muted", id: "signed-in-as", text: session.user.split(":").pop() }),
       el("button", { type: "button", class: "ghost", id: "sign-out", text: "Sign out", onclick: signOut })]
    : []));
}

async function signOut() {
  await fetch("/console/api/logout", { method: "POST", headers: { "x-stepwise-csrf": session.csrf || "" } }).catch(() => {});
  session.user = null;
  session.csrf = null;
  showUser();
  route();
}

/// The sign-in form: an access key ID and its secret, as the server's keys file has them.
function signInView() {
  document.title = "Sign in · Stepwise";
  setNav(null);
  const id = el("input", { id: "access-key-id", autocomplete: "username", required: true, spellcheck: "false" });
  const secret = el("input", { id: "secret-access-key", type: "password", autocomplete: "current-password", required: true });
  const problem = el("p", { id: "sign-in-problem", class: "error", role: "alert" });
  const button = el("button", { type: "submit", id: "sign-in", text: "Sign in" });
  const form = el("form", { id: "sign-in-form", class: "panel sign-in" },
    el("h1", { text: "Sign in" }),
    el("p", { class: "muted", text: "This server checks requests against access keys. Sign in with one of them: the console can then do what the key's policy allows." }),
    el("label", { for: "access-key-id", text: "Access key ID" }), id,
    el("label", { for: "secret-access-key", text: "Secret access key" }), secret,
    problem, button);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    problem.textContent = "";
    try {
      const res = await fetch("/console/api/login", {
        method: "POST", headers: { "content-type": "application/json" },
        body: JSON.stringify({ accessKeyId: id.value, secretAccessKey: secret.value }),
      });
      const data = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(data.message || res.statusText);
      session.user = data.user;
      session.csrf = data.csrfToken;
      showUser();
      route();
    } catch (e) {
      problem.textContent = e.message;
      secret.value = "";
      secret.focus();
    } finally {
      button.disabled = false;
    }
  });
  show(form);
  id.focus();
}

// ----- state machines ------------------------------------------------------------------

/// Reloads the current view, unless another one has been opened meanwhile.
function reloadSoon(ms) {
  const here = location.hash;
  setTimeout(() => { if (location.hash === here) route(); }, ms);
}

async function machinesView(stale) {
  setNav("machines");
  document.title = "State machines · Stepwise";
  const data = await api("/console/api/state-machines");
  if (stale()) return;
  const rows = data.stateMachines.map((m) =>
    el("tr", {},
      el("td", {}, el("a", { href: `#/state-machine/${encodeURIComponent(m.stateMachineArn)}`, text: m.name })),
      el("td", { text: m.type }),
      el("td", { text: fmtTime(m.creationDate) }),
      el("td", { text: m.versions }),
      el("td", { text: m.aliases }),
      el("td", {}, el("a", { href: `#/executions?${q({ sm: m.stateMachineArn })}`, text: "Executions" }))));
  show(
    el("h1", { text: "State machines" }),
    rows.length
      ? el("table", { id: "machines" },
          el("thead", {}, el("tr", {}, ["Name", "Type", "Created", "Versions", "Aliases", ""].map((h) => el("th", { scope: "col", text: h })))),
          el("tbody", {}, rows))
      : el("p", { class: "muted", text: "No state machines yet. Create one with the AWS CLI or an SDK pointed at this server." }));
}

async function machineView(arn, stale) {
  setNav("machines");
  const data = await api(`/console/api/state-machine?${q({ arn })}`);
  if (stale()) return;
  const m = data.stateMachine;
  document.title = `${m.name} · Stepwise`;
  const graph = graphPanel(data.graph);
  const inputArea = el("textarea", { id: "start-input", rows: 6, "aria-label": "Execution input (JSON)", spellcheck: "false" });
  inputArea.value = "{}";
  const startForm = startControls(m.stateMachineArn, inputArea);
  const versions = data.versions.length
    ? el("table", {}, el("thead", {}, el("tr", {}, el("th", { text: "Version" }), el("th", { text: "Created" }))),
        el("tbody", {}, data.versions.map((v) => el("tr", {}, el("td", { text: shortArn(v.stateMachineVersionArn) }), el("td", { text: fmtTime(v.creationDate) })))))
    : el("p", { class: "muted", text: "No versions published." });
  const aliases = data.aliases.length
    ? el("table", {}, el("thead", {}, el("tr", {}, el("th", { text: "Alias" }), el("th", { text: "Routing" }))),
        el("tbody", {}, data.aliases.map((a) => el("tr", {}, el("td", { text: a.name }),
          el("td", { text: (a.routingConfiguration || []).map((r) => `version ${r.stateMachineVersionArn.split(":").pop()}: ${r.weight}%`).join(", ") })))))
    : el("p", { class: "muted", text: "No aliases." });
  show(
    el("h1", {}, m.name, " ", el("span", { class: "muted", text: `${m.type} · created ${fmtTime(m.creationDate)}` })),
    el("p", {}, el("a", { class: "button ghost", href: `#/executions?${q({ sm: m.stateMachineArn })}`, text: "Executions" })),
    el("div", { class: "split" },
      el("section", { class: "panel", "aria-label": "Graph" }, el("h2", { text: "Graph" }), graph),
      definitionPanel(m, graph)),
    el("div", { class: "split" },
      el("section", {}, el("h2", { text: "Start an execution" }), startForm),
      el("section", {}, el("h2", { text: "Versions" }), versions, el("h2", { text: "Aliases" }), aliases)));
}

/// The definition as code; "Edit" turns it into an editor checked by the validator as it is
/// typed (each diagnostic's location selected in the text on a click, the graph redrawn from
/// the text while it is valid), saved as a new version.
function definitionPanel(m, graph) {
  // Focusable, so a keyboard can scroll a long definition.
  const code = el("pre", { id: "definition", tabindex: 0, role: "region", "aria-label": "Definition" }, el("code", { text: pretty(m.definition) }));
  const panel = el("section", { class: "panel", "aria-label": "Definition" });
  const edit = el("button", { type: "button", class: "ghost", id: "edit", text: "Edit" });
  panel.append(el("h2", {}, "Definition ", edit), code);
  edit.addEventListener("click", () => {
    const editor = el("textarea", { id: "editor", rows: 28, spellcheck: "false", "aria-label": "Definition (JSON)", "aria-describedby": "diagnostics" });
    editor.value = pretty(m.definition);
    const verdict = el("p", { id: "verdict", "aria-live": "polite" });
    const list = el("ul", { id: "diagnostics", class: "diagnostics" });
    const save = el("button", { type: "button", id: "save-version", text: "Save as new version" });
    const cancel = el("button", { type: "button", class: "ghost", text: "Cancel", onclick: route });
    let ticket = 0, timer = 0;
    const check = async () => {
      const mine = ++ticket;
      const out = await api("/console/api/validate", { definition: editor.value, type: m.type }).catch((e) => ({ result: "FAIL", diagnostics: [{ code: "REQUEST", message: e.message }] }));
      if (mine !== ticket) return; // typed on since
      save.disabled = out.result !== "OK";
      verdict.textContent = out.result === "OK" ? "Valid." : `${out.diagnostics.length} problem${out.diagnostics.length === 1 ? "" : "s"}:`;
      verdict.className = out.result === "OK" ? "" : "error";
      list.replaceChildren(...out.diagnostics.map((d) => el("li", {},
        el("button", { type: "button", class: "ghost diag", "data-location": d.location || "", onclick: () => mark(editor, d.location) },
          `${d.severity || "ERROR"} ${d.code}: ${d.message}${d.location ? ` (at ${d.location})` : ""}`))));
      if (out.graph && !out.graph.error) {
        graph.innerHTML = out.graph.svg; // the text's graph, as it is typed
      }
    };
    editor.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(check, 250); });
    save.addEventListener("click", async () => {
      save.disabled = true;
      try {
        const out = await api("/console/api/state-machine/version", { stateMachineArn: m.stateMachineArn, definition: editor.value });
        await route();
        const note = document.getElementById("saved");
        if (note) note.textContent = `Saved as version ${out.stateMachineVersionArn.split(":").pop()}.`;
      } catch (e) {
        verdict.textContent = e.message;
        verdict.className = "error";
      }
    });
    code.replaceWith(editor);
    edit.replaceWith(el("span", { class: "muted", text: "(editing)" }));
    panel.append(verdict, list, el("div", { class: "toolbar" }, save, cancel));
    editor.focus();
    check();
  });
  panel.append(el("p", { id: "saved", class: "muted", "aria-live": "polite" }));
  return panel;
}

/// Selects in `editor` where a diagnostic's location points: a JSON pointer's keys, found one
/// after another (`/States/Fetch/Next`; list indexes are skipped), or a JSON syntax error's
/// line and column.
function mark(editor, location) {
  if (!location) return;
  const text = editor.value;
  let start = -1, end = -1;
  const lc = /line:? (\d+), column:? (\d+)/.exec(location);
  if (lc) {
    const lines = text.split("\n").slice(0, Number(lc[1]) - 1);
    start = lines.reduce((n, l) => n + l.length + 1, 0) + Number(lc[2]) - 1;
    end = start + 1;
  } else {
    let at = 0;
    for (const raw of location.split("/").filter(Boolean)) {
      const key = raw.replace(/\[\d+\]$/, "").replace(/~1/g, "/").replace(/~0/g, "~");
      // The key, not the same text as a value (`"Next": "Fetch"`): a string followed by a colon.
      const pattern = new RegExp(JSON.stringify(key).replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "\\s*:", "g");
      pattern.lastIndex = at;
      const found = pattern.exec(text);
      if (!found) break;
      start = found.index;
      end = found.index + JSON.stringify(key).length;
      at = end;
    }
  }
  if (start < 0) return;
  editor.focus();
  editor.setSelectionRange(start, end);
  // Scroll the selection into view: the line's share of the text's height.
  const line = text.slice(0, start).split("\n").length;
  editor.scrollTop = Math.max(0, (line - 5) * (editor.scrollHeight / text.split("\n").length));
}

/// A name field, a JSON input checked as it is typed, and a Start button that opens the new
/// execution.
function startControls(stateMachineArn, inputArea, label = "Start execution") {
  const name = el("input", { id: "start-name", placeholder: "(generated)", "aria-label": "Execution name" });
  const problem = el("p", { class: "muted", id: "start-problem", "aria-live": "polite" });
  const button = el("button", { type: "button", id: "start", text: label });
  const check = () => {
    try { JSON.parse(inputArea.value); problem.textContent = ""; button.disabled = false; }
    catch (e) { problem.textContent = `Not JSON: ${e.message}`; button.disabled = true; }
  };
  inputArea.addEventListener("input", check);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const out = await api("/console/api/execution/start", { stateMachineArn, name: name.value, input: inputArea.value });
      location.hash = `#/execution/${encodeURIComponent(out.executionArn)}`;
    } catch (e) {
      problem.textContent = e.message;
      button.disabled = false;
    }
  });
  return el("div", {}, el("div", { class: "toolbar" }, el("div", {}, el("label", { for: "start-name", text: "Name" }), name)), inputArea, problem, button);
}

// ----- the graph -----------------------------------------------------------------------

function graphPanel(graph, onSelect) {
  const box = el("div", { class: "graph", id: "graph" });
  if (graph.error) {
    box.append(failure(new Error(graph.error.join("; "))));
    return box;
  }
  box.innerHTML = graph.svg; // drawn by the server from the definition, names escaped there
  if (onSelect) {
    for (const g of box.querySelectorAll("g[data-state]")) {
      g.addEventListener("click", () => onSelect(g.dataset.state));
      g.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); onSelect(g.dataset.state); }
      });
    }
  }
  return box;
}

function colour(box, statuses) {
  for (const g of box.querySelectorAll("g[data-state]")) {
    const status = statuses[g.dataset.state]?.status || "notreached";
    g.classList.remove("status-succeeded", "status-failed", "status-caught", "status-running", "status-cancelled", "status-notreached");
    g.classList.add(`status-${status}`);
    g.dataset.status = status;
    g.setAttribute("aria-label", `${g.dataset.state}: ${status === "notreached" ? "not reached" : status}`);
  }
}

const legend = () => el("div", { class: "legend", "aria-label": "Legend" },
  ["running", "succeeded", "failed", "caught", "cancelled", "notreached"].map(badge));

// ----- executions ----------------------------------------------------------------------

/// Previous and Next page buttons (either null when there is no such page). `tokens` are the
/// tokens of the pages before this one ("-" is the first page), `token` this page's; `go` opens
/// a page given its `token` and `pages`.
function pager(tokens, token, nextToken, go) {
  const back = tokens[tokens.length - 1];
  return [
    tokens.length
      ? el("button", { type: "button", class: "ghost", id: "prev-page", text: "Previous page", onclick: () => go({ token: back === "-" ? "" : back, pages: tokens.slice(0, -1).join(",") }) })
      : null,
    nextToken
      ? el("button", { type: "button", class: "ghost", id: "next-page", text: "Next page", onclick: () => go({ token: nextToken, pages: [...tokens, token || "-"].join(",") }) })
      : null,
  ];
}

async function executionsView(params, stale) {
  setNav("executions");
  document.title = "Executions · Stepwise";
  const machines = (await api("/console/api/state-machines")).stateMachines;
  if (stale()) return;
  const sm = params.get("sm") || machines[0]?.stateMachineArn || "";
  const status = params.get("status") || "";
  const tokens = (params.get("pages") || "").split(",").filter(Boolean); // tokens of the pages before
  const token = params.get("token") || "";
  const smSelect = el("select", { id: "filter-sm" }, machines.map((m) => el("option", { value: m.stateMachineArn, selected: m.stateMachineArn === sm, text: m.name })));
  const statusSelect = el("select", { id: "filter-status" }, ["", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"].map((s) => el("option", { value: s, selected: s === status, text: s || "Any" })));
  // Name prefix and start-time range: in the address as typed and as ms since the epoch.
  const prefix = params.get("name") || "";
  const from = params.get("from") || "", before = params.get("before") || "";
  const nameInput = el("input", { id: "filter-name", type: "search", placeholder: "prefix", spellcheck: "false" });
  nameInput.value = prefix;
  const fromInput = el("input", { id: "filter-from", type: "datetime-local", step: 1 });
  const beforeInput = el("input", { id: "filter-before", type: "datetime-local", step: 1 });
  fromInput.value = localInput(from);
  beforeInput.value = localInput(before);
  const epoch = (input) => (input.value ? String(new Date(input.value).getTime()) : "");
  const go = (extra = {}) => {
    location.hash = `#/executions?${q({ sm: smSelect.value, status: statusSelect.value, name: nameInput.value, from: epoch(fromInput), before: epoch(beforeInput), ...extra })}`;
  };
  for (const control of [smSelect, statusSelect, nameInput, fromInput, beforeInput]) control.addEventListener("change", () => go());
  if (!sm) {
    show(el("h1", { text: "Executions" }), el("p", { class: "muted", text: "No state machines yet." }));
    return;
  }
  const started = performance.now();
  const page = await api(`/console/api/executions?${q({ stateMachineArn: sm, status, namePrefix: prefix, startedFrom: from, startedBefore: before, nextToken: token, maxResults: 50 })}`);
  if (stale()) return;
  const took = Math.round(performance.now() - started);
  const all = el("input", { type: "checkbox", id: "select-all", "aria-label": "Select all on this page" });
  const boxes = [];
  const rows = page.executions.map((x) => {
    const box = el("input", { type: "checkbox", "aria-label": `Select ${x.name}`, "data-arn": x.executionArn, "data-status": x.status });
    boxes.push(box);
    return el("tr", { "data-name": x.name },
      el("td", {}, box),
      el("td", {}, el("a", { href: `#/execution/${encodeURIComponent(x.executionArn)}`, text: x.name })),
      el("td", {}, badge(x.status)),
      el("td", { text: fmtTime(x.startDate) }),
      el("td", { text: fmtTime(x.stopDate) }),
      el("td", { text: x.redriveCount ? String(x.redriveCount) : "" }));
  });
  all.addEventListener("change", () => boxes.forEach((b) => { b.checked = all.checked; }));
  const outcome = el("p", { id: "bulk-outcome", "aria-live": "polite" });
  const bulk = (what) => async () => {
    const chosen = boxes.filter((b) => b.checked);
    if (!chosen.length) { outcome.textContent = "Select executions first."; return; }
    let ok = 0; const errors = [];
    for (const b of chosen) {
      try { await api(`/console/api/execution/${what}`, { executionArn: b.dataset.arn }); ok++; }
      catch (e) { errors.push(e.message); }
    }
    outcome.textContent = `${what === "stop" ? "Stopped" : "Redriven"}: ${ok}${errors.length ? `; refused: ${errors.length} (${errors[0]})` : ""}`;
    reloadSoon(600);
  };
  const [prev, next] = pager(tokens, token, page.nextToken, go);
  show(
    el("h1", { text: "Executions" }),
    el("div", { class: "toolbar", role: "search" },
      el("div", {}, el("label", { for: "filter-sm", text: "State machine" }), smSelect),
      el("div", {}, el("label", { for: "filter-status", text: "Status" }), statusSelect),
      el("div", {}, el("label", { for: "filter-name", text: "Name starts with" }), nameInput),
      el("div", {}, el("label", { for: "filter-from", text: "Started from" }), fromInput),
      el("div", {}, el("label", { for: "filter-before", text: "Started before" }), beforeInput),
      el("button", { type: "button", id: "bulk-stop", text: "Stop selected", onclick: bulk("stop") }),
      el("button", { type: "button", id: "bulk-redrive", class: "ghost", text: "Redrive selected", onclick: bulk("redrive") })),
    outcome,
    rows.length
      ? el("table", { id: "executions" },
          el("thead", {}, el("tr", {}, el("th", {}, all), ...["Name", "Status", "Started", "Stopped", "Redrives"].map((h) => el("th", { scope: "col", text: h })))),
          el("tbody", {}, rows))
      : el("p", { class: "muted", text: "No executions match." }),
    el("div", { class: "toolbar" }, prev, next, el("span", { class: "muted", id: "page-time", text: `page ${tokens.length + 1} · ${took} ms` })));
}

// ----- one execution -------------------------------------------------------------------

/// A state's definition, wherever it is nested (state names are unique in a definition).
function stateIn(machine, name) {
  for (const [n, st] of Object.entries(machine?.States || {})) {
    if (n === name) return st;
    for (const inner of [...(st.Branches || []), st.ItemProcessor || st.Iterator].filter(Boolean)) {
      const found = stateIn(inner, name);
      if (found) return found;
    }
  }
  return null;
}

function detailsOf(event) {
  if (!event) return {};
  const key = Object.keys(event).find((k) => k.endsWith("EventDetails"));
  return key ? event[key] : {};
}

async function executionView(arn, stale) {
  setNav("executions");
  const data = await api(`/console/api/execution?${q({ arn })}`);
  if (stale()) return;
  let x = data.execution;
  const events = data.events;
  let statuses = data.statuses;
  let selected = null; // state name
  let at = events.length; // replay position: events[0..at] have happened
  let focus = null; // {map, iteration}: the states inside that Map as that one iteration went
  document.title = `${x.name} · Stepwise`;

  const statusBadge = el("span", { id: "exec-status" }, badge(x.status));
  const graph = graphPanel(data.graph, (name) => select(name));
  colour(graph, statuses);

  // State details: input, output, error and cause side by side.
  const stateTitle = el("h2", { id: "state-title", text: "Select a state in the graph or the table" });
  // A Map state's iterations: pick one to see the path its item took.
  const iterBox = el("div", { class: "toolbar", id: "iteration-box" });
  // Focusable, so a keyboard can scroll them; each is named by the heading above it.
  const inBox = el("pre", { id: "state-input", tabindex: 0 }), outBox = el("pre", { id: "state-output", tabindex: 0 }), errBox = el("pre", { id: "state-error", tabindex: 0 });
  const stateDetails = el("section", { class: "panel", "aria-label": "State details" }, stateTitle, iterBox,
    el("div", { class: "cols3" },
      el("div", {}, el("h3", { text: "Input" }), inBox),
      el("div", {}, el("h3", { text: "Output" }), outBox),
      el("div", {}, el("h3", { text: "Error and cause" }), errBox)));

  const byId = (id) => events[id - 1];
  let definition = {};
  try { definition = JSON.parse(data.definition); } catch (_) {}
  function select(name) {
    selected = name;
    const s = statuses[name];
    stateTitle.replaceChildren(name, " ", s ? badge(s.status) : badge("notreached"));
    inBox.textContent = pretty(detailsOf(s && byId(s.entered_event)).input);
    outBox.textContent = pretty(s && s.exited_event ? detailsOf(byId(s.exited_event)).output : "");
    let f = s && s.failed_event ? detailsOf(byId(s.failed_event)) : {};
    if (s && s.failed_event && !f.error && !f.cause && types[name] === "Fail") {
      // A Fail state inside a branch: its event carries no error; its definition names it.
      const def = stateIn(definition, name) || {};
      f = { error: def.Error || def.ErrorPath, cause: def.Cause || def.CausePath };
    }
    errBox.textContent = f.error || f.cause ? `${f.error || ""}\n\n${f.cause || ""}`.trim() : "";
    const indexes = events.filter((e) => e.type === "MapIterationStarted" && detailsOf(e).name === name).map((e) => detailsOf(e).index);
    if (types[name] === "Map" && indexes.length) {
      const picker = el("select", { id: "iteration" },
        el("option", { value: "", text: `All ${indexes.length} iterations` }),
        [...new Set(indexes)].sort((a, b) => a - b).map((i) => el("option", { value: i, selected: focus && focus.map === name && focus.iteration === i, text: `Iteration ${i}` })));
      picker.addEventListener("change", () => {
        focus = picker.value === "" ? null : { map: name, iteration: Number(picker.value) };
        moveTo(at);
      });
      iterBox.replaceChildren(el("label", { for: "iteration", text: "Iteration" }), picker);
    } else if (!focus || focus.map !== name) {
      iterBox.replaceChildren();
    }
    for (const g of graph.querySelectorAll("g[data-state]")) g.classList.toggle("selected", g.dataset.state === name);
    for (const tr of statesBody.querySelectorAll("tr")) tr.classList.toggle("selected", tr.dataset.state === name);
  }

  // The states table.
  const types = Object.fromEntries((data.graph.states || []).map((s) => [s.name, s.type]));
  const statesBody = el("tbody", {});
  function fillStates() {
    statesBody.replaceChildren(...(data.graph.states || []).map(({ name }) => {
      const s = statuses[name];
      return el("tr", { "data-state": name, class: name === selected ? "selected" : null, tabindex: 0, onclick: () => select(name), onkeydown: (ev) => { if (ev.key === "Enter") select(name); } },
        el("td", { text: name }), el("td", { text: types[name] }), el("td", {}, badge(s ? s.status : "notreached")),
        el("td", { text: s ? fmtMs(s.duration_ms) : "" }), el("td", { text: s ? String(s.retries) : "" }));
    }));
  }
  fillStates();

  // The history: a window of rows over a tall spacer, so 25,000 events scroll as easily as 25.
  const history = el("div", { class: "history", id: "history", tabindex: 0, role: "table", "aria-label": "Event history" });
  const spacer = el("div", { class: "spacer" });
  const head = el("div", { class: "row head", role: "row" }, ["ID", "Type", "State", "Time"].map((h) => el("span", { role: "columnheader", text: h })));
  history.append(head, spacer);
  const eventDetail = el("pre", { id: "event-detail", tabindex: 0 });
  const t0 = events[0]?.timestamp || 0;
  function drawHistory() {
    spacer.style.height = `${events.length * ROW_H}px`;
    const first = Math.max(0, Math.floor(history.scrollTop / ROW_H) - 5);
    const last = Math.min(events.length, first + Math.ceil(history.clientHeight / ROW_H) + 10);
    const rows = [];
    for (let i = first; i < last; i++) {
      const e = events[i];
      const d = detailsOf(e);
      rows.push(el("div", { class: `row${i >= at ? " future" : ""}${i === at - 1 ? " selected" : ""}`, role: "row", "data-id": e.id, style: `top:${i * ROW_H}px`, onclick: () => { eventDetail.textContent = JSON.stringify(e, null, 2); moveTo(i + 1); } },
        el("span", { role: "cell", text: e.id }), el("span", { role: "cell", text: e.type }), el("span", { role: "cell", text: d.name || "" }), el("span", { role: "cell", text: `+${fmtMs(Math.round((e.timestamp - t0) * 1000))}` })));
    }
    spacer.replaceChildren(...rows);
  }
  history.addEventListener("scroll", () => requestAnimationFrame(drawHistory));

  // Replay: the timeline over the history; the graph and states as they were at event N.
  const slider = el("input", { type: "range", id: "replay", min: 0, max: events.length, value: events.length, "aria-label": "Replay position (event)" });
  const where = el("span", { id: "replay-at", "aria-live": "polite" });
  let pending = 0;
  async function moveTo(n) {
    at = Math.max(0, Math.min(events.length, n));
    slider.value = at;
    const e = events[at - 1];
    where.textContent = `event ${at} of ${events.length}${e ? `: ${e.type}${detailsOf(e).name ? ` (${detailsOf(e).name})` : ""}` : ""}`;
    const ticket = ++pending;
    const r = await api(`/console/api/execution/statuses?${q({ arn, at, map: focus?.map, iteration: focus?.iteration })}`);
    if (ticket !== pending) return; // a later move has been asked for
    statuses = r.statuses;
    colour(graph, statuses);
    for (const g of graph.querySelectorAll("g[data-state]")) g.classList.toggle("current", statuses[g.dataset.state]?.status === "running" && at < events.length);
    fillStates();
    if (selected) select(selected);
    // Keep the event moved to in view.
    const top = (at - 1) * ROW_H;
    if (at > 0 && (top < history.scrollTop || top > history.scrollTop + history.clientHeight - 2 * ROW_H)) {
      history.scrollTop = Math.max(0, top - history.clientHeight / 2);
    }
    drawHistory();
  }
  slider.addEventListener("input", () => moveTo(Number(slider.value)));
  const stepTo = (delta) => moveTo(at + delta);
  // State by state: to the next (or previous) event that enters or leaves a state.
  const stateStep = (dir) => {
    let i = at + dir;
    while (i > 0 && i <= events.length && !/State(Entered|Exited)$/.test(events[i - 1].type)) i += dir;
    moveTo(i);
  };
  const timeline = el("section", { class: "panel timeline", "aria-label": "Replay" },
    el("strong", { text: "Replay" }),
    el("button", { type: "button", class: "ghost", id: "prev-state", text: "« State", "aria-label": "Previous state change", onclick: () => stateStep(-1) }),
    el("button", { type: "button", class: "ghost", id: "prev-event", text: "◀ Event", "aria-label": "Previous event", onclick: () => stepTo(-1) }),
    slider,
    el("button", { type: "button", class: "ghost", id: "next-event", text: "Event ▶", "aria-label": "Next event", onclick: () => stepTo(1) }),
    el("button", { type: "button", class: "ghost", id: "next-state", text: "State »", "aria-label": "Next state change", onclick: () => stateStep(1) }),
    where);

  // Actions.
  const actions = el("div", { class: "toolbar" });
  const again = el("textarea", { id: "again-input", rows: 5, spellcheck: "false", "aria-label": "Input for a new execution (JSON)" });
  again.value = pretty(x.input);
  const againBox = el("details", {}, el("summary", { text: "Start again with this input" }), startControls(x.stateMachineArn, again, "Start again"));
  function fillActions() {
    const outcome = el("span", { id: "action-outcome", "aria-live": "polite" });
    const act = (what) => async () => {
      try { await api(`/console/api/execution/${what}`, { executionArn: x.executionArn }); outcome.textContent = what === "stop" ? "Stopping…" : "Redriving…"; reloadSoon(400); }
      catch (e) { outcome.textContent = e.message; outcome.className = "error"; }
    };
    actions.replaceChildren(
      el("button", { type: "button", id: "stop", disabled: x.status !== "RUNNING", text: "Stop", onclick: act("stop") }),
      el("button", { type: "button", id: "redrive", class: "ghost", disabled: !["FAILED", "TIMED_OUT", "ABORTED"].includes(x.status), text: "Redrive", onclick: act("redrive") }),
      outcome);
  }
  fillActions();

  show(
    el("h1", {}, x.name, " ", statusBadge),
    el("p", { class: "muted" }, "Started ", fmtTime(x.startDate), x.stopDate ? ` · stopped ${fmtTime(x.stopDate)}` : "",
      x.redriveCount ? el("span", { id: "exec-redrives", text: ` · redriven ${x.redriveCount} time${x.redriveCount > 1 ? "s" : ""}` }) : null, " · ",
      el("a", { href: `#/state-machine/${encodeURIComponent(x.stateMachineArn)}`, text: shortArn(x.stateMachineArn) }),
      x.mapRunArn ? [" · child of Map Run ", el("a", { id: "parent-map-run", href: `#/map-run/${encodeURIComponent(x.mapRunArn)}`, text: mapRunLabel(x.mapRunArn) })] : null),
    x.error ? el("p", { class: "error", id: "exec-error" }, el("strong", { text: x.error }), " ", x.cause || "") : null,
    actions,
    timeline,
    el("div", { class: "split" },
      el("section", { class: "panel", "aria-label": "Graph" }, el("h2", { text: "Graph" }), legend(), graph),
      el("section", { class: "panel", "aria-label": "States" }, el("h2", { text: "States" }),
        el("table", { id: "states" }, el("thead", {}, el("tr", {}, ["State", "Type", "Status", "Duration", "Retries"].map((h) => el("th", { scope: "col", text: h })))), statesBody))),
    stateDetails,
    (data.mapRuns || []).length ? mapRunsPanel(data.mapRuns) : null,
    el("div", { class: "split" },
      el("section", { class: "panel", "aria-label": "Events" }, el("h2", { text: `Event history (${events.length})`, id: "history-title" }), history),
      el("section", { class: "panel", "aria-label": "Event" }, el("h2", { text: "Event" }), eventDetail)),
    againBox);
  moveTo(events.length);

  // Live: new events as they are committed, without a reload.
  if (x.status === "RUNNING") {
    const source = new EventSource(`/console/api/execution/stream?${q({ arn, after: events.length ? events[events.length - 1].id : 0 })}`);
    cleanup.push(() => source.close());
    source.addEventListener("history", (m) => {
      const d = JSON.parse(m.data);
      const following = at === events.length;
      events.push(...d.events);
      slider.max = events.length;
      document.getElementById("history-title").textContent = `Event history (${events.length})`;
      if (d.execution) { x = d.execution; statusBadge.replaceChildren(badge(x.status)); fillActions(); }
      if (following && focus) {
        moveTo(events.length); // one iteration's statuses come from the server
      } else if (following) {
        at = events.length;
        statuses = d.statuses;
        colour(graph, statuses);
        fillStates();
        if (selected) select(selected);
        slider.value = at;
        where.textContent = `event ${at} of ${events.length}`;
      }
      drawHistory();
    });
    source.addEventListener("end", (m) => {
      const d = JSON.parse(m.data);
      if (d.execution) { x = d.execution; statusBadge.replaceChildren(badge(x.status)); fillActions(); }
      source.close();
    });
  }
}

// ----- Map Runs ------------------------------------------------------------------------

const COUNTS = ["pending", "running", "succeeded", "failed", "timedOut", "aborted", "total"];

/// A Map Run's item and child execution counts, one row each.
function countsTable(run, id) {
  return el("table", { id, class: "counts" },
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "" }), COUNTS.map((c) => el("th", { scope: "col", text: c === "timedOut" ? "timed out" : c })))),
    el("tbody", {}, [["Items", run.itemCounts], ["Child executions", run.executionCounts]].map(([what, counts]) =>
      el("tr", { "data-counts": what }, el("th", { scope: "row", text: what }), COUNTS.map((c) => el("td", { "data-count": c, text: String(counts?.[c] ?? 0) }))))));
}

/// The Map Runs of an execution's Distributed Map states, each linking to its children.
function mapRunsPanel(runs) {
  return el("section", { class: "panel", "aria-label": "Map Runs", id: "map-runs" },
    el("h2", { text: `Map Runs (${runs.length})` }),
    el("table", {},
      el("thead", {}, el("tr", {}, ["Map Run", "Status", "Items", "Succeeded", "Failed", "Started"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, runs.map((r) => el("tr", { "data-map-run": r.mapRunArn },
        el("td", {}, el("a", { href: `#/map-run/${encodeURIComponent(r.mapRunArn)}`, text: mapRunLabel(r.mapRunArn) })),
        el("td", {}, badge(r.status)),
        el("td", { text: String(r.itemCounts?.total ?? 0) }),
        el("td", { text: String(r.executionCounts?.succeeded ?? 0) }),
        el("td", { text: String(r.executionCounts?.failed ?? 0) }),
        el("td", { text: fmtTime(r.startDate) }))))));
}

/// A Map Run: its counts, the execution that started it, and its child executions page by page.
async function mapRunView(arn, params, stale) {
  setNav("executions");
  const status = params.get("status") || "";
  const tokens = (params.get("pages") || "").split(",").filter(Boolean);
  const token = params.get("token") || "";
  const data = await api(`/console/api/map-run?${q({ arn, status, nextToken: token, maxResults: 50 })}`);
  if (stale()) return;
  const run = data.mapRun;
  const label = mapRunLabel(arn);
  document.title = `${label} · Map Run · Stepwise`;
  const go = (extra = {}) => { location.hash = `#/map-run/${encodeURIComponent(arn)}?${q({ status: statusSelect.value, ...extra })}`; };
  const statusSelect = el("select", { id: "children-status" }, ["", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"].map((s) => el("option", { value: s, selected: s === status, text: s || "Any" })));
  statusSelect.addEventListener("change", () => go());
  const [prev, next] = pager(tokens, token, data.nextToken, go);
  const rows = data.executions.map((x) => el("tr", { "data-name": x.name },
    el("td", {}, el("a", { href: `#/execution/${encodeURIComponent(x.executionArn)}`, text: x.name })),
    el("td", {}, badge(x.status)),
    el("td", { text: x.itemCount === undefined ? "" : String(x.itemCount) }),
    el("td", { text: fmtTime(x.startDate) }),
    el("td", { text: fmtTime(x.stopDate) })));
  show(
    el("h1", {}, label, " ", el("span", { id: "map-run-status" }, badge(run.status))),
    el("p", { class: "muted" }, "Map Run of ",
      el("a", { id: "map-run-parent", href: `#/execution/${encodeURIComponent(run.executionArn)}`, text: shortArn(run.executionArn) }),
      " · started ", fmtTime(run.startDate), run.stopDate ? ` · stopped ${fmtTime(run.stopDate)}` : "",
      ` · max concurrency ${run.maxConcurrency || "unlimited"}`,
      run.redriveCount ? ` · redriven ${run.redriveCount} time${run.redriveCount > 1 ? "s" : ""}` : ""),
    el("section", { class: "panel", "aria-label": "Counts" }, el("h2", { text: "Counts" }), countsTable(run, "map-run-counts")),
    el("section", { class: "panel", "aria-label": "Child executions" },
      el("h2", { text: "Child executions" }),
      el("div", { class: "toolbar", role: "search" }, el("div", {}, el("label", { for: "children-status", text: "Status" }), statusSelect)),
      rows.length
        ? el("table", { id: "map-run-children" },
            el("thead", {}, el("tr", {}, ["Name", "Status", "Items", "Started", "Stopped"].map((h) => el("th", { scope: "col", text: h })))),
            el("tbody", {}, rows))
        : el("p", { class: "muted", text: "No child executions match." }),
      el("div", { class: "toolbar" }, prev, next, el("span", { class: "muted", text: `page ${tokens.length + 1}` }))));
  // A running Map Run's counts move: look again in a while.
  if (run.status === "RUNNING") reloadSoon(2000);
}

// ----- start ---------------------------------------------------------------------------

document.getElementById("theme").addEventListener("click", () => {
  const root = document.documentElement;
  const dark = root.dataset.theme ? root.dataset.theme === "dark" : matchMedia("(prefers-color-scheme: dark)").matches;
  root.dataset.theme = dark ? "light" : "dark";
  try { localStorage.setItem("stepwise-theme", root.dataset.theme); } catch (_) {}
});
window.addEventListener("hashchange", route);
fetch("/console/api/session").then((r) => r.json()).catch(() => ({})).then((s) => {
  session.required = Boolean(s.required);
  session.user = s.user || null;
  session.csrf = s.csrfToken || null;
  showUser();
  route();
});
