package mcpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/waickoff/waickoff/shared/wyckoff"
	"github.com/waickoff/waickoff/shared/wyckoffapi"
)

// WyckoffAnalysis is POST /api/v1/analysis/wyckoff as a tool: the same
// candles, parameters, limits and errors, answered by the endpoint's own
// code (wyckoffapi.Analyze), so both give the same analysis.
func WyckoffAnalysis() Tool {
	// Of the request settings only max_tokens is offered; the others
	// (precision, last) are passed on, so that the analysis refuses them
	// as the endpoint does.
	setProps, setNames := settings()
	in := map[string]any{"type": "object", "additionalProperties": false,
		"properties": withProps(candleProps, map[string]any{"params": map[string]any{"type": "object",
			"additionalProperties": num("number"), "description": "Parameters by name (listed in the description); omitted ones take their defaults."},
			"max_tokens": setProps["max_tokens"]})}
	return Tool{Name: "wyckoff_analysis", Title: "Wyckoff analysis", Metered: true,
		Description: wyckoffHelp(), Input: schema(in), Output: schema(wyckoffResult),
		Run: func(r *http.Request, args Args) (Output, error) {
			req, _, err := CandleArgs(args, nil, append([]string{"params"}, setNames...))
			if err != nil {
				return Output{}, err
			}
			res, err := wyckoffapi.Analyze(req.HTTP(r, wyckoffapi.Path), req.Body)
			if err != nil {
				return Output{}, Rename(err, nil)
			}
			return withMeta(res.Body, res.Meta, res.MaxTokens)
		}}
}

// wyckoffHelp is the tool's description: what the analysis reports, how
// to read it, and every parameter as name=default [min,max].
func wyckoffHelp() string {
	p := wyckoff.DefaultParams()
	var b strings.Builder
	b.WriteString("Finds Wyckoff trading ranges in OHLCV candles (the analysis of POST /api/v1/analysis/wyckoff). " +
		"Each range: kind (accumulation/distribution), support, resistance, creek, ice, status, phase A-E with its phases, " +
		"bias (bullish/bearish/neutral) and, once it has an LPS (LPSY), a point-and-figure count with conservative and aggressive targets. " +
		"Events: accumulation PS SC AR ST Spring Test SOS LPS BU, distribution PSY BC AR ST UT UTAD SOW LPSY; each with its bar and time, " +
		"confirmed_at (the first bar the rules could know it), the rule that fired, evidence (each measured value next to its threshold), " +
		"a score in [0,1], a sentence and the other readings (alternatives). Never repaints: bars before stable_until are final. " +
		"Needs at least ")
	b.WriteString(strconv.Itoa(wyckoffapi.MinCandles(p)))
	b.WriteString(" candles (max(atr_period, volume_period) + 1); ranges need a few hundred. " +
		"GET /api/v1/indicators (analyses) has every rule's formula. Parameters (params), as name=default [min,max]:")
	for i, s := range wyckoff.ParamSpecs() {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(" " + s.Name + "=" + fmtNum(s.Default) + " [" + fmtNum(s.Min) + "," + fmtNum(s.Max) + "]")
	}
	b.WriteString(".")
	return b.String() + candleHelp + meteredHelp
}

// wyckoffResult is the analysis as the endpoint answers it
// (wyckoffapi.Response), its meta the engine's (wyckoffapi.Meta). The
// members are typed, their details left to the description: every byte
// here is in every agent's tools/list.
var wyckoffResult = func() map[string]any {
	obj := func(required []string, props map[string]any) map[string]any {
		return map[string]any{"type": "object", "required": required, "properties": props}
	}
	list := func(item any) map[string]any { return map[string]any{"type": "array", "items": item} }
	event := obj([]string{"type", "range", "bar", "confirmed_at", "price", "phase", "rule", "score", "evidence", "text"},
		map[string]any{"type": num("string"), "range": num("integer"), "bar": num("integer"), "time": num("integer"),
			"confirmed_at": num("integer"), "confirmed_time": num("integer"), "price": num("number"), "phase": num("string"), "rule": num("string"),
			"score": num("number"), "evidence": list(num("object")), "text": num("string"), "alternatives": list(num("object"))})
	rng := obj([]string{"kind", "start", "end", "status", "support", "resistance", "phase", "bias"},
		map[string]any{"kind": num("string"), "start": num("integer"), "end": num("integer"), "status": num("string"),
			"support": num("number"), "resistance": num("number"), "creek": num("number"), "ice": num("number"),
			"phase": num("string"), "phases": list(num("object")), "bias": num("string"), "count": num("object")})
	meta := withProps(engineMeta, nil)
	meta["properties"] = withProps(engineMeta["properties"].(map[string]any), map[string]any{
		"params": map[string]any{"type": "object", "additionalProperties": num("number")}})
	return obj([]string{"analysis", "count", "stable_until", "ranges", "events", "meta"}, map[string]any{
		"analysis": num("string"), "count": num("integer"), "stable_until": num("integer"),
		"ranges": list(rng), "events": list(event), "meta": meta,
	})
}()
