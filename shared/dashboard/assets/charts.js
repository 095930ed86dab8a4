// charts.js: uPlot for usage over time, Lightweight Charts for candles.
import uPlot from "./uPlot.esm.js";
import { createChart, CandlestickSeries, LineSeries, HistogramSeries, createSeriesMarkers, ColorType } from "./lightweight-charts.standalone.production.mjs";

function width(el) { return Math.max(280, el.clientWidth || 280); }

// dayChart draws series by UTC day into el and follows its width.
export function dayChart(el, xs, series) {
  const opts = {
    width: width(el), height: 220,
    scales: { x: { time: true } },
    axes: [{}, { size: 60 }],
    series: [{ label: "day", value: (u, v) => (v == null ? "–" : new Date(v * 1000).toISOString().slice(0, 10)) },
      ...series.map(([label, , color]) => ({ label, stroke: color, width: 2, points: { show: true, size: 5 } }))],
  };
  const plot = new uPlot(opts, [xs, ...series.map((s) => s[1])], el);
  const ro = new ResizeObserver(() => plot.setSize({ width: width(el), height: 220 }));
  ro.observe(el);
  return { destroy() { ro.disconnect(); plot.destroy(); } };
}

const palette = ["#1d5fd1", "#e67e22", "#8e44ad", "#16a085", "#c0392b", "#2c3e50", "#d35400", "#27ae60"];
const OVERLAY = new Set(["overlap", "volatility_bands"]);

// eventColor: accumulation events green, distribution red, the rest grey.
const ACC = new Set(["PS", "SC", "AR", "ST", "Spring", "Test", "SOS", "LPS", "BU", "shakeout"]);
const DIST = new Set(["PSY", "BC", "UT", "UTAD", "SOW", "LPSY"]);
function eventColor(ev) {
  const t = ev.type;
  if (DIST.has(t)) return "#c0392b";
  if (ACC.has(t)) return "#1a7f4b";
  return "#5b6472";
}

// candleChart draws candles, indicator lines (overlays on the price pane,
// the others in a second pane), Wyckoff ranges as support and resistance
// lines and events as markers whose evidence shows on hover.
export function candleChart(el, tip, candles, lines, wyckoff) {
  const chart = createChart(el, {
    autoSize: true,
    layout: { background: { type: ColorType.Solid, color: "#ffffff" }, textColor: "#16191f", attributionLogo: false },
    grid: { vertLines: { color: "#eef0f3" }, horzLines: { color: "#eef0f3" } },
    timeScale: { timeVisible: true, secondsVisible: false },
  });
  const price = chart.addSeries(CandlestickSeries, { upColor: "#1a7f4b", downColor: "#c0392b", borderVisible: false, wickUpColor: "#1a7f4b", wickDownColor: "#c0392b" });
  price.setData(candles.map((c) => ({ time: c.t, open: c.o, high: c.h, low: c.l, close: c.c })));
  const vol = chart.addSeries(HistogramSeries, { priceScaleId: "vol", priceFormat: { type: "volume" }, color: "rgba(91,100,114,.35)" });
  vol.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  vol.setData(candles.map((c) => ({ time: c.t, value: c.v })));
  let i = 0, lower = false;
  for (const ln of lines) {
    const pane = OVERLAY.has(ln.category) ? 0 : 1;
    if (pane) lower = true;
    const s = chart.addSeries(LineSeries, { color: palette[i++ % palette.length], lineWidth: 2, title: ln.label, priceLineVisible: false, lastValueVisible: false }, pane);
    s.setData(ln.values.map((v, j) => (v == null ? { time: candles[j].t } : { time: candles[j].t, value: v })));
  }
  if (lower) chart.panes()[1]?.setHeight(140);
  const byTime = new Map();
  if (wyckoff) {
    for (const r of wyckoff.ranges || []) {
      // end is -1 while the range is still open: draw it to the last bar.
      const last = r.end >= 0 ? Math.min(r.end, candles.length - 1) : candles.length - 1;
      const a = candles[r.start]?.t, b = candles[last]?.t;
      if (a === undefined || b === undefined) continue;
      for (const [lvl, color] of [[r.support, "#1a7f4b"], [r.resistance, "#c0392b"]]) {
        if (typeof lvl !== "number") continue;
        const s = chart.addSeries(LineSeries, { color, lineWidth: 1, lineStyle: 2, priceLineVisible: false, lastValueVisible: false, crosshairMarkerVisible: false });
        s.setData(a === b ? [{ time: a, value: lvl }] : [{ time: a, value: lvl }, { time: b, value: lvl }]);
      }
    }
    const markers = [];
    for (const ev of wyckoff.events || []) {
      const c = candles[ev.bar];
      if (!c) continue;
      const t = ev.type;
      const up = DIST.has(t);
      markers.push({ time: c.t, position: up ? "aboveBar" : "belowBar", color: eventColor(ev), shape: up ? "arrowDown" : "arrowUp", text: t });
      const list = byTime.get(c.t) || [];
      list.push(ev); byTime.set(c.t, list);
    }
    markers.sort((x, y) => x.time - y.time);
    createSeriesMarkers(price, markers);
  }
  chart.subscribeCrosshairMove((p) => {
    const evs = p.time !== undefined ? byTime.get(p.time) : undefined;
    if (!evs || !p.point) { tip.hidden = true; return; }
    tip.textContent = "";
    for (const ev of evs) {
      const head = document.createElement("strong");
      head.textContent = `${ev.type} at bar ${ev.bar}, phase ${ev.phase}, score ${Number(ev.score).toFixed(2)}`;
      const body = document.createElement("div");
      body.textContent = ev.text;
      tip.append(head, body);
      for (const alt of ev.alternatives || []) {
        const a = document.createElement("div");
        a.className = "muted";
        a.textContent = `or ${alt.type} (score ${Number(alt.score).toFixed(2)}): ${alt.why}`;
        tip.append(a);
      }
    }
    tip.hidden = false;
    tip.style.left = `${Math.min(p.point.x + 12, el.clientWidth - 240)}px`;
    tip.style.top = `${Math.max(0, p.point.y - 10)}px`;
  });
  chart.timeScale().fitContent();
  return { chart, byTime, destroy() { chart.remove(); } };
}
