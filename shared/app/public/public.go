// Package public wires the public functions, which never reach the
// store: health, pricing and the OpenAPI document.
package public

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/health"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/openapi"
)

// Health builds GET /api/v1/health.
func Health(d *app.Deps) (*httpapi.Server, error) {
	s := d.Server(nil, nil)
	s.Handle("GET /api/v1/health", httpapi.Public, health.Health(d.Config.Version))
	return s, nil
}

// Pricing builds GET /api/v1/pricing.
func Pricing(d *app.Deps) (*httpapi.Server, error) {
	s := d.Server(nil, nil)
	s.Handle("GET /api/v1/pricing", httpapi.Public, health.Pricing(d.Prices(),
		health.Session{TTL: d.Config.SessionTTL, TokenLimit: d.Config.SessionTokenLimit}))
	return s, nil
}

// OpenAPI builds GET /api/v1/openapi.json.
func OpenAPI(d *app.Deps) (*httpapi.Server, error) {
	doc, err := openapi.JSON()
	if err != nil {
		return nil, err
	}
	s := d.Server(nil, nil)
	s.Handle("GET /api/v1/openapi.json", httpapi.Public, openapi.Handler(doc))
	return s, nil
}
