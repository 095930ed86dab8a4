// Package operator wires the operator's business figures function
// (master key only).
package operator

import (
	"github.com/waickoff/waickoff/shared/app/store"
	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/httpapi"
	figures "github.com/waickoff/waickoff/shared/operator"
)

// Metrics builds GET /api/v1/operator/metrics. Any key reaches the
// handler, which answers 404 to all but the master key.
func Metrics(d *store.Deps) (*httpapi.Server, error) {
	m := &figures.Metrics{DB: d.DB, Now: d.Now, Tables: figures.Tables{
		Quotas: d.Config.Tables.Quotas, Sessions: d.Config.Tables.Sessions, Usage: d.Config.Tables.Usage}}
	s := d.Server()
	s.Handle(figures.Route, httpapi.Need(caller.Read), m.Handler())
	return s, nil
}
