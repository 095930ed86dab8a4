// api.js: the dashboard's only way to the API. The key lives in
// sessionStorage (this tab only) and travels only as the X-API-Key header.

const KEY = "waickoff.key";
const BASE = "/api/v1";

export const keyStore = {
  get: () => sessionStorage.getItem(KEY),
  set: (k) => sessionStorage.setItem(KEY, k),
  clear: () => sessionStorage.removeItem(KEY),
};

// APIError carries the API's problem details (RFC 9457) for display.
export class APIError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.code = problem.code || "";
  }
  // Human text: the problem's title and detail, with its code.
  describe() {
    const p = this.problem;
    const head = p.title || `HTTP ${this.status}`;
    const detail = p.detail ? `: ${p.detail}` : "";
    const code = p.code ? ` (${p.code})` : "";
    return `${head}${detail}${code}`;
  }
}

// listeners of the rate-limit and session headers of every keyed answer.
const watchers = new Set();
export function onHeaders(fn) { watchers.add(fn); return () => watchers.delete(fn); }

// request calls the API. body is sent as JSON unless contentType says
// otherwise; query is an object of query parameters. It resolves to the
// parsed body (null for 204) and rejects with an APIError.
export async function request(method, path, { body, contentType, query, key } = {}) {
  const url = new URL(BASE + path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
  }
  const headers = { Accept: "application/json" };
  const k = key || keyStore.get();
  if (k) headers["X-API-Key"] = k;
  let payload;
  if (body !== undefined) {
    if (typeof body === "string") {
      payload = body;
      headers["Content-Type"] = contentType || "application/json";
    } else {
      payload = JSON.stringify(body);
      headers["Content-Type"] = "application/json";
    }
  }
  let res;
  try {
    res = await fetch(url, { method, headers, body: payload, credentials: "omit", cache: "no-store" });
  } catch (e) {
    throw new APIError(0, { title: "Network error", detail: "the API could not be reached; check your connection" });
  }
  for (const fn of watchers) fn(res.headers);
  // Read every body, empty ones too: an unread body counts as an aborted
  // load in the browser.
  const text = await res.text();
  if (res.status === 204) return null;
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { detail: text.slice(0, 200) }; }
  }
  if (!res.ok) throw new APIError(res.status, data || {});
  return data;
}

// bytes of a string as UTF-8, for showing what a call will cost.
export function utf8Bytes(s) { return new TextEncoder().encode(s).length; }
