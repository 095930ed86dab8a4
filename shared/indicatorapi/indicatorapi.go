// Package indicatorapi serves the indicator engine over HTTP: the catalog,
// one indicator over posted candles, and a batch of indicators over one
// decoded set of candles. Decoding and encoding go through package candle
// (no reflection); the arithmetic through package indicator.
package indicatorapi

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/waickoff/waickoff/shared/answer"
	"github.com/waickoff/waickoff/shared/candle"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/indicator"
	"github.com/waickoff/waickoff/shared/problem"
)

// Engine identifies the engine build in every response's meta, so a client
// can reproduce a result.
const Engine = "waickoff-indicators/1.0 (TA-Lib 0.6 conventions)"

// batchQuery is the query key a CSV batch names its indicators with.
const batchQuery = "indicators"

// Result is what a compute endpoint produced: a JSON object without its
// meta, and the meta fields the engine adds (the metering layer adds the
// session's).
type Result struct {
	Body []byte
	Meta map[string]any
	// MaxTokens is the request's max_tokens (0: none).
	MaxTokens int64
}

// BatchName is the {name} of POST /api/v1/indicators/{name} that is the
// batch route (and of the quote route, which quotes either).
const BatchName = "batch"

// Endpoint returns compute as a metered endpoint (answer.Func): it reads
// the request body and computes it. compute is Compute of the path's
// name, Batch, or Any.
func Endpoint(compute func(r *http.Request, body []byte) (Result, error)) answer.Func {
	return func(_ http.ResponseWriter, r *http.Request) (answer.Result, error) {
		body, err := httpapi.ReadBody(r)
		if err != nil {
			return answer.Result{}, err
		}
		res, err := compute(r, body)
		if err != nil {
			return answer.Result{}, err
		}
		return answer.Result{Body: res.Body, Meta: res.Meta, MaxTokens: res.MaxTokens}, nil
	}
}

// Any computes r as POST /api/v1/indicators/{name} answers it: the batch
// when the path's name is BatchName, else the indicator it names.
func Any(r *http.Request, body []byte) (Result, error) {
	if name := r.PathValue("name"); name != BatchName {
		return Compute(name, r, body)
	}
	return Batch(r, body)
}

// Compute runs one indicator, named in the path, over the request body.
// It returns a problem error for anything the client must fix.
func Compute(name string, r *http.Request, body []byte) (Result, error) {
	spec, ok := indicator.Lookup(name)
	if !ok {
		return Result{}, problem.Invalid("name", "unknown indicator %q; GET /api/v1/indicators lists them", name)
	}
	req, err := candle.Decode(r.Header.Get("Content-Type"), body, r.URL.Query(), candle.Limits{})
	if err != nil {
		return Result{}, candle.Problem(err)
	}
	if req.Items != nil {
		return Result{}, problem.Invalid("indicators", "a list of indicators belongs in POST /api/v1/indicators/batch")
	}
	in, err := input(req.Candles)
	if err != nil {
		return Result{}, err
	}
	// One indicator alone never passes MaxWork (TestOneIndicatorFitsTheBudget):
	// its own bound (cci's candles x period) is what holds it.
	j := prepare(spec, len(in.Close), req.Params, "params", "")
	if j.err != nil {
		return Result{}, j.err
	}
	res, err := j.run(in)
	if err != nil {
		return Result{}, err
	}
	res.Precision = req.Precision
	keepLast(&res, req.Last)
	b := candle.AppendResult(make([]byte, 0, answerSize(len(res.Outputs), len(in.Close), req.Last, req.Precision)), res)
	return Result{Body: b, Meta: meta(req.Candles), MaxTokens: int64(req.MaxTokens)}, nil
}

// answerSize estimates the bytes of a result with this many outputs over n
// candles, of which the last (0: all) are kept, so that an answer is
// written in one buffer allocated at about its final size: a buffer grown
// as it is written is copied at each step, each copy left to the
// collector, and an answer is megabytes. The buffer is the caller's, as
// the answer is (no pool: a pooled buffer would have to be copied out).
func answerSize(outputs, n, last, precision int) int {
	if last > 0 && last < n {
		n = last
	}
	return 256 + outputs*n*candle.ValueSize(precision)
}

// Batch runs many indicators over one set of candles. A bad item gets its
// own error and the others are still computed; a batch in which no item
// could be computed returns the first item's problem (a 400, so it costs
// nothing).
func Batch(r *http.Request, body []byte) (Result, error) {
	ct := r.Header.Get("Content-Type")
	csvItems, err := csvBatchItems(ct, r)
	if err != nil {
		return Result{}, err
	}
	req, err := candle.Decode(ct, body, r.URL.Query(), candle.Limits{IgnoreQuery: []string{batchQuery}, NoQueryParams: true})
	if err != nil {
		return Result{}, candle.Problem(err)
	}
	if csvItems != nil {
		if req.Items != nil {
			return Result{}, problem.Invalid("indicators", "name the indicators once")
		}
		req.Items = csvItems
	}
	if req.Items == nil {
		return Result{}, problem.Invalid("indicators", "a batch needs \"indicators\": [{\"name\":...,\"params\":{...}}, ...]")
	}
	if req.Params != nil {
		return Result{}, problem.Invalid("params", "a batch takes parameters per indicator, in indicators[i].params")
	}
	in, err := input(req.Candles)
	if err != nil {
		return Result{}, err
	}
	// Every item is resolved and the request's work weighed before any is
	// computed; the answer is written in one buffer of about its size
	// (answerSize).
	jobs := make([]job, len(req.Items))
	size := 64
	for i, item := range req.Items {
		jobs[i] = prepareItem(item, len(in.Close), "indicators["+strconv.Itoa(i)+"]")
		if jobs[i].err == nil {
			size += answerSize(len(jobs[i].spec.Outputs), len(in.Close), cmp.Or(item.Last, req.Last), req.Precision)
		}
	}
	if err := budget(jobs); err != nil {
		return Result{}, err
	}
	b := candle.AppendBatchStart(make([]byte, 0, size))
	computed := 0
	var firstErr error
	for i, item := range req.Items {
		if i > 0 {
			b = append(b, ',')
		}
		err := jobs[i].err
		var res candle.Result
		if err == nil {
			res, err = jobs[i].run(in)
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			b = candle.AppendItemError(b, item.Name, item.ID, problem.Marshal(err, ""))
			continue
		}
		computed++
		res.Precision = req.Precision
		keepLast(&res, cmp.Or(item.Last, req.Last))
		b = candle.AppendResult(b, res)
	}
	b = candle.AppendBatchEnd(b, len(req.Items), nil)
	if computed == 0 {
		return Result{}, firstErr
	}
	m := meta(req.Candles)
	m["computed"] = computed
	m["failed"] = len(req.Items) - computed
	return Result{Body: b, Meta: m, MaxTokens: int64(req.MaxTokens)}, nil
}

// prepareItem resolves a batch item over n candles (see prepare).
func prepareItem(item candle.Item, n int, prefix string) job {
	if item.Err != nil {
		return job{err: candle.Problem(item.Err)}
	}
	spec, ok := indicator.Lookup(item.Name)
	if !ok {
		return job{err: problem.Invalid(prefix+".name", "unknown indicator %q", item.Name)}
	}
	return prepare(spec, n, item.Params, prefix+".params", item.ID)
}

// keepLast keeps the last n values of every output of res (all of them
// when n is 0 or at least their length): the setting "last".
func keepLast(res *candle.Result, n int) {
	if n <= 0 {
		return
	}
	for i, o := range res.Outputs {
		if len(o.Values) > n {
			res.Outputs[i].Values = o.Values[len(o.Values)-n:]
		}
	}
}

// MaxWork is the most work one request may ask for: the sum of its
// indicators' indicator.Spec.WorkOver. It keeps the largest legal request
// well within the compute functions' 10 s Timeout on Lambda (README "Work
// budget": 1.4 s of CPU on one core of the development machine, under
// 4 s on Lambda arm64 at 1024 MB).
const MaxWork = 800_000_000

// job is one indicator of a request, resolved and weighed but not yet
// computed: err is its refusal, or work is what it will cost.
type job struct {
	spec      indicator.Spec
	p         indicator.Params
	id        string
	paramPath string
	work      int64
	err       error
}

// prepare resolves the parameters of spec over n candles and weighs it;
// the job's err is the refusal of the parameters, of too few candles or of
// the indicator's own work bound (cci's candles x period).
func prepare(spec indicator.Spec, n int, raw map[string]float64, paramPath, id string) job {
	j := job{spec: spec, id: id, paramPath: paramPath}
	p, err := spec.Resolve(raw)
	if err != nil {
		var pe *indicator.ParamError
		if errors.As(err, &pe) {
			j.err = problem.Invalid(paramPath+"."+pe.Param, "%s", pe.Reason)
			return j
		}
		j.err = problem.Invalid(paramPath, "%s", err.Error())
		return j
	}
	if need := spec.MinCandles(p); n < need {
		j.err = problem.Invalid("candles", "%s with these parameters needs at least %d candles, got %d",
			spec.Name, need, n)
		return j
	}
	if w := spec.Work; w.Param != "" && float64(n)*p[w.Param] > w.Max {
		j.err = problem.Invalid(paramPath+"."+w.Param,
			"%s over %d candles is limited to %s <= %d (candles x %s <= %d)", spec.Name, n, w.Param,
			int(w.Max/float64(n)), w.Param, int(w.Max))
		return j
	}
	j.p, j.work = p, spec.WorkOver(n, p)
	return j
}

// budget refuses, before anything is computed, a batch whose jobs ask
// for more than MaxWork together (jobs refused on their own count
// nothing): 400 invalid_request naming the list of indicators, or the
// work parameter (else the candles) of a job over MaxWork alone, with
// members work and max_work.
func budget(jobs []job) *problem.Error {
	field := batchQuery
	var total int64
	for _, j := range jobs {
		if j.err == nil {
			total += j.work
		}
	}
	if total <= MaxWork {
		return nil
	}
	what := "these indicators ask"
	for _, j := range jobs {
		if j.err == nil && j.work > MaxWork {
			field, what = "candles", j.spec.Name+" asks"
			if j.spec.Work.Param != "" {
				field = j.paramPath + "." + j.spec.Work.Param
			}
			break
		}
	}
	return &problem.Error{Code: problem.InvalidRequest, Field: field,
		Detail: fmt.Sprintf("%s for %d units of work, over the %d one request may ask for (an indicator's work is "+
			"candles x (work_per_candle + cci's period), GET /api/v1/indicators): ask for fewer indicators, "+
			"fewer candles or a smaller period; nothing was computed or charged", what, total, MaxWork),
		Extra: map[string]any{"work": total, "max_work": MaxWork}}
}

// run computes j over in.
func (j job) run(in indicator.Input) (candle.Result, error) {
	spec, p, id := j.spec, j.p, j.id
	outs, err := spec.Run(in, p)
	if err != nil {
		var ie *indicator.InputError
		if errors.As(err, &ie) {
			return candle.Result{}, problem.Invalid("candles", "%s", ie.Error())
		}
		return candle.Result{}, err
	}
	res := candle.Result{Indicator: spec.Name, ID: id}
	for _, prm := range spec.Params {
		res.Params = append(res.Params, candle.Param{Name: prm.Name, Value: p[prm.Name]})
	}
	for i, name := range spec.Outputs {
		res.Outputs = append(res.Outputs, candle.Output{Name: name, Values: outs[i]})
	}
	return res, nil
}

// input checks the candles against the engine's numeric range (prices
// within 1e-18..1e18 in magnitude, so outputs stay finite) and returns
// them as the engine's input.
func input(set candle.Set) (indicator.Input, error) {
	in := indicator.Input{Open: set.Open, High: set.High, Low: set.Low, Close: set.Close, Volume: set.Volume}
	if err := in.Validate(); err != nil {
		var ie *indicator.InputError
		if errors.As(err, &ie) && ie.Index >= 0 {
			return in, &problem.Error{Code: problem.InvalidRequest, Field: ie.Series + "[" + strconv.Itoa(ie.Index) + "]",
				Detail: ie.Error(), Extra: map[string]any{"index": ie.Index}}
		}
		return in, problem.Invalid("candles", "%s", err.Error())
	}
	return in, nil
}

func meta(set candle.Set) map[string]any {
	return map[string]any{"engine_version": Engine, "input_checksum": set.Checksum(), "candles": set.Len()}
}

// csvBatchItems reads the indicators of a CSV batch from the query string:
// the URL-encoded JSON array a JSON batch carries in "indicators". It
// returns nil for JSON bodies, and an invalid_request problem (field
// query.indicators, or the item's path under it) for a list absent, given
// twice or not such an array.
func csvBatchItems(contentType string, r *http.Request) ([]candle.Item, error) {
	if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "text/csv") {
		return nil, nil
	}
	vs := r.URL.Query()[batchQuery]
	if len(vs) > 1 {
		return nil, problem.Invalid("query.indicators", "given more than once in the query string")
	}
	if len(vs) == 0 || vs[0] == "" {
		return nil, problem.Invalid("query.indicators", "a CSV batch names its indicators in ?indicators=")
	}
	// The list is decoded as the "indicators" member of a JSON batch, so
	// anything else ("sma,obv") is refused as that member would be.
	req, err := candle.Decode("application/json",
		[]byte(`{"time":[1],"open":[1],"high":[1],"low":[1],"close":[1],"volume":[0],"indicators":`+vs[0]+`}`),
		nil, candle.Limits{})
	if err != nil {
		var fe *candle.FieldError
		if errors.As(err, &fe) {
			return nil, problem.Invalid("query."+fe.Field, "%s", fe.Reason)
		}
		return nil, problem.Invalid("query.indicators", "not a JSON array of indicators")
	}
	if req.Params != nil || req.Precision != 0 || req.MaxTokens != 0 || req.Last != 0 {
		// Text after the array became members of the request above.
		return nil, problem.Invalid("query.indicators", "not a JSON array of indicators")
	}
	return req.Items, nil
}

// CatalogEntry is one indicator as the catalog publishes it.
type CatalogEntry struct {
	Name            string         `json:"name"`
	Title           string         `json:"title"`
	Category        string         `json:"category"`
	Description     string         `json:"description"`
	TALib           string         `json:"talib,omitempty"`
	Inputs          []string       `json:"inputs"`
	Params          []CatalogParam `json:"params"`
	Outputs         []string       `json:"outputs"`
	Lookback        int            `json:"lookback"`
	OutputLookbacks map[string]int `json:"output_lookbacks"`
	Conventions     string         `json:"conventions"`
	// WorkPerCandle is the work of each candle (indicator.Spec.WorkOver;
	// cci adds its period for each value after its warm-up).
	WorkPerCandle int64 `json:"work_per_candle"`
}

// CatalogParam is one parameter as the catalog publishes it.
type CatalogParam struct {
	Name    string  `json:"name"`
	Type    string  `json:"type"`
	Default float64 `json:"default"`
	Minimum float64 `json:"minimum"`
	Maximum float64 `json:"maximum"`
	// MaxCandlesTimes, when set, bounds candles x this parameter in one
	// request (cci's period).
	MaxCandlesTimes float64 `json:"max_candles_times,omitempty"`
	Description     string  `json:"description"`
}

// CatalogSetting is one request setting as the catalog publishes it: an
// integer that tunes a whole request, a top-level field of a JSON body or
// a query parameter with a CSV body.
type CatalogSetting struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Minimum     int    `json:"minimum"`
	Maximum     int    `json:"maximum"`
	JSON        string `json:"json"`
	CSV         string `json:"csv"`
	Description string `json:"description"`
}

// Settings lists the request settings of the compute and batch routes.
func Settings() []CatalogSetting {
	var out []CatalogSetting
	for _, s := range candle.Settings() {
		out = append(out, CatalogSetting{Name: s.Name, Type: "integer", Minimum: s.Min, Maximum: s.Max,
			JSON: "top-level body field \"" + s.Name + "\"", CSV: "query parameter " + s.Name,
			Description: s.Description})
	}
	return out
}

// Catalog lists every indicator with its parameters (defaults and bounds),
// outputs and warm-up at the default parameters.
func Catalog() []CatalogEntry {
	var out []CatalogEntry
	for _, s := range indicator.Catalog() {
		d := s.Defaults()
		e := CatalogEntry{Name: s.Name, Title: s.Title, Category: s.Category, Description: s.Description, TALib: s.TALib,
			Inputs: s.Inputs, Outputs: s.Outputs, Lookback: s.Lookback(d), OutputLookbacks: map[string]int{},
			Conventions: s.Conventions, Params: []CatalogParam{}, WorkPerCandle: s.WorkPerCandle()}
		for i, lb := range s.OutputLookbacks(d) {
			e.OutputLookbacks[s.Outputs[i]] = lb
		}
		for _, p := range s.Params {
			typ := "number"
			if p.Type == indicator.TypeInt {
				typ = "integer"
			}
			cp := CatalogParam{Name: p.Name, Type: typ, Default: p.Default,
				Minimum: p.Min, Maximum: finite(p.Max), Description: p.Description}
			if s.Work.Param == p.Name {
				cp.MaxCandlesTimes = s.Work.Max
			}
			e.Params = append(e.Params, cp)
		}
		out = append(out, e)
	}
	return out
}

func finite(v float64) float64 {
	if math.IsInf(v, 1) {
		return math.MaxFloat64
	}
	return v
}
