// Package analysis wires the analysis functions: the metered Wyckoff
// analysis.
package analysis

import (
	"net/http"

	"github.com/waickoff/waickoff/shared/app/store"
	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/usage"
	"github.com/waickoff/waickoff/shared/wyckoffapi"
)

// Wyckoff builds POST /api/v1/analysis/wyckoff (READ, metered like the
// indicators: same session rules, token estimate and limits).
func Wyckoff(d *store.Deps) (*httpapi.Server, error) {
	const pattern = "POST " + wyckoffapi.Path
	s := d.Server()
	endpoint := func(r *http.Request) string { return usage.Endpoint(pattern, r) }
	s.Handle(pattern, httpapi.Need(caller.Read), d.Meter().Handler(endpoint, wyckoffapi.Endpoint))
	return s, nil
}
