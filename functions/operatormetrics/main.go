// Command operatormetrics is the OperatorMetricsFunction Lambda (template.yaml).
package main

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/operator"
	"github.com/waickoff/waickoff/shared/app/store"
)

func main() { app.StartHTTP("OperatorMetricsFunction", store.Open(operator.Metrics)) }
