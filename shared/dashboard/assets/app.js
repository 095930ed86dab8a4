// app.js: sign-in, the view router and what every view shares.
import { request, keyStore, APIError, onHeaders } from "./api.js";
import { h, clear, field, busy } from "./dom.js";
import { sessionView, quotaView, usageView, keysView, operatorView } from "./views.js";
import { analysisView } from "./analysis.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const status = document.getElementById("status");
const who = document.getElementById("who");
const signout = document.getElementById("signout");

const views = { session: sessionView, quota: quotaView, usage: usageView, keys: keysView, analysis: analysisView, operator: operatorView };

function say(text, kind = "") {
  clear(status);
  if (text) status.append(h("div", { class: `msg ${kind}`, text }));
}
function sayError(e) {
  if (e instanceof APIError) say(e.describe(), "error");
  else say(String(e && e.message ? e.message : e), "error");
  if (e instanceof APIError && e.status === 401) signOut("Your key was refused (revoked, expired or unknown): sign in again.");
}

const once = (fn) => { let p; return () => (p ||= fn().catch((e) => { p = undefined; throw e; })); };
const names = new Map();
const ctx = {
  me: null,
  say, sayError,
  onSession: null,
  pricing: once(() => request("GET", "/pricing")),
  catalog: once(() => request("GET", "/indicators")),
  openapi: once(() => request("GET", "/openapi.json")),
  async hasRoute(path) { try { const d = await ctx.openapi(); return Boolean(d.paths && d.paths[path]); } catch { return false; } },
  rememberKeys(items) { for (const k of items) names.set(k.key_id, `${k.name} (${k.prefix}…)`); },
  keyName(id) { return names.get(id) || id; },
  sessionTokens(remaining) { if (ctx.onSession) ctx.onSession({ remaining }); },
};
onHeaders((hd) => {
  const r = hd.get("X-Session-Tokens-Remaining");
  if (r !== null && ctx.onSession) ctx.onSession({ remaining: Number(r) });
});

// identify finds out who the key is: an account key (its own entry in the
// key list, by prefix) or the operator's master key.
async function identify(key) {
  try {
    const page = await request("GET", "/keys", { key, query: { limit: 100 } });
    const mine = page.items.find((k) => key.startsWith(k.prefix));
    ctx.rememberKeys(page.items);
    return { master: false, permission: mine ? mine.permission : "READ", account_id: mine?.account_id || page.items[0]?.account_id, name: mine?.name || "" };
  } catch (e) {
    if (!(e instanceof APIError) || e.status === 401) throw e;
    await request("GET", "/operator/metrics", { key, query: { limit: 1 } });
    return { master: true, permission: "MASTER", account_id: "", name: "operator" };
  }
}

function signOut(message) {
  keyStore.clear();
  ctx.me = null;
  if (cleanup) { cleanup(); cleanup = null; }
  nav.hidden = true; signout.hidden = true; who.textContent = "";
  if (location.hash) history.replaceState(null, "", location.pathname);
  showSignIn();
  if (message) say(message, "");
}
signout.addEventListener("click", () => signOut("Signed out: the key is forgotten."));

function showSignIn() {
  clear(main);
  const key = h("input", { type: "password", id: "api-key", autocomplete: "off", spellcheck: false, required: true });
  const b = h("button", { type: "submit", id: "sign-in", text: "Sign in" });
  const form = h("form", { class: "card", "aria-labelledby": "signin-h" },
    h("h2", { id: "signin-h", text: "Sign in with your API key" }),
    field("API key", key, "Kept in this browser tab only, and forgotten when you sign out or close the tab."), h("div", { class: "row" }, b));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const k = key.value.trim();
    busy(b, async () => {
      try {
        const me = await identify(k);
        keyStore.set(k);
        key.value = "";
        start(me);
      } catch (e) {
        if (e instanceof APIError && e.status === 401) say("That key was refused: check it and try again.", "error");
        else sayError(e);
      }
    }, "Signing in…");
  });
  main.append(form);
  key.focus();
}

let cleanup = null;
function start(me) {
  ctx.me = me;
  say("");
  who.textContent = me.master ? "Operator (master key)" : `${me.name || "key"} · ${me.permission} · ${me.account_id}`;
  signout.hidden = false;
  nav.hidden = false;
  for (const a of nav.querySelectorAll("a")) {
    const v = a.dataset.view;
    a.parentElement.hidden = me.master ? v !== "operator" : v === "operator";
    a.hidden = false;
  }
  route();
}

async function route() {
  if (!ctx.me) return;
  let v = location.hash.slice(1);
  if (!views[v] || (ctx.me.master ? v !== "operator" : v === "operator")) v = ctx.me.master ? "operator" : "session";
  for (const a of nav.querySelectorAll("a")) {
    if (a.dataset.view === v) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  if (cleanup) { cleanup(); cleanup = null; }
  say("");
  clear(main);
  const el = h("div", { "aria-busy": "true" }, h("p", { class: "muted", text: "Loading…" }));
  main.append(el);
  try {
    const view = h("div", { id: `view-${v}` });
    const c = await views[v](ctx, view);
    clear(main).append(view);
    cleanup = typeof c === "function" ? c : null;
  } catch (e) {
    clear(main);
    sayError(e);
  }
}
window.addEventListener("hashchange", route);

(async function boot() {
  const k = keyStore.get();
  if (!k) { showSignIn(); return; }
  try { start(await identify(k)); } catch (e) { signOut(); if (!(e instanceof APIError && e.status === 401)) sayError(e); }
})();
