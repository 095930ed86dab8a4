package app

var indicatorFunctions = map[string]HTTPBuilder{
	"IndicatorCatalogFunction": IndicatorCatalog,
	"IndicatorComputeFunction": IndicatorCompute,
	"IndicatorBatchFunction":   IndicatorBatch,
}

// Endpoints not built yet.
var (
	IndicatorCatalog = pending("GET /api/v1/indicators")
	IndicatorCompute = pending("POST /api/v1/indicators/{name}")
	IndicatorBatch   = pending("POST /api/v1/indicators/batch")
)
