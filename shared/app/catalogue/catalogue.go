// Package catalogue lists every function of template.yaml by logical ID
// with the builder its main starts, for the local gateway and the tests,
// which run the very same handlers as Lambda. A Lambda never imports it:
// its main imports its own domain's wiring only.
package catalogue

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/analysis"
	"github.com/waickoff/waickoff/shared/app/authorize"
	"github.com/waickoff/waickoff/shared/app/indicators"
	"github.com/waickoff/waickoff/shared/app/keys"
	"github.com/waickoff/waickoff/shared/app/mcp"
	"github.com/waickoff/waickoff/shared/app/operator"
	"github.com/waickoff/waickoff/shared/app/public"
	"github.com/waickoff/waickoff/shared/app/quote"
	"github.com/waickoff/waickoff/shared/app/sessions"
	"github.com/waickoff/waickoff/shared/app/store"
	"github.com/waickoff/waickoff/shared/app/web"
)

// Catalogue is every function by template logical ID, by kind.
type Catalogue struct {
	HTTP       map[string]app.HTTPBuilder
	Authorizer map[string]app.Builder[app.AuthorizerHandler]
	Stream     map[string]app.Builder[app.StreamHandler]
	Schedule   map[string]app.Builder[app.ScheduleHandler]
}

// Functions returns the catalogue. Each entry, one a line, is what
// functions/<dir>/main.go passes to app.Start* (TestMainsAndMakefileAgree
// compares the texts): store.Open(<domain>.<Builder>) for a function that
// reaches the store, <domain>.<Builder> for one that does not.
func Functions() Catalogue {
	return Catalogue{
		HTTP: map[string]app.HTTPBuilder{
			"HealthFunction":    public.Health,
			"PricingFunction":   public.Pricing,
			"OpenAPIFunction":   public.OpenAPI,
			"DocsFunction":      public.Docs,
			"DashboardFunction": web.Dashboard,

			"AccountCreateFunction": store.Open(keys.AccountCreate),
			"KeyCreateFunction":     store.Open(keys.KeyCreate),
			"KeyListFunction":       store.Open(keys.KeyList),
			"KeyGetFunction":        store.Open(keys.KeyGet),
			"KeyRevokeFunction":     store.Open(keys.KeyRevoke),
			"KeyRotateFunction":     store.Open(keys.KeyRotate),
			"KeyUsageFunction":      store.Open(keys.KeyUsage),

			"SessionStartFunction":     store.Open(sessions.Start),
			"SessionListFunction":      store.Open(sessions.List),
			"SessionCurrentFunction":   store.Open(sessions.Current),
			"SessionGetFunction":       store.Open(sessions.Get),
			"SessionTerminateFunction": store.Open(sessions.Terminate),
			"QuotaGetFunction":         store.Open(sessions.QuotaGet),
			"QuotaAddFunction":         store.Open(sessions.QuotaAdd),
			"UsageFunction":            store.Open(sessions.Usage),

			"IndicatorCatalogFunction": store.Open(indicators.Catalog),
			"IndicatorComputeFunction": store.Open(indicators.Compute),
			"IndicatorBatchFunction":   store.Open(indicators.Batch),
			"IndicatorQuoteFunction":   quote.Quote,

			"OperatorMetricsFunction": store.Open(operator.Metrics),

			"WyckoffAnalysisFunction": store.Open(analysis.Wyckoff),
			"McpFunction":             store.Open(mcp.Server),
		},
		Authorizer: map[string]app.Builder[app.AuthorizerHandler]{
			"AuthorizerFunction": store.Open(authorize.Authorizer),
		},
		Stream: map[string]app.Builder[app.StreamHandler]{
			"SessionExpiryFunction": store.Open(sessions.Expiry),
		},
		Schedule: map[string]app.Builder[app.ScheduleHandler]{
			"QuotaReconcileFunction": store.Open(sessions.Reconcile),
		},
	}
}
