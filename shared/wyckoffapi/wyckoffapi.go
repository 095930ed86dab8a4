// Package wyckoffapi serves the Wyckoff engine (package wyckoff) over HTTP:
// POST /api/v1/analysis/wyckoff decodes candles exactly as the indicator
// endpoints do (package candle: JSON rows, JSON columns or CSV, the same
// limits and field names), resolves the parameters, runs the analysis and
// encodes it. Run is the same analysis as a Go call, for callers that are
// not HTTP handlers (the MCP function).
package wyckoffapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/waickoff/waickoff/shared/answer"
	"github.com/waickoff/waickoff/shared/candle"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/problem"
	"github.com/waickoff/waickoff/shared/wyckoff"
)

// Request is one analysis: candles (validated, as candle.Decode returns
// them) and parameters by name (nil for the defaults).
type Request struct {
	Candles candle.Set
	Params  map[string]float64
}

// Response is the analysis as the endpoint returns it, meta aside.
type Response struct {
	Analysis    string          `json:"analysis"` // "wyckoff"
	Count       int             `json:"count"`    // candles analysed
	StableUntil int             `json:"stable_until"`
	Ranges      []wyckoff.Range `json:"ranges"`
	Events      []wyckoff.Event `json:"events"`
}

// Meta is what the analysis adds to the response's meta (the meter adds
// the session's members).
type Meta struct {
	EngineVersion string             `json:"engine_version"`
	InputChecksum string             `json:"input_checksum"`
	Candles       int                `json:"candles"`
	Params        map[string]float64 `json:"params"`
}

// Run analyses req. It returns a *problem.Error (400 invalid_request naming
// the field) for parameters or candles the engine refuses.
func Run(req Request) (Response, Meta, error) {
	p, err := wyckoff.Resolve(req.Params)
	if err != nil {
		return Response{}, Meta{}, paramProblem(err)
	}
	set := req.Candles
	if need := MinCandles(p); set.Len() < need {
		return Response{}, Meta{}, problem.Invalid("candles",
			"the Wyckoff analysis with these parameters needs at least %d candles (its warm-up), got %d", need, set.Len())
	}
	res, err := wyckoff.Analyze(wyckoff.Input{Open: set.Open, High: set.High, Low: set.Low, Close: set.Close, Volume: set.Volume, Time: set.Time}, p)
	if err != nil {
		var ie *wyckoff.InputError
		if !errors.As(err, &ie) {
			// box_size, judged against the candles' prices.
			return Response{}, Meta{}, paramProblem(err)
		}
		if ie.Index >= 0 {
			return Response{}, Meta{}, &problem.Error{Code: problem.InvalidRequest, Field: ie.Series + "[" + strconv.Itoa(ie.Index) + "]",
				Detail: ie.Error(), Extra: map[string]any{"index": ie.Index}}
		}
		return Response{}, Meta{}, problem.Invalid("candles", "%s", err.Error())
	}
	out := Response{Analysis: "wyckoff", Count: res.Bars, StableUntil: res.StableUntil, Ranges: res.Ranges, Events: res.Events}
	meta := Meta{EngineVersion: wyckoff.Version, InputChecksum: set.Checksum(), Candles: set.Len(), Params: p.Map()}
	return out, meta, nil
}

// paramProblem is the invalid_request problem of a refused parameter,
// naming it (params.<name>).
func paramProblem(err error) error {
	var pe *wyckoff.ParamError
	if errors.As(err, &pe) {
		return problem.Invalid("params."+pe.Param, "%s", pe.Reason)
	}
	return problem.Invalid("params", "%s", err.Error())
}

// MinCandles is the warm-up of the analysis: the bars before the first one
// the rules can read (ATR and the volume baseline), plus one.
func MinCandles(p wyckoff.Params) int { return max(p.ATRPeriod, p.VolPeriod) + 1 }

// Result is what the endpoint produced: the JSON body without its meta,
// and the meta members the analysis adds.
type Result struct {
	Body []byte
	Meta Meta
	// MaxTokens is the request's max_tokens (0: none).
	MaxTokens int64
}

// Analyze serves POST /api/v1/analysis/wyckoff: the candles and
// parameters of the request body (or, for CSV, the query string). It
// returns a problem error for anything the client must fix.
func Analyze(r *http.Request, body []byte) (Result, error) {
	req, err := candle.Decode(r.Header.Get("Content-Type"), body, r.URL.Query(), candle.Limits{})
	if err != nil {
		return Result{}, candle.Problem(err)
	}
	if req.Items != nil {
		return Result{}, problem.Invalid("indicators", "the Wyckoff analysis takes no indicators; POST /api/v1/indicators/batch does")
	}
	for _, s := range []struct {
		name, why string
		set       bool
	}{
		{"precision", "the analysis reports its values at fixed rounding", req.Precision != 0},
		{"last", "the analysis reports ranges and events, not series", req.Last != 0},
	} {
		if !s.set {
			continue
		}
		field := s.name
		if r.URL.Query().Has(s.name) {
			field = "query." + s.name
		}
		return Result{}, problem.Invalid(field, "%s is a setting of the indicator routes; %s", s.name, s.why)
	}
	res, meta, err := Run(Request{Candles: req.Candles, Params: req.Params})
	if err != nil {
		return Result{}, err
	}
	b, err := json.Marshal(res)
	if err != nil {
		return Result{}, err
	}
	return Result{Body: b, Meta: meta, MaxTokens: int64(req.MaxTokens)}, nil
}

// Path is the route of the analysis.
const Path = "/api/v1/analysis/wyckoff"

// QuotePath is the dry run of Path: what the same request would cost
// (answer.QuoteHandler), charging nothing.
const QuotePath = "/api/v1/analysis/quote/wyckoff"

// Endpoint answers a request to Path (or to QuotePath, which prices the
// same answer): the body read and analysed.
func Endpoint(_ http.ResponseWriter, r *http.Request) (answer.Result, error) {
	body, err := httpapi.ReadBody(r)
	if err != nil {
		return answer.Result{}, err
	}
	res, err := Analyze(r, body)
	if err != nil {
		return answer.Result{}, err
	}
	return answer.Result{Body: res.Body, Meta: res.Meta, MaxTokens: res.MaxTokens}, nil
}

// Catalog describes the analysis for GET /api/v1/indicators: its route,
// engine version, parameters with defaults and bounds, the events it
// reports and every rule's formula.
func Catalog() map[string]any {
	return map[string]any{
		"name": "wyckoff", "method": "POST", "path": Path, "engine_version": wyckoff.Version,
		"description": "Wyckoff trading ranges with their events, evidence, phases and point-and-figure targets; never repaints (an event is reported from its confirmed_at bar on, and stable_until says from which bar a result can still change).",
		"events": []string{wyckoff.PS, wyckoff.SC, wyckoff.AR, wyckoff.ST, wyckoff.Spring, wyckoff.Test, wyckoff.SOS, wyckoff.LPS, wyckoff.BU,
			wyckoff.PSY, wyckoff.BC, wyckoff.UT, wyckoff.UTAD, wyckoff.SOW, wyckoff.LPSY},
		"params": wyckoff.ParamSpecs(),
		"rules":  wyckoff.Rules(),
	}
}
