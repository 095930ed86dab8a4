package app

import "github.com/waickoff/waickoff/shared/usage"

// MeteredRoutes are the routes that need an active session and whose
// successful requests the metering transaction charges (and counts, with
// usage.Store.ChargeItems).
var MeteredRoutes = []string{
	"POST /api/v1/indicators/{name}",
	"POST /api/v1/indicators/batch",
}

// UsageStore is the usage store over the deps' UsageTable; it is also the
// httpapi.Recorder every keyed function passes to Server.
func (d *Deps) UsageStore() *usage.Store {
	return usage.New(d.DB, d.Config.Tables.Usage, MeteredRoutes)
}
