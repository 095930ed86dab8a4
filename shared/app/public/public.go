// Package public wires the public functions, which never reach the
// store: health, pricing, the OpenAPI document and its docs page.
package public

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/docs"
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
		health.Session{TTL: d.Config.SessionTTL, TokenLimit: d.Config.SessionTokenLimit, PaymentsMode: d.Config.PaymentsMode}))
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

// Docs builds GET /api/v1/docs, the rendered reference, and
// GET /api/v1/docs/{file}, its scripts, styles and licences.
func Docs(d *app.Deps) (*httpapi.Server, error) {
	page, err := docs.Page()
	if err != nil {
		return nil, err
	}
	asset, err := docs.Asset()
	if err != nil {
		return nil, err
	}
	s := d.Server(nil, nil)
	s.Handle("GET /api/v1/docs", httpapi.Public, page)
	s.Handle("GET /api/v1/docs/{file}", httpapi.Public, asset)
	return s, nil
}
