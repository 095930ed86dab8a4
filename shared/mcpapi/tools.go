package mcpapi

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/waickoff/waickoff/shared/candle"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/indicator"
	"github.com/waickoff/waickoff/shared/indicatorapi"
	"github.com/waickoff/waickoff/shared/problem"
)

// candleProps are the three ways of sending candles, as the HTTP API
// takes them.
var candleProps = map[string]any{
	"candles": map[string]any{"type": "array", "maxItems": candle.DefaultMaxCandles,
		"description": "Candles as rows, oldest first: t (Unix seconds, strictly increasing), o, h, l, c, v (0 when unknown).",
		"items": map[string]any{"type": "object", "additionalProperties": false, "required": []string{"t", "o", "h", "l", "c", "v"},
			"properties": map[string]any{"t": num("integer"), "o": num("number"), "h": num("number"), "l": num("number"),
				"c": num("number"), "v": num("number")}}},
	"time":   column("integer", "Columns form: Unix seconds, strictly increasing; open, high, low, close and volume alongside, as long."),
	"open":   column("number", ""),
	"high":   column("number", ""),
	"low":    column("number", ""),
	"close":  column("number", ""),
	"volume": column("number", ""),
	"csv": map[string]any{"type": "string",
		"description": "CSV form: a header line time,open,high,low,close,volume then one candle a line."},
}

// settings are the request settings of the indicator endpoints
// (candle.Settings: "precision", ...), arguments of the computing tools
// as they are top-level fields of a JSON body.
var settings = func() (props map[string]any, names []string) {
	props = map[string]any{}
	for _, st := range candle.Settings() {
		props[st.Name] = map[string]any{"type": "integer", "minimum": st.Min, "maximum": st.Max, "description": st.Description}
		names = append(names, st.Name)
	}
	return props, names
}

func num(t string) map[string]any { return map[string]any{"type": t} }

func column(t, desc string) map[string]any {
	m := map[string]any{"type": "array", "items": num(t), "maxItems": candle.DefaultMaxCandles}
	if desc != "" {
		m["description"] = desc
	}
	return m
}

const candleHelp = " Send candles one way: candles (rows), time/open/high/low/close/volume (columns) or csv. " +
	"Limits and errors are the HTTP API's: at most 50000 candles, high >= low, open and close within [low, high], " +
	"times increasing; a bad value is an invalid_request naming its field (candles[12].h)."

const meteredHelp = " Metered: needs an active session and costs ceil((request bytes + response bytes)/4) tokens, " +
	"stated with the tokens left in the result's _meta; an error costs nothing."

// resultSchema is one indicator's result (candle.AppendResult).
var resultSchema = map[string]any{"type": "object", "required": []string{"indicator", "params", "count", "values"},
	"properties": map[string]any{
		"indicator": num("string"),
		"id":        num("string"),
		"params":    map[string]any{"type": "object", "additionalProperties": num("number")},
		"count":     num("integer"),
		"values": map[string]any{"type": "object", "description": "Each output, as long as the input (the last N values with last); null during warm-up.",
			"additionalProperties": map[string]any{"type": "array", "items": map[string]any{"type": []string{"number", "null"}}}},
	}}

var engineMeta = map[string]any{"type": "object", "required": []string{"engine_version", "input_checksum", "candles"},
	"properties": map[string]any{"engine_version": num("string"), "input_checksum": num("string"), "candles": num("integer"),
		"computed": num("integer"), "failed": num("integer")}}

func schema(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func withProps(base map[string]any, extra map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// catalogLines describes each indicator in one line: name(param=default
// [min,max], ...) reads -> outputs: title.
func catalogLines(specs []indicator.Spec) string {
	var b strings.Builder
	for _, s := range specs {
		b.WriteString("\n")
		b.WriteString(s.Name)
		b.WriteString("(")
		for i, p := range s.Params {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(p.Name + "=" + fmtNum(p.Default) + " [" + fmtNum(p.Min) + "," + fmtNum(p.Max) + "]")
		}
		b.WriteString(") " + strings.Join(s.Inputs, ",") + " -> " + strings.Join(s.Outputs, ",") + ": " + s.Title)
	}
	return b.String()
}

func fmtNum(v float64) string {
	if v > 1e300 {
		return "inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func names(specs []indicator.Spec) []string {
	var out []string
	for _, s := range specs {
		out = append(out, s.Name)
	}
	return out
}

var paramsSchema = map[string]any{"type": "object", "additionalProperties": num("number"),
	"description": "Parameters by name; omitted ones take their defaults."}

// ComputeIndicator is one tool over the whole catalog: the indicator is
// an argument, an enum of the catalog's names.
func ComputeIndicator() Tool {
	return indicatorTool("compute_indicator", "Compute an indicator",
		"Computes one technical indicator over OHLCV candles (TA-Lib conventions; GET /api/v1/indicators has the full catalog). "+
			"Indicators, as name(param=default [min,max]) inputs -> outputs:", indicator.Catalog())
}

// IndicatorFamilies is the alternative to ComputeIndicator: one tool per
// catalog category ("momentum_indicator", ...). The server offers
// ComputeIndicator; this one exists to measure what tools/list costs
// either way (BenchmarkToolsList).
func IndicatorFamilies() []Tool {
	byCat := map[string][]indicator.Spec{}
	for _, s := range indicator.Catalog() {
		byCat[s.Category] = append(byCat[s.Category], s)
	}
	var cats []string
	for c := range byCat {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	var out []Tool
	for _, c := range cats {
		out = append(out, indicatorTool(c+"_indicator", "Compute a "+c+" indicator",
			"Computes one "+c+" indicator over OHLCV candles (TA-Lib conventions). "+
				"Indicators, as name(param=default [min,max]) inputs -> outputs:", byCat[c]))
	}
	return out
}

func indicatorTool(name, title, intro string, specs []indicator.Spec) Tool {
	setProps, setNames := settings()
	in := map[string]any{"type": "object", "required": []string{"indicator"}, "additionalProperties": false,
		"properties": withProps(withProps(candleProps, setProps), map[string]any{
			"indicator": map[string]any{"type": "string", "enum": names(specs), "description": "The indicator to compute."},
			"params":    paramsSchema,
		})}
	out := withProps(resultSchema, nil)
	out["properties"] = withProps(resultSchema["properties"].(map[string]any), map[string]any{"meta": engineMeta})
	out["required"] = []string{"indicator", "params", "count", "values", "meta"}
	return Tool{Name: name, Title: title, Metered: true,
		Description: intro + catalogLines(specs) + "\n" + strings.TrimSpace(candleHelp+meteredHelp),
		Input:       schema(in), Output: schema(out),
		Run: func(r *http.Request, args Args) (Output, error) {
			req, picked, err := CandleArgs(args, []string{"indicator"}, append([]string{"params"}, setNames...))
			if err != nil {
				return Output{}, err
			}
			var ind string
			if raw := picked["indicator"]; raw == nil || json.Unmarshal(raw, &ind) != nil || !contains(names(specs), ind) {
				return Output{}, problem.Invalid("indicator", "indicator must be one of %s", strings.Join(names(specs), ", "))
			}
			res, err := indicatorapi.Compute(ind, req.HTTP(r, "/api/v1/indicators/"+ind), req.Body)
			if err != nil {
				return Output{}, Rename(err, map[string]string{"name": "indicator"})
			}
			return withMeta(res.Body, res.Meta, res.MaxTokens)
		}}
}

// Batch is many indicators over one set of candles.
func Batch() Tool {
	item := map[string]any{"type": "object", "required": []string{"name"}, "additionalProperties": false,
		"properties": map[string]any{
			"name":   map[string]any{"type": "string", "enum": names(indicator.Catalog())},
			"params": paramsSchema,
			"id":     map[string]any{"type": "string", "description": "Echoed in the item's result, to tell repeated indicators apart."},
			"last": map[string]any{"type": "integer", "minimum": 1, "maximum": candle.DefaultMaxCandles,
				"description": "This item's own last: only the last N values of each output (overrides the top-level last)."},
		}}
	setProps, setNames := settings()
	in := map[string]any{"type": "object", "required": []string{"indicators"}, "additionalProperties": false,
		"properties": withProps(withProps(candleProps, setProps), map[string]any{
			"indicators": map[string]any{"type": "array", "items": item, "minItems": 1, "maxItems": candle.DefaultMaxItems},
		})}
	itemResult := withProps(resultSchema, nil)
	itemResult["required"] = []string{"indicator"}
	itemResult["properties"] = withProps(resultSchema["properties"].(map[string]any), map[string]any{
		"error": map[string]any{"type": "object", "description": "The item's problem (code, detail, field) when it failed."}})
	out := map[string]any{"type": "object", "required": []string{"results", "count", "meta"},
		"properties": map[string]any{
			"results": map[string]any{"type": "array", "items": itemResult},
			"count":   num("integer"),
			"meta":    engineMeta,
		}}
	return Tool{Name: "batch", Title: "Compute many indicators", Metered: true,
		Description: "Computes up to 50 indicators (names and parameters as compute_indicator's) over one set of candles, " +
			"cheaper than one call each: the candles are sent and charged once. A bad item gets its own error and the others " +
			"are still computed; a batch with no item computed is an error (and costs nothing)." + candleHelp + meteredHelp,
		Input: schema(in), Output: schema(out),
		Run: func(r *http.Request, args Args) (Output, error) {
			req, _, err := CandleArgs(args, nil, append([]string{"indicators"}, setNames...))
			if err != nil {
				return Output{}, err
			}
			res, err := indicatorapi.Batch(req.HTTP(r, "/api/v1/indicators/batch"), req.Body)
			if err != nil {
				return Output{}, Rename(err, nil)
			}
			return withMeta(res.Body, res.Meta, res.MaxTokens)
		}}
}

// withMeta returns a computed result: body with its engine meta as member
// "meta", under the request's max_tokens.
func withMeta(body []byte, meta any, maxTokens int64) (Output, error) {
	m, err := json.Marshal(meta)
	if err != nil {
		return Output{}, err
	}
	return Output{Data: candle.AppendMember(body, "meta", m), MaxTokens: maxTokens}, nil
}

var accountArg = map[string]any{"type": "object", "additionalProperties": false,
	"properties": map[string]any{"account_id": map[string]any{"type": "string",
		"description": "Only for the operator key: the account to read."}}}

// SessionStatus is GET /api/v1/sessions/current as a tool (free).
func SessionStatus(h httpapi.HandlerFunc) Tool {
	out := map[string]any{"type": "object", "required": []string{"session_id", "status", "expires_at", "token_limit", "tokens_used", "tokens_remaining"},
		"properties": map[string]any{
			"session_id": num("string"), "account_id": num("string"), "status": num("string"),
			"started_at": num("string"), "expires_at": num("string"), "ended_at": num("string"), "end_reason": num("string"),
			"token_limit": num("integer"), "tokens_used": num("integer"), "tokens_remaining": num("integer"), "requests": num("integer"),
		}}
	return Tool{Name: "session_status", Title: "Active session",
		Description: "Free. The account's active session: when it ends (expires_at), its token_limit, tokens_used and " +
			"tokens_remaining. A not_found error means no session is active: start one with POST /api/v1/sessions (a WRITE key).",
		Input: schema(accountArg), Output: schema(out), Run: HandlerRun("/api/v1/sessions/current", h)}
}

// Quota is GET /api/v1/sessions/quota as a tool (free).
func Quota(h httpapi.HandlerFunc) Tool {
	out := map[string]any{"type": "object", "required": []string{"account_id", "purchased", "used", "remaining"},
		"properties": map[string]any{"account_id": num("string"), "purchased": num("integer"), "used": num("integer"),
			"remaining": num("integer"), "active_session_id": num("string")}}
	return Tool{Name: "quota", Title: "Session quota",
		Description: "Free. Sessions the account has purchased, used and has remaining (each session is 24 hours or its token limit).",
		Input:       schema(accountArg), Output: schema(out), Run: HandlerRun("/api/v1/sessions/quota", h)}
}

// Pricing is GET /api/v1/pricing as a tool (free).
func Pricing(h httpapi.HandlerFunc) Tool {
	return Tool{Name: "pricing", Title: "Prices",
		Description: "Free. The price of a session in cents (usd), the bulk discount tiers, and what a session holds " +
			"(its duration and token limit), and whether an ADMIN key may buy sessions (payments).",
		Input: schema(map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{}}),
		Output: schema(map[string]any{"type": "object", "required": []string{"currency", "session_price_cents", "tiers", "session"},
			"properties": map[string]any{
				"currency": num("string"), "session_price_cents": num("integer"), "token_estimate": num("string"),
				"tiers": map[string]any{"type": "array", "items": map[string]any{"type": "object"}},
				"session": map[string]any{"type": "object", "properties": map[string]any{
					"ttl_seconds": num("integer"), "token_limit": num("integer")}},
				"payments": map[string]any{"type": "object", "required": []string{"mode", "self_service"}, "properties": map[string]any{
					"mode":         map[string]any{"type": "string", "enum": []string{"placeholder", "disabled"}},
					"self_service": num("boolean")}},
			}}),
		Run: HandlerRun("/api/v1/pricing", h)}
}
