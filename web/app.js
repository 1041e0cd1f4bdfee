// SPDX-License-Identifier: MIT
// The wirt web UI: the VM list, a VM's details, its serial console
// (xterm.js over the service's WebSocket) and its graphical display (noVNC
// over another WebSocket, bridged by the service to the VM's VNC server).  Everything goes through the
// REST API of docs/api.md; the session is an HttpOnly cookie set by
// POST /login, and every request that changes something carries the
// X-Wirt-Request header the service requires of browsers (CSRF).

import RFB from "/ui/vendor/novnc/core/rfb.js";

const $ = (sel, root = document) => root.querySelector(sel);
const state = { vms: [], selected: null, tab: "console", term: null, fit: null, ws: null, wsFor: null, rfb: null, rfbFor: null };

class ApiError extends Error {}

async function api(method, path, body) {
  const opts = { method, headers: { "X-Wirt-Request": "1" }, credentials: "same-origin" };
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch("/api/v1/" + path, opts);
  if (r.status === 401) {
    showLogin();
    throw new ApiError("sign in first");
  }
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!r.ok) throw new ApiError((data && data.error) || `${method} ${path}: HTTP ${r.status}`);
  return data;
}

function showError(msg) {
  const e = $("#error");
  e.textContent = msg || "";
  e.hidden = !msg;
}

const fmtBytes = (n) => {
  if (n === undefined || n === null) return "";
  const u = ["B", "K", "M", "G", "T"];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (n >= 10 || i === 0 ? Math.round(n) : n.toFixed(1)) + u[i];
};
const fmtUptime = (s) => {
  if (s === undefined) return "";
  s = Math.floor(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, "0")}m` : m ? `${m}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
};

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

async function refresh() {
  let vms;
  try {
    vms = await api("GET", "vms");
  } catch (err) {
    if (!(err instanceof ApiError && err.message === "sign in first")) showError(err.message);
    return;
  }
  state.vms = vms;
  const body = $("#vms tbody");
  body.replaceChildren();
  const machines = vms.filter((v) => !v.template);
  for (const v of machines) {
    const running = v.state === "running";
    const row = el("tr", { class: "vm" + (v.name === state.selected ? " selected" : ""), "data-name": v.name },
      el("td", {}, v.name),
      el("td", {}, el("span", { class: "state " + v.state + (v.crashed ? " crashed" : "") },
        v.crashed ? "crashed" : v.state)),
      el("td", {}, v.cpus ?? ""),
      el("td", {}, fmtBytes(v.memory)),
      el("td", {}, fmtBytes(v["disk-usage"])),
      el("td", {}, running ? fmtUptime(v.uptime) : ""),
      el("td", {}, el("button", { "data-row-act": running ? "stop" : "start" }, running ? "Stop" : "Start")));
    row.addEventListener("click", (ev) => {
      const act = ev.target.getAttribute("data-row-act");
      if (act) { ev.stopPropagation(); lifecycle(v.name, act); return; }
      select(v.name);
    });
    body.append(row);
  }
  $("#empty").hidden = machines.length > 0;
  const templates = vms.filter((v) => v.template);
  $("#templates").replaceChildren(...templates.map((t) => el("li", {}, `${t.name} (${fmtBytes(t.memory)}, ${t.cpus} CPU)`)));
  const sel = $("#create-form select[name=from]");
  const keep = sel.value;
  sel.replaceChildren(...templates.map((t) => el("option", { value: t.name }, t.name)));
  if (keep) sel.value = keep;
  if (state.selected) updateDetailHead();
}

function current() {
  return state.vms.find((v) => v.name === state.selected);
}

function updateDetailHead() {
  const v = current();
  if (!v) { $("#detail").hidden = true; state.selected = null; closeConsole(); closeDisplay(); return; }
  $("#detail-state").textContent = v.state;
  $("#detail-state").className = "state " + v.state;
  const running = v.state === "running";
  $("#detail [data-act=start]").disabled = running;
  $("#detail [data-act=stop]").disabled = !running;
  $("#detail [data-act=restart]").disabled = !running;
  if (state.tab === "console") {
    if (running && state.wsFor !== v.name) openConsole(v.name);
    if (!running && state.ws) closeConsole("The VM is not running.");
  }
  if (state.tab === "display") {
    if (running && state.rfbFor !== v.name) openDisplay(v.name);
    if (!running && state.rfb) closeDisplay("The VM is not running.");
  }
}

async function select(name) {
  if (state.selected !== name) { closeConsole(); closeDisplay(); }
  state.selected = name;
  $("#detail").hidden = false;
  $("#detail-name").textContent = name;
  for (const r of document.querySelectorAll("tr.vm")) r.classList.toggle("selected", r.dataset.name === name);
  updateDetailHead();
  showTab(state.tab);
}

async function lifecycle(name, act) {
  showError("");
  try {
    if (act === "delete") {
      if (!confirm(`Delete ${name} and its disks?`)) return;
      closeConsole();
      await api("DELETE", `vms/${encodeURIComponent(name)}`);
      if (state.selected === name) { state.selected = null; $("#detail").hidden = true; }
    } else if (act === "clone") {
      const to = prompt(`Name of the clone of ${name}:`, name + "-clone");
      if (!to) return;
      await api("POST", `vms/${encodeURIComponent(name)}/clone`, { name: to });
    } else {
      if (act === "stop" && state.wsFor === name) closeConsole("Stopping…");
      await api("POST", `vms/${encodeURIComponent(name)}/${act}`, {});
    }
  } catch (err) {
    showError(err.message);
  }
  await refresh();
}

function showTab(tab) {
  state.tab = tab;
  for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.tab === tab);
  for (const t of document.querySelectorAll(".tab")) t.hidden = t.id !== "tab-" + tab;
  const name = state.selected;
  if (tab !== "display") closeDisplay();
  if (!name) return;
  if (tab === "console" || tab === "display") updateDetailHead();
  else if (tab === "snapshots") loadSnapshots(name);
  else if (tab === "log") loadLog(name);
  else if (tab === "info") api("GET", `vms/${encodeURIComponent(name)}`).then((i) => { $("#info").textContent = JSON.stringify(i, null, 2); }, (e) => showError(e.message));
  else if (tab === "settings") loadSettings(name);
}

async function loadSnapshots(name) {
  try {
    const snaps = await api("GET", `vms/${encodeURIComponent(name)}/snapshots`);
    $("#snaps").replaceChildren(...snaps.map((s) => {
      const sname = typeof s === "string" ? s : s.name;
      return el("tr", {}, el("td", {}, sname), el("td", {}, s.date || ""), el("td", {}, s.memory || ""),
        el("td", {},
          el("button", { onclick: () => snapAct(name, sname, "POST") }, "Revert"), " ",
          el("button", { class: "danger", onclick: () => snapAct(name, sname, "DELETE") }, "Delete")));
    }));
  } catch (err) { showError(err.message); }
}

async function snapAct(name, snap, method) {
  try {
    await api(method, `vms/${encodeURIComponent(name)}/snapshots/${encodeURIComponent(snap)}`, method === "POST" ? {} : undefined);
  } catch (err) { showError(err.message); }
  loadSnapshots(name);
  refresh();
}

async function loadLog(name) {
  try {
    const events = await api("GET", `vms/${encodeURIComponent(name)}/log`);
    $("#events").replaceChildren(...events.slice(-200).reverse().map((e) =>
      el("tr", {}, el("td", {}, e.time || ""), el("td", {}, e.who || ""), el("td", {}, e.action || ""),
        el("td", {}, e.ok === false ? "failed: " + (e.error || "") : "ok"))));
  } catch (err) { showError(err.message); }
}

async function loadSettings(name) {
  try {
    const i = await api("GET", `vms/${encodeURIComponent(name)}`);
    const f = $("#settings-form");
    f.memory.value = i.memory ? fmtBytes(i.memory) : "";
    f.cpus.value = i.cpus || "";
    f.restart.value = i.restart || "never";
  } catch (err) { showError(err.message); }
}

// The serial console: one xterm.js terminal, attached to the selected VM.
function ensureTerminal() {
  if (state.term) return state.term;
  const term = new Terminal({ convertEol: false, cursorBlink: true, fontSize: 14, scrollback: 5000 });
  const fit = new FitAddon.FitAddon();
  term.loadAddon(fit);
  term.open($("#terminal"));
  fit.fit();
  window.addEventListener("resize", () => fit.fit());
  term.onData((d) => {
    if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(new TextEncoder().encode(d));
  });
  state.term = term;
  state.fit = fit;
  window.wirtTerminal = term; // for tests and the curious
  return term;
}

function openConsole(name) {
  closeConsole();
  const term = ensureTerminal();
  term.reset();
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${proto}//${location.host}/api/v1/vms/${encodeURIComponent(name)}/console`);
  ws.binaryType = "arraybuffer";
  state.ws = ws;
  state.wsFor = name;
  $("#console-status").textContent = `Connecting to ${name}…`;
  ws.onopen = () => {
    $("#console-status").textContent = `Connected to ${name}'s serial console.`;
    term.focus();
    ws.send(new TextEncoder().encode("\r")); // a fresh prompt
  };
  ws.onmessage = (e) => term.write(new Uint8Array(e.data));
  ws.onclose = (e) => {
    if (state.ws !== ws) return;
    state.ws = null;
    $("#console-status").textContent = e.reason ? `Console closed: ${e.reason}.` : "Console closed.";
    setTimeout(() => { if (state.wsFor === name && !state.ws) state.wsFor = null; }, 2000);
  };
}

function closeConsole(msg) {
  if (state.ws) {
    const ws = state.ws;
    state.ws = null;
    ws.close();
  }
  state.wsFor = null;
  if (msg) $("#console-status").textContent = msg;
}

// The graphical display: noVNC on the service's WebSocket to the VM's VNC
// server; the VM's VNC password comes from the API (GET .../display).
async function openDisplay(name) {
  closeDisplay();
  state.rfbFor = name;
  const status = $("#display-status");
  let creds;
  try {
    creds = await api("GET", `vms/${encodeURIComponent(name)}/display`);
  } catch (err) {
    status.textContent = `No display: ${err.message}`;
    return;
  }
  if (state.rfbFor !== name) return;
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const rfb = new RFB($("#screen"), `${proto}//${location.host}/api/v1/vms/${encodeURIComponent(name)}/display`,
    { credentials: { password: creds.password } });
  rfb.scaleViewport = true;
  rfb.focusOnClick = true;
  state.rfb = rfb;
  window.wirtRfb = rfb; // for tests and the curious
  status.textContent = `Connecting to ${name}'s display…`;
  rfb.addEventListener("connect", () => { status.textContent = `${name}'s display (VNC ${creds.vnc}).`; });
  rfb.addEventListener("securityfailure", (e) => { status.textContent = `Refused: ${e.detail.reason || "bad password"}.`; });
  rfb.addEventListener("disconnect", () => {
    if (state.rfb !== rfb) return;
    state.rfb = null;
    status.textContent = "Display closed.";
    setTimeout(() => { if (state.rfbFor === name && !state.rfb) state.rfbFor = null; }, 2000);
  });
}

function closeDisplay(msg) {
  if (state.rfb) {
    const rfb = state.rfb;
    state.rfb = null;
    rfb.disconnect();
  }
  state.rfbFor = null;
  if (msg) $("#display-status").textContent = msg;
}

// Sign-in: a token in the URL's fragment (printed by `wirt serve`) or
// pasted; traded for the cookie and then dropped from the address bar.
async function login(token) {
  const r = await fetch("/login", {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-Wirt-Request": "1" },
    body: JSON.stringify({ token }),
  });
  return r.ok;
}

function showLogin() {
  const d = $("#login-dialog");
  if (!d.open) d.showModal();
}

async function main() {
  $("#host").textContent = location.host;
  const m = location.hash.match(/token=([0-9a-f]+)/);
  if (m) {
    await login(m[1]);
    history.replaceState(null, "", location.pathname);
  }
  $("#login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (await login(ev.target.token.value.trim())) {
      $("#login-dialog").close();
      refresh();
    } else {
      $("#login-error").textContent = "That token is not right.";
      $("#login-error").hidden = false;
    }
  });
  $("#new-vm").addEventListener("click", () => {
    $("#create-error").hidden = true;
    $("#create-dialog").showModal();
  });
  $("#create-form").addEventListener("submit", async (ev) => {
    if (ev.submitter && ev.submitter.value === "cancel") return;
    ev.preventDefault();
    const f = ev.target.elements; // (form.name is the form's own name)
    const body = { name: f.namedItem("name").value.trim(), from: f.from.value || undefined };
    if (f.memory.value.trim()) body.memory = f.memory.value.trim();
    if (f.cpus.value) body.cpus = Number(f.cpus.value);
    if (f.display.checked) body.display = "vnc";
    $("#create-ok").disabled = true;
    try {
      await api("POST", "vms", body);
      if (f.start.checked) await api("POST", `vms/${encodeURIComponent(body.name)}/start`, {});
      $("#create-dialog").close();
      ev.target.reset();
      await refresh();
      select(body.name);
    } catch (err) {
      $("#create-error").textContent = err.message;
      $("#create-error").hidden = false;
    } finally {
      $("#create-ok").disabled = false;
    }
  });
  for (const b of document.querySelectorAll("#detail [data-act]"))
    b.addEventListener("click", () => lifecycle(state.selected, b.dataset.act));
  for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => showTab(b.dataset.tab));
  $("#snap-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await api("POST", `vms/${encodeURIComponent(state.selected)}/snapshots`, { name: ev.target.snap.value });
      ev.target.reset();
    } catch (err) { showError(err.message); }
    loadSnapshots(state.selected);
  });
  $("#settings-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = {};
    for (const k of ["memory", "cpus", "cpu-limit", "memory-limit", "restart"]) {
      const v = ev.target[k].value.trim();
      if (v) body[k] = v;
    }
    try { await api("PATCH", `vms/${encodeURIComponent(state.selected)}`, body); showError(""); } catch (err) { showError(err.message); }
  });
  await refresh();
  watchEvents();
  setInterval(refresh, 5000); // uptimes, and a fallback if the stream drops
}

// The service's event stream: a VM changed, so show it now.
function watchEvents() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${proto}//${location.host}/api/v1/events`);
  let pending = null;
  ws.onmessage = () => {
    if (!pending) pending = setTimeout(() => { pending = null; refresh(); }, 100);
  };
  ws.onclose = () => setTimeout(watchEvents, 5000);
}

main();
