// views.js: the session, quota, usage, keys and operator views.
import { request } from "./api.js";
import { h, clear, fmtInt, fmtUSD, fmtTime, fmtDuration, field, busy, table, td } from "./dom.js";
import { dayChart } from "./charts.js";

// Each view is (ctx, el) => cleanup?: ctx has me, say(), sayError(), every().

// ---------------------------------------------------------------- session
export async function sessionView(ctx, el) {
  const left = h("span", { class: "figure", id: "time-left", text: "–" });
  const tokensLeft = h("span", { class: "figure", id: "tokens-left", text: "–" });
  const meterFill = h("span");
  const meter = h("div", { class: "meter", role: "progressbar", "aria-label": "Tokens left",
    "aria-valuemin": "0", "aria-valuemax": "100" }, meterFill);
  const detail = h("div", { class: "muted small" });
  const actions = h("div", { class: "row" });
  const card = h("section", { class: "card", "aria-labelledby": "active-h" },
    h("h2", { id: "active-h", text: "Active session" }),
    h("div", { class: "grid" },
      h("div", {}, h("div", { class: "muted", text: "Time left" }), left),
      h("div", {}, h("div", { class: "muted", text: "Tokens left" }), tokensLeft, meter)),
    detail, actions);
  const past = h("section", { class: "card", "aria-labelledby": "past-h" }, h("h2", { id: "past-h", text: "Sessions" }));
  el.append(card, past);

  let current = null;
  const canWrite = ctx.me.permission === "WRITE" || ctx.me.permission === "ADMIN";
  const tick = () => {
    if (!current) { left.textContent = "–"; return; }
    const ms = Date.parse(current.expires_at) - Date.now();
    left.textContent = fmtDuration(ms);
    if (ms <= 0) load();
  };
  const paint = () => {
    clear(actions); clear(detail);
    if (!current) {
      tokensLeft.textContent = "–"; meterFill.style.width = "0%"; meter.setAttribute("aria-valuenow", "0");
      detail.append("No active session. Starting one spends one session of your quota.");
      if (canWrite) {
        const b = h("button", { type: "button", id: "start-session", text: "Start session" });
        b.addEventListener("click", () => busy(b, async () => {
          try { current = await request("POST", "/sessions"); ctx.say("Session started.", "ok"); paint(); listPast(); }
          catch (e) { ctx.sayError(e); }
        }, "Starting…"));
        actions.append(b);
      } else detail.append(" Starting a session needs a WRITE or ADMIN key.");
    } else {
      tokensLeft.textContent = fmtInt(current.tokens_remaining);
      const pct = current.token_limit ? (100 * current.tokens_remaining) / current.token_limit : 0;
      meterFill.style.width = `${pct.toFixed(1)}%`;
      meter.setAttribute("aria-valuenow", pct.toFixed(0));
      detail.append(`Session ${current.session_id}: started ${fmtTime(current.started_at)}, ends ${fmtTime(current.expires_at)} ` +
        `or at ${fmtInt(current.token_limit)} tokens; ${fmtInt(current.tokens_used)} used in ${fmtInt(current.requests)} requests.`);
      if (canWrite) {
        const b = h("button", { type: "button", class: "danger", id: "terminate-session", text: "Terminate" });
        b.addEventListener("click", () => busy(b, async () => {
          try { await request("POST", `/sessions/${encodeURIComponent(current.session_id)}/terminate`); current = null; ctx.say("Session terminated.", "ok"); paint(); listPast(); }
          catch (e) { ctx.sayError(e); }
        }, "Ending…"));
        actions.append(b);
      }
    }
    tick();
  };
  async function load() {
    // The list filtered on active answers 200 with or without a session
    // (GET /sessions/current answers 404 when there is none).
    try {
      const page = await request("GET", "/sessions", { query: { status: "active", limit: 1 } });
      current = page.items.find((s) => s.status === "active" && Date.parse(s.expires_at) > Date.now()) || null;
    } catch (e) { ctx.sayError(e); return; }
    paint();
  }
  let nextToken = null;
  const rows = h("tbody");
  async function listPast(more = false) {
    try {
      const page = await request("GET", "/sessions", { query: { limit: 20, next_token: more ? nextToken : undefined } });
      if (!more) clear(rows);
      for (const s of page.items) {
        rows.append(h("tr", {},
          td(h("code", { text: s.session_id })), td(h("span", { class: `pill ${s.status}`, text: s.status })),
          td(fmtTime(s.started_at)), td(s.ended_at ? fmtTime(s.ended_at) : "–"), td(s.end_reason || "–"),
          td(fmtInt(s.tokens_used), true), td(fmtInt(s.requests), true)));
      }
      nextToken = page.next_token || null;
      moreBtn.hidden = !nextToken;
    } catch (e) { ctx.sayError(e); }
  }
  const moreBtn = h("button", { type: "button", class: "secondary", text: "More sessions", hidden: true, onclick: () => listPast(true) });
  past.append(h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, ["Session", "Status", "Started", "Ended", "End reason", "Tokens", "Requests"].map((t, i) => h("th", { scope: "col", class: i >= 5 ? "num" : "", text: t })))),
    rows)), moreBtn);

  ctx.onSession = (hdr) => { if (current && hdr.remaining !== null) { current.tokens_remaining = hdr.remaining; current.tokens_used = current.token_limit - hdr.remaining; paint(); } };
  await Promise.all([load(), listPast()]);
  const t1 = setInterval(tick, 1000);
  const t2 = setInterval(load, 15000);
  return () => { clearInterval(t1); clearInterval(t2); ctx.onSession = null; };
}

// ---------------------------------------------------------------- quota
// tierFor returns the tier that applies to n sessions.
export function tierFor(tiers, n) {
  let best = tiers[0];
  for (const t of tiers) if (n >= t.min_sessions && t.min_sessions >= best.min_sessions) best = t;
  return best;
}

export async function quotaView(ctx, el) {
  const [quota, pricing] = await Promise.all([request("GET", "/sessions/quota"), ctx.pricing()]);
  const figs = h("div", { class: "grid" },
    ["remaining", "purchased", "used"].map((k) => h("div", {}, h("div", { class: "muted", text: k[0].toUpperCase() + k.slice(1) }),
      h("span", { class: "figure", id: `quota-${k}`, text: fmtInt(quota[k]) }))));
  el.append(h("section", { class: "card", "aria-labelledby": "quota-h" }, h("h2", { id: "quota-h", text: "Quota" }), figs));
  const tierRows = pricing.tiers.map((t) => h("tr", {}, td(`${t.min_sessions}+`), td(`${t.discount_pct}%`, true), td(fmtUSD(t.unit_price_cents), true)));
  const buy = h("section", { class: "card", "aria-labelledby": "buy-h" }, h("h2", { id: "buy-h", text: "Buy sessions" }),
    table([{ label: "Sessions" }, { label: "Discount", num: true }, { label: "Per session", num: true }], tierRows),
    h("p", { class: "muted small", text: `A session lasts ${Math.round(pricing.session.ttl_seconds / 3600)} hours or ${fmtInt(pricing.session.token_limit)} tokens (${pricing.token_estimate}).` }));
  el.append(buy);
  const mode = pricing.payments ? pricing.payments.mode : "placeholder";
  if (mode !== "placeholder") {
    buy.append(h("p", { class: "msg", id: "payments-off", text: "Purchases are disabled on this deployment (payments mode: " + mode + "). Ask the operator to add sessions to your account." }));
    return;
  }
  if (ctx.me.permission !== "ADMIN") {
    buy.append(h("p", { class: "msg", text: "Buying sessions needs an ADMIN key of this account." }));
    return;
  }
  const qty = h("input", { type: "number", min: "1", max: "10000", step: "1", value: "1", inputMode: "numeric", id: "buy-qty" });
  const price = h("output", { for: "buy-qty", id: "buy-price", class: "figure" });
  const note = h("p", { class: "muted small", text: "Placeholder payments: no money moves; the purchase is recorded and the quota raised." });
  const show = () => {
    const n = Math.max(0, Math.floor(Number(qty.value) || 0));
    const t = tierFor(pricing.tiers, n);
    price.textContent = n ? `${fmtUSD(n * t.unit_price_cents)} (${t.discount_pct}% off)` : "–";
  };
  qty.addEventListener("input", show); show();
  const b = h("button", { type: "submit", id: "buy", text: "Buy" });
  const form = h("form", { class: "row" }, field("Number of sessions", qty), h("div", {}, h("div", { class: "muted", text: "Price" }), price), b);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const n = Math.floor(Number(qty.value));
    if (!(n >= 1)) { ctx.say("Enter a whole number of sessions, 1 or more.", "error"); return; }
    busy(b, async () => {
      try {
        const p = await request("POST", "/sessions/quota/add", { body: { sessions: n, idempotency_key: crypto.randomUUID() } });
        ctx.say(`Bought ${p.sessions} sessions for ${fmtUSD(p.total_price_cents)} (payment: ${p.payment_status}).`, "ok");
        const q = await request("GET", "/sessions/quota");
        for (const k of ["remaining", "purchased", "used"]) el.querySelector(`#quota-${k}`).textContent = fmtInt(q[k]);
      } catch (e) { ctx.sayError(e); }
    }, "Buying…");
  });
  buy.append(form, note);
}

// ---------------------------------------------------------------- usage
const isoDay = (d) => d.toISOString().slice(0, 10);

function rangeForm(onRange) {
  const today = new Date();
  const from = h("input", { type: "date", value: isoDay(new Date(today.getTime() - 29 * 864e5)) });
  const to = h("input", { type: "date", value: isoDay(today) });
  const preset = h("select", {}, [7, 30, 90].map((n) => h("option", { value: String(n), text: `Last ${n} days`, selected: n === 30 })));
  preset.addEventListener("change", () => {
    const n = Number(preset.value);
    from.value = isoDay(new Date(Date.now() - (n - 1) * 864e5)); to.value = isoDay(new Date());
    onRange(from.value, to.value);
  });
  const b = h("button", { type: "submit", class: "secondary", text: "Show" });
  const form = h("form", { class: "row" }, field("Range", preset), field("From", from), field("To", to), b);
  form.addEventListener("submit", (ev) => { ev.preventDefault(); busy(b, () => onRange(from.value, to.value), "Loading…"); });
  return { form, from, to };
}

function barList(items, labelOf, metric) {
  const max = Math.max(1, ...items.map((i) => i[metric]));
  return table([{ label: "" }, { label: "Requests", num: true }, { label: "Tokens", num: true }, { label: "429s", num: true }, { label: "" }],
    items.map((i) => h("tr", {}, td(labelOf(i)), td(fmtInt(i.requests), true), td(fmtInt(i.tokens), true), td(fmtInt(i.rate_limited), true),
      td(h("div", { class: "bar", "aria-hidden": "true" }, h("span", { style: null, "data-w": String((100 * i[metric]) / max) }))))));
}

function sizeBars(root) {
  for (const s of root.querySelectorAll(".bar > span[data-w]")) s.style.width = `${Number(s.dataset.w).toFixed(1)}%`;
}

// dense fills the days between from and to with zeros, for the chart.
function dense(byDay, from, to) {
  const m = new Map(byDay.map((d) => [d.day, d]));
  const xs = [], req = [], tok = [], rl = [];
  for (let t = Date.parse(from + "T00:00:00Z"); t <= Date.parse(to + "T00:00:00Z"); t += 864e5) {
    const d = m.get(isoDay(new Date(t))) || {};
    xs.push(t / 1000); req.push(d.requests || 0); tok.push(d.tokens || 0); rl.push(d.rate_limited || 0);
  }
  return [xs, req, tok, rl];
}

export async function usageView(ctx, el) {
  const out = h("div");
  let charts = [];
  async function show(from, to) {
    try {
      const u = await request("GET", "/usage", { query: { from, to } });
      charts.forEach((c) => c.destroy()); charts = [];
      clear(out);
      const figs = h("div", { class: "grid" }, [["Requests", u.requests], ["Tokens", u.tokens], ["429s", u.rate_limited], ["Errors", u.errors]]
        .map(([l, v]) => h("div", {}, h("div", { class: "muted", text: l }), h("span", { class: "figure", text: fmtInt(v) }))));
      const c1 = h("div", { class: "chart", id: "usage-requests-chart", role: "img", "aria-label": "Requests and 429s by day" });
      const c2 = h("div", { class: "chart", id: "usage-tokens-chart", role: "img", "aria-label": "Tokens by day" });
      const byEp = barList(u.by_endpoint || [], (i) => h("code", { text: i.endpoint }), "requests");
      const byKey = barList(u.by_key || [], (i) => h("code", { text: ctx.keyName(i.key_id) }), "requests");
      out.append(h("section", { class: "card" }, h("h2", { text: `Usage ${u.from} to ${u.to}` }), figs),
        h("section", { class: "card" }, h("h3", { text: "Requests and 429s by day" }), c1, h("h3", { text: "Tokens by day" }), c2),
        h("section", { class: "card" }, h("h3", { text: "By endpoint" }), byEp, h("h3", { text: "By key" }), byKey));
      sizeBars(out);
      const [xs, req, tok, rl] = dense(u.by_day || [], u.from, u.to);
      charts.push(dayChart(c1, xs, [["requests", req, "#1d5fd1"], ["429s", rl, "#b3261e"]]));
      charts.push(dayChart(c2, xs, [["tokens", tok, "#137a3a"]]));
    } catch (e) { ctx.sayError(e); }
  }
  const { form, from, to } = rangeForm(show);
  el.append(h("section", { class: "card" }, h("h2", { text: "Usage" }), form), out);
  await show(from.value, to.value);
  return () => charts.forEach((c) => c.destroy());
}

// ---------------------------------------------------------------- keys
export async function keysView(ctx, el) {
  const admin = ctx.me.permission === "ADMIN";
  const list = h("tbody");
  const secret = h("div", { "aria-live": "polite" });
  const detail = h("div");
  async function load() {
    const page = await request("GET", "/keys", { query: { limit: 100 } });
    ctx.rememberKeys(page.items);
    clear(list);
    for (const k of page.items) {
      const revoked = Boolean(k.revoked_at);
      const acts = h("td", { class: "row" });
      const usageB = h("button", { type: "button", class: "secondary", text: "Usage", "aria-label": `Usage of key ${k.name}` });
      usageB.addEventListener("click", () => busy(usageB, () => keyUsage(k), "Loading…"));
      acts.append(usageB);
      if (admin && !revoked) {
        const rot = h("button", { type: "button", class: "secondary", text: "Rotate", "aria-label": `Rotate key ${k.name}` });
        rot.addEventListener("click", () => busy(rot, async () => {
          try { const n = await request("POST", `/keys/${encodeURIComponent(k.key_id)}/rotate`); showSecret(n, "rotated"); await load(); } catch (e) { ctx.sayError(e); }
        }, "Rotating…"));
        const rev = h("button", { type: "button", class: "danger", text: "Revoke", "aria-label": `Revoke key ${k.name}` });
        rev.addEventListener("click", () => busy(rev, async () => {
          try { await request("DELETE", `/keys/${encodeURIComponent(k.key_id)}`); ctx.say(`Key ${k.name} revoked.`, "ok"); await load(); } catch (e) { ctx.sayError(e); }
        }, "Revoking…"));
        acts.append(rot, rev);
      }
      list.append(h("tr", { "data-key-id": k.key_id }, td(h("span", { class: "key-name", text: k.name })), td(h("code", { text: k.prefix + "…" })),
        td(k.permission), td(fmtInt(k.rate_limit_per_minute), true), td(fmtTime(k.created_at)),
        td(h("span", { class: `pill ${revoked ? "revoked" : "active"}`, text: revoked ? "revoked" : "active" })), acts));
    }
  }
  async function keyUsage(k) {
    try {
      const u = await request("GET", `/keys/${encodeURIComponent(k.key_id)}/usage`);
      clear(detail).append(h("section", { class: "card" }, h("h3", {}, "Usage of ", h("span", { text: k.name })),
        h("p", { class: "muted", text: `${fmtInt(u.requests)} requests, ${fmtInt(u.tokens)} tokens, ${fmtInt(u.rate_limited)} rate-limited, from ${u.from} to ${u.to}.` }),
        barList(u.by_endpoint || [], (i) => h("code", { text: i.endpoint }), "requests")));
      sizeBars(detail);
    } catch (e) { ctx.sayError(e); }
  }
  function showSecret(k, what) {
    const copy = h("button", { type: "button", class: "secondary", text: "Copy" });
    copy.addEventListener("click", async () => {
      try { await navigator.clipboard.writeText(k.key); ctx.say("Key copied.", "ok"); }
      catch { ctx.say("Copy failed: select the key and copy it by hand.", "error"); }
    });
    clear(secret).append(h("div", { class: "card" }, h("h3", { text: `New key (${what}): shown this once` }),
      h("div", { class: "secret", id: "new-key", text: k.key }), h("div", { class: "row" }, copy,
        h("button", { type: "button", class: "secondary", text: "Done", onclick: () => clear(secret) }))));
  }
  const head = h("section", { class: "card" }, h("h2", { text: "API keys" }));
  if (admin) {
    const name = h("input", { type: "text", maxLength: 64, required: true, id: "key-name", autocomplete: "off" });
    const perm = h("select", { id: "key-permission" }, ["READ", "WRITE", "ADMIN"].map((p) => h("option", { value: p, text: p })));
    const rate = h("input", { type: "number", min: "1", step: "1", value: "60", id: "key-rate" });
    const b = h("button", { type: "submit", id: "create-key", text: "Create key" });
    const form = h("form", { class: "row" }, field("Name", name), field("Permission", perm), field("Requests per minute", rate), b);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      busy(b, async () => {
        try {
          const k = await request("POST", "/keys", { body: { name: name.value, permission: perm.value, rate_limit_per_minute: Math.floor(Number(rate.value)) } });
          showSecret(k, "created"); name.value = ""; await load();
        } catch (e) { ctx.sayError(e); }
      }, "Creating…");
    });
    head.append(form);
  } else head.append(h("p", { class: "muted", text: "Creating, rotating and revoking keys needs an ADMIN key." }));
  el.append(head, secret, h("section", { class: "card" }, h("div", { class: "table-wrap" }, h("table", { id: "keys-table" },
    h("thead", {}, h("tr", {}, ["Name", "Prefix", "Permission", "Per minute", "Created", "Status", ""].map((t, i) => h("th", { scope: "col", class: i === 3 ? "num" : "", text: t })))),
    list))), detail);
  await load();
}

// ---------------------------------------------------------------- operator
export async function operatorView(ctx, el) {
  const out = h("div");
  async function show(from, to) {
    try {
      // Pages of accounts are summed here; each page is bounded in cost.
      let token, agg = null;
      do {
        const page = await request("GET", "/operator/metrics", { query: { from, to, next_token: token, limit: 100 } });
        agg = agg ? mergeMetrics(agg, page) : page;
        token = page.next_token;
      } while (token);
      clear(out).append(renderMetrics(agg));
      sizeBars(out);
    } catch (e) { ctx.sayError(e); }
  }
  const { form, from, to } = rangeForm(show);
  el.append(h("section", { class: "card" }, h("h2", { text: "Operator: business figures" }), form), out);
  await show(from.value, to.value);
}

// mergeMetrics adds the sums of two pages; averages are derived from sums.
export function mergeMetrics(a, b) {
  const m = structuredClone(a);
  for (const k of ["accounts", "active_accounts", "sessions_started", "sessions_ended", "session_duration_seconds_total",
    "tokens_total", "revenue_cents", "sessions_purchased", "requests", "rate_limited"]) m[k] = (m[k] || 0) + (b[k] || 0);
  const ep = new Map((m.by_endpoint || []).map((e) => [e.endpoint, e]));
  for (const e of b.by_endpoint || []) {
    const x = ep.get(e.endpoint) || { endpoint: e.endpoint, requests: 0, tokens: 0, rate_limited: 0 };
    x.requests += e.requests; x.tokens += e.tokens; x.rate_limited += e.rate_limited; ep.set(e.endpoint, x);
  }
  m.by_endpoint = [...ep.values()].sort((x, y) => y.requests - x.requests);
  const days = new Map((m.sessions_by_day || []).map((d) => [d.day, d.sessions]));
  for (const d of b.sessions_by_day || []) days.set(d.day, (days.get(d.day) || 0) + d.sessions);
  m.sessions_by_day = [...days.entries()].sort().map(([day, sessions]) => ({ day, sessions }));
  const weeks = new Map((m.retention || []).map((w) => [w.week, { ...w }]));
  for (const w of b.retention || []) {
    const x = weeks.get(w.week) || { week: w.week, active: 0, retained: 0, previous_active: 0 };
    x.active += w.active; x.retained += w.retained; x.previous_active += w.previous_active || 0; weeks.set(w.week, x);
  }
  m.retention = [...weeks.values()].sort((x, y) => (x.week < y.week ? -1 : 1));
  return m;
}

function renderMetrics(m) {
  const days = Math.max(1, (m.sessions_by_day || []).length);
  const avg = (a, b) => (b ? a / b : 0);
  const cards = [
    ["Sessions started", fmtInt(m.sessions_started)],
    ["Sessions a day", avg(m.sessions_started, days).toFixed(2)],
    ["Average session value", fmtUSD(Math.round(avg(m.revenue_cents, m.sessions_purchased)))],
    ["Average session duration", fmtDuration(1000 * avg(m.session_duration_seconds_total, m.sessions_ended))],
    ["Tokens per session", fmtInt(Math.round(avg(m.tokens_total, m.sessions_started)))],
    ["Rate-limit hits", fmtInt(m.rate_limited)],
    ["Accounts (active)", `${fmtInt(m.accounts)} (${fmtInt(m.active_accounts)})`],
  ];
  return h("div", {},
    h("section", { class: "card" }, h("div", { class: "grid", id: "operator-figures" }, cards.map(([l, v]) =>
      h("div", {}, h("div", { class: "muted", text: l }), h("span", { class: "figure", text: v }))))),
    h("section", { class: "card" }, h("h3", { text: "Feature usage" }), barList(m.by_endpoint || [], (i) => h("code", { text: i.endpoint }), "requests")),
    h("section", { class: "card" }, h("h3", { text: "Retention: accounts active in consecutive weeks" }),
      table([{ label: "Week" }, { label: "Active", num: true }, { label: "Also active the week before", num: true }, { label: "Retained", num: true }],
        (m.retention || []).map((w) => h("tr", {}, td(w.week), td(fmtInt(w.active), true), td(fmtInt(w.retained), true),
          td(w.previous_active ? `${((100 * w.retained) / w.previous_active).toFixed(0)}%` : "–", true))))));
}
