// analysis.js: candles in, indicators and the Wyckoff analysis out, drawn
// on a candlestick chart with what each call cost.
import { request } from "./api.js";
import { h, clear, fmtInt, field, busy } from "./dom.js";
import { candleChart } from "./charts.js";

// parseCandles reads CSV (time,open,high,low,close,volume) or JSON (rows
// or columns) into rows {t,o,h,l,c,v}. It throws an Error naming the line.
export function parseCandles(text) {
  const s = text.trim();
  if (!s) throw new Error("paste or upload candles first");
  if (s[0] === "{" || s[0] === "[") {
    let j;
    try { j = JSON.parse(s); } catch (e) { throw new Error(`the JSON does not parse: ${e.message}`); }
    if (Array.isArray(j)) j = { candles: j };
    if (Array.isArray(j.candles)) return j.candles.map((c) => ({ t: +c.t, o: +c.o, h: +c.h, l: +c.l, c: +c.c, v: +c.v }));
    if (Array.isArray(j.time)) return j.time.map((t, i) => ({ t: +t, o: +j.open[i], h: +j.high[i], l: +j.low[i], c: +j.close[i], v: +j.volume[i] }));
    throw new Error("JSON candles come as rows ({\"candles\":[...]}) or columns (time, open, high, low, close, volume)");
  }
  const lines = s.split(/\r?\n/).filter((l) => l.trim() !== "");
  const head = lines[0].split(",").map((x) => x.trim().toLowerCase());
  const want = ["time", "open", "high", "low", "close", "volume"];
  const idx = want.map((w) => head.indexOf(w));
  if (idx.some((i) => i < 0)) throw new Error("the CSV header must name time, open, high, low, close and volume");
  return lines.slice(1).map((l, n) => {
    const f = l.split(",");
    const row = idx.map((i) => Number(f[i]));
    if (row.some((x) => !Number.isFinite(x))) throw new Error(`CSV line ${n + 2} has a value that is not a number`);
    return { t: row[0], o: row[1], h: row[2], l: row[3], c: row[4], v: row[5] };
  });
}

// num shows a price with six significant digits.
const num = (x) => Number(Number(x).toPrecision(6)).toString();

// columns is the cheapest JSON form of the candles (fewest bytes, so
// fewest tokens).
export function columns(rows) {
  return { time: rows.map((r) => r.t), open: rows.map((r) => r.o), high: rows.map((r) => r.h),
    low: rows.map((r) => r.l), close: rows.map((r) => r.c), volume: rows.map((r) => r.v) };
}

// sample makes a seeded random walk of n daily candles to try things on.
export function sample(n = 300, seed = 7) {
  let x = seed >>> 0;
  const rnd = () => ((x = (x * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const rows = [];
  let p = 100, t = 1704067200;
  for (let i = 0; i < n; i++) {
    const o = p, c = Math.max(1, o * (1 + (rnd() - 0.5) * 0.04));
    const hi = Math.max(o, c) * (1 + rnd() * 0.01), lo = Math.min(o, c) * (1 - rnd() * 0.01);
    rows.push({ t, o: +o.toFixed(2), h: +hi.toFixed(2), l: +lo.toFixed(2), c: +c.toFixed(2), v: Math.round(1000 + rnd() * 9000) });
    p = c; t += 86400;
  }
  return rows;
}

export async function analysisView(ctx, el) {
  const catalog = await ctx.catalog();
  const hasWyckoff = await ctx.hasRoute("/api/v1/analysis/wyckoff");
  const input = h("textarea", { id: "candles-input", spellcheck: false, placeholder: "time,open,high,low,close,volume\n1704067200,100,101,99,100.5,1200" });
  const file = h("input", { type: "file", id: "candles-file", accept: ".csv,.json,text/csv,application/json" });
  file.addEventListener("change", async () => { if (file.files[0]) input.value = await file.files[0].text(); });
  const sampleB = h("button", { type: "button", class: "secondary", id: "load-sample", text: "Load a sample" });
  sampleB.addEventListener("click", () => {
    const rows = sample();
    input.value = "time,open,high,low,close,volume\n" + rows.map((r) => [r.t, r.o, r.h, r.l, r.c, r.v].join(",")).join("\n");
  });

  // Indicator picker: the catalog's names and each one's parameters.
  const pick = h("select", { id: "indicator-pick" }, catalog.indicators.map((i) => h("option", { value: i.name, text: `${i.name}: ${i.title}` })));
  const params = h("div", { class: "row", id: "indicator-params" });
  const chosen = [];
  const chips = h("ul", { class: "list-plain", id: "chosen-indicators", "aria-label": "Chosen indicators" });
  const paramInputs = () => {
    clear(params);
    const def = catalog.indicators.find((i) => i.name === pick.value);
    for (const p of def.params) {
      const inp = h("input", { type: "number", value: String(p.default), min: p.minimum !== undefined ? String(p.minimum) : null,
        max: p.maximum !== undefined ? String(p.maximum) : null, step: p.type === "integer" ? "1" : "any", "data-param": p.name });
      params.append(field(p.name, inp, p.description));
    }
  };
  pick.addEventListener("change", paramInputs); paramInputs();
  const addB = h("button", { type: "button", class: "secondary", id: "add-indicator", text: "Add indicator" });
  const renderChips = () => {
    clear(chips);
    chosen.forEach((c, i) => {
      const rm = h("button", { type: "button", class: "secondary", text: "Remove", "aria-label": `Remove ${c.label}` });
      rm.addEventListener("click", () => { chosen.splice(i, 1); renderChips(); });
      chips.append(h("li", { class: "row" }, h("span", { text: c.label }), rm));
    });
  };
  addB.addEventListener("click", () => {
    const p = {};
    for (const inp of params.querySelectorAll("input[data-param]")) p[inp.dataset.param] = Number(inp.value);
    const label = `${pick.value}(${Object.values(p).join(", ")})`;
    chosen.push({ name: pick.value, params: p, label, category: catalog.indicators.find((i) => i.name === pick.value).category });
    renderChips();
  });
  const wy = hasWyckoff ? h("input", { type: "checkbox", id: "wyckoff-on", checked: true }) : null;
  const run = h("button", { type: "submit", id: "run-analysis", text: "Run" });
  const costs = h("div", { id: "analysis-cost", class: "muted", "aria-live": "polite" });
  const chartBox = h("div", { class: "chart tall", id: "analysis-chart", role: "img", "aria-label": "Candlestick chart with indicators and Wyckoff events" });
  const tip = h("div", { class: "tooltip", id: "event-tip", hidden: true, role: "tooltip" });
  chartBox.append(tip);
  const events = h("ol", { class: "events", id: "wyckoff-events" });
  const form = h("form", {},
    field("Candles (CSV or JSON)", input, "CSV with a time,open,high,low,close,volume header, or JSON rows or columns; times in Unix seconds."),
    h("div", { class: "row" }, field("Or upload a file", file), sampleB),
    h("h3", { text: "Indicators" }), h("div", { class: "row" }, field("Indicator", pick), addB), params, chips,
    wy ? h("div", { class: "row" }, h("label", { for: "wyckoff-on", class: "inline" }, wy, " Wyckoff analysis (ranges, events with their evidence, phases)")) : null,
    h("div", { class: "row" }, run));
  el.append(h("section", { class: "card" }, h("h2", { text: "Analysis" }), form), h("section", { class: "card" }, costs, chartBox, events));

  let drawn = null;
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    busy(run, async () => {
      let rows;
      try { rows = parseCandles(input.value); } catch (e) { ctx.say(`Candles: ${e.message}`, "error"); return; }
      if (!chosen.length && !(wy && wy.checked)) { ctx.say("Add an indicator or tick the Wyckoff analysis.", "error"); return; }
      const cols = columns(rows);
      const lines = [];
      const spent = [];
      let wyck = null;
      try {
        if (chosen.length === 1) {
          const c = chosen[0];
          const r = await request("POST", `/indicators/${encodeURIComponent(c.name)}`, { body: { ...cols, params: c.params } });
          spent.push([c.label, r.meta]);
          for (const [out, vals] of Object.entries(r.values)) lines.push({ label: `${c.label} ${out}`, values: vals, category: c.category });
        } else if (chosen.length > 1) {
          const r = await request("POST", "/indicators/batch", { body: { ...cols, indicators: chosen.map((c) => ({ name: c.name, params: c.params })) } });
          spent.push(["batch", r.meta]);
          r.results.forEach((res, i) => {
            if (res.error) { ctx.say(`${chosen[i].label}: ${res.error.detail}`, "error"); return; }
            for (const [out, vals] of Object.entries(res.values)) lines.push({ label: `${chosen[i].label} ${out}`, values: vals, category: chosen[i].category });
          });
        }
        if (wy && wy.checked) {
          wyck = await request("POST", "/analysis/wyckoff", { body: cols });
          spent.push(["wyckoff", wyck.meta]);
        }
      } catch (e) { ctx.sayError(e); }
      if (!spent.length) return;
      clear(costs);
      for (const [what, meta] of spent) {
        costs.append(h("div", { class: "cost", text: `${what}: ${fmtInt(meta.tokens)} tokens` + (meta.tokens_remaining != null ? `, ${fmtInt(meta.tokens_remaining)} left in the session` : "") }));
        if (meta.tokens_remaining != null) ctx.sessionTokens(meta.tokens_remaining);
      }
      if (drawn) drawn.destroy();
      drawn = candleChart(chartBox, tip, rows, lines, wyck);
      clear(events);
      for (const e of (wyck && wyck.events) || []) {
        events.append(h("li", {}, h("strong", { text: `${e.type} at bar ${e.bar} (known at bar ${e.confirmed_at}, phase ${e.phase}, score ${Number(e.score).toFixed(2)})` }),
          " ", h("span", { text: e.text })));
      }
      for (const r of (wyck && wyck.ranges) || []) {
        events.append(h("li", { class: "muted" }, h("span", { text: `${r.kind} range from bar ${r.start}${r.end >= 0 ? ` to ${r.end}` : " (open)"}: support ${num(r.support)}, resistance ${num(r.resistance)}, phase ${r.phase}, bias ${r.bias}` })));
      }
    }, "Running…");
  });
  return () => { if (drawn) drawn.destroy(); };
}
