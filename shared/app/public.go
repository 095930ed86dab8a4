package app

import (
	"github.com/waickoff/waickoff/shared/health"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/openapi"
)

var publicFunctions = map[string]HTTPBuilder{
	"HealthFunction":  Health,
	"PricingFunction": Pricing,
	"OpenAPIFunction": OpenAPI,
}

// Health builds GET /api/v1/health.
func Health(d *Deps) (*httpapi.Server, error) {
	s := d.Server(nil)
	s.Handle("GET /api/v1/health", httpapi.Public, health.Health(d.Config.Version))
	return s, nil
}

// Pricing builds GET /api/v1/pricing.
func Pricing(d *Deps) (*httpapi.Server, error) {
	s := d.Server(nil)
	s.Handle("GET /api/v1/pricing", httpapi.Public, health.Pricing(d.Prices(),
		health.Session{TTL: d.Config.SessionTTL, TokenLimit: d.Config.SessionTokenLimit}))
	return s, nil
}

// OpenAPI builds GET /api/v1/openapi.json.
func OpenAPI(d *Deps) (*httpapi.Server, error) {
	doc, err := openapi.JSON()
	if err != nil {
		return nil, err
	}
	s := d.Server(nil)
	s.Handle("GET /api/v1/openapi.json", httpapi.Public, openapi.Handler(doc))
	return s, nil
}
