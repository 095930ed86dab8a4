// The README's walkthrough written against the types openapi-typescript
// generates from the served document (./api, made by the test). The test
// only type-checks it (tsc --noEmit --strict): a renamed field, a lost
// response or a schema the generator cannot type fails the build.
import type { components, paths } from "./api";

type Schemas = components["schemas"];
type JSONBody<Op, Status extends number> = Op extends { responses: { [S in Status]: { content: { "application/json": infer T } } } }
  ? T
  : never;
type Problem = Schemas["Problem"];

async function call<T>(url: string, init: RequestInit, want: number): Promise<T> {
  const r = await fetch(url, init);
  if (r.status !== want) {
    const p = (await r.json()) as Problem;
    throw new Error(`${init.method ?? "GET"} ${url}: ${p.status} ${p.code}: ${p.detail}`);
  }
  return (await r.json()) as T;
}

function keyed(key: string, contentType?: string): HeadersInit {
  return contentType ? { "X-API-Key": key, "Content-Type": contentType } : { "X-API-Key": key };
}

export async function walkthrough(base: string, master: string): Promise<Schemas["UsageReport"]> {
  const v1 = `${base}/api/v1`;

  const health = await call<JSONBody<paths["/api/v1/health"]["get"], 200>>(`${v1}/health`, {}, 200);
  if (health.status !== "ok") throw new Error("not healthy");

  const create: Schemas["AccountCreateRequest"] = { name: "acme" };
  const account = await call<JSONBody<paths["/api/v1/accounts"]["post"], 201>>(
    `${v1}/accounts`, { method: "POST", headers: keyed(master, "application/json"), body: JSON.stringify(create) }, 201);
  const key: string = account.admin_key.key;

  const add: Schemas["QuotaAddRequest"] = { sessions: 10 };
  const purchase = await call<JSONBody<paths["/api/v1/sessions/quota/add"]["post"], 201>>(
    `${v1}/sessions/quota/add`, { method: "POST", headers: keyed(key, "application/json"), body: JSON.stringify(add) }, 201);
  const cents: number = purchase.total_price_cents;

  const session = await call<JSONBody<paths["/api/v1/sessions"]["post"], 201>>(
    `${v1}/sessions`, { method: "POST", headers: keyed(key) }, 201);
  const active: "active" | "ended" = session.status;

  const csv = "time,open,high,low,close,volume\n1,10,11,9,10.5,100\n2,10.5,12,10,11,150\n3,11,11.5,10.2,10.4,90\n";
  const fromCSV = await call<JSONBody<paths["/api/v1/indicators/{name}"]["post"], 200>>(
    `${v1}/indicators/sma?period=2`, { method: "POST", headers: keyed(key, "text/csv"), body: csv }, 200);
  const last: number | null = fromCSV.values["value"][2];

  const columns: Schemas["CandlesColumns"] = {
    time: [1, 2, 3], open: [10, 10.5, 11], high: [11, 12, 11.5], low: [9, 10, 10.2],
    close: [10.5, 11, 10.4], volume: [100, 150, 90], params: { period: 2 },
  };
  const fromJSON = await call<JSONBody<paths["/api/v1/indicators/{name}"]["post"], 200>>(
    `${v1}/indicators/sma`, { method: "POST", headers: keyed(key, "application/json"), body: JSON.stringify(columns) }, 200);
  const meta: Schemas["Meta"] = fromJSON.meta;
  if (meta.input_checksum !== fromCSV.meta.input_checksum) throw new Error("checksums differ");

  const batch: Schemas["BatchRequest"] = {
    time: columns.time, open: columns.open, high: columns.high, low: columns.low, close: columns.close,
    volume: columns.volume, indicators: [{ name: "sma", params: { period: 2 }, id: "sma2" }, { name: "obv" }],
  };
  const results = await call<JSONBody<paths["/api/v1/indicators/batch"]["post"], 200>>(
    `${v1}/indicators/batch`, { method: "POST", headers: keyed(key, "application/json"), body: JSON.stringify(batch) }, 200);
  for (const item of results.results) {
    if (item.error) throw new Error(`${item.indicator}: ${item.error.detail}`);
  }
  const computed: number = results.meta.computed;

  const usage = await call<JSONBody<paths["/api/v1/usage"]["get"], 200>>(`${v1}/usage`, { headers: keyed(key) }, 200);
  console.log(cents, active, last, computed, usage.from, usage.to);
  return usage;
}
