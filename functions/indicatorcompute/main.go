// Command indicatorcompute is the IndicatorComputeFunction Lambda (template.yaml).
package main

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/indicators"
	"github.com/waickoff/waickoff/shared/app/store"
)

func main() { app.StartHTTP("IndicatorComputeFunction", store.Open(indicators.Compute)) }
