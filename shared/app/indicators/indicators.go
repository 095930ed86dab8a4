// Package indicators wires the indicator functions: the catalog and the
// metered computations.
package indicators

import (
	"net/http"

	"github.com/waickoff/waickoff/shared/app/store"
	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/candle"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/indicator"
	"github.com/waickoff/waickoff/shared/indicatorapi"
	"github.com/waickoff/waickoff/shared/metering"
	"github.com/waickoff/waickoff/shared/usage"
	"github.com/waickoff/waickoff/shared/wyckoffapi"
)

// limits are the catalog's request and answer limits.
type limits struct {
	MaxCandles       int   `json:"max_candles"`
	MaxBatchItems    int   `json:"max_batch_items"`
	MaxRequestBytes  int64 `json:"max_request_bytes"`
	MaxResponseBytes int   `json:"max_response_bytes"`
	MaxWork          int64 `json:"max_work"`
}

// Catalog builds GET /api/v1/indicators (any key, not metered).
func Catalog(d *store.Deps) (*httpapi.Server, error) {
	catalog := map[string]any{"engine_version": indicatorapi.Engine, "count": len(indicator.Catalog()),
		"indicators": indicatorapi.Catalog(), "settings": indicatorapi.Settings(), "metering": metering.PublishedTerms(),
		"limits": limits{MaxCandles: candle.DefaultMaxCandles, MaxBatchItems: candle.DefaultMaxItems,
			MaxRequestBytes: d.Config.MaxBodyBytes, MaxResponseBytes: metering.MaxResponseBytes,
			MaxWork: indicatorapi.MaxWork},
		"analyses": []any{wyckoffapi.Catalog()}}
	s := d.Server()
	s.Handle("GET /api/v1/indicators", httpapi.Need(caller.Read), func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "private, max-age=300")
		return httpapi.WriteJSON(w, http.StatusOK, catalog)
	})
	return s, nil
}

// Compute builds POST /api/v1/indicators/{name} (READ, metered).
func Compute(d *store.Deps) (*httpapi.Server, error) {
	return metered(d, "POST /api/v1/indicators/{name}", func(r *http.Request, body []byte) (indicatorapi.Result, error) {
		return indicatorapi.Compute(r.PathValue("name"), r, body)
	}), nil
}

// Batch builds POST /api/v1/indicators/batch (READ, metered).
func Batch(d *store.Deps) (*httpapi.Server, error) {
	return metered(d, "POST /api/v1/indicators/"+indicatorapi.BatchName, indicatorapi.Batch), nil
}

// metered mounts an indicator endpoint behind the session meter.
func metered(d *store.Deps, pattern string, compute func(r *http.Request, body []byte) (indicatorapi.Result, error)) *httpapi.Server {
	namer := usage.Namer(indicator.Known)
	s := d.ServerNaming(namer)
	endpoint := func(r *http.Request) string { return namer(pattern, r) }
	s.Handle(pattern, httpapi.Need(caller.Read), d.Meter().Handler(endpoint, indicatorapi.Endpoint(compute)))
	return s
}
