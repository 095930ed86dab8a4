// Command indicatorcompute is the IndicatorComputeFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartHTTP("IndicatorComputeFunction", app.IndicatorCompute) }
