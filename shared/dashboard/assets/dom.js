// dom.js: building the page with createElement and textContent only, so
// that no customer text is ever parsed as HTML.

// h creates an element: attrs are properties or attributes (on* handlers
// as functions, never strings); children are nodes, strings or arrays.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "text") el.textContent = String(v);
    else if (k in el && typeof v !== "string") el[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

const intFmt = new Intl.NumberFormat("en-US");
export const fmtInt = (n) => (n === undefined || n === null ? "–" : intFmt.format(n));
export const fmtUSD = (cents) => `$${(cents / 100).toFixed(2)}`;
export function fmtTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  return d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
}
// fmtDuration renders milliseconds as h:mm:ss (days when long).
export function fmtDuration(ms) {
  if (ms <= 0) return "0:00:00";
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return (d ? `${d}d ` : "") + `${hh}:${mm}:${ss}`;
}

// field renders a labelled control; the label's for names the control.
let seq = 0;
export function field(labelText, control, hint) {
  const id = control.id || `f${++seq}`;
  control.id = id;
  const hintEl = hint ? h("div", { class: "muted small", id: `${id}-hint`, text: hint }) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id, text: labelText }), control, hintEl);
}

// busy disables a button while fn runs and restores it after.
export async function busy(button, fn, label = "Working…") {
  const old = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.textContent = label;
  try { return await fn(); } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = old;
  }
}

export function table(headers, rows, opts = {}) {
  return h("div", { class: "table-wrap" },
    h("table", {},
      opts.caption ? h("caption", { class: "muted small", text: opts.caption }) : null,
      h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col", class: t.num ? "num" : "", text: t.label || t })))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: String(headers.length), class: "muted", text: opts.empty || "Nothing yet." })))));
}

export function td(v, num = false) { return h("td", { class: num ? "num" : "" }, v); }
