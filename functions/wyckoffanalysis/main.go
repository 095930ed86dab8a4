// Command wyckoffanalysis is the WyckoffAnalysisFunction Lambda (template.yaml).
package main

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/analysis"
	"github.com/waickoff/waickoff/shared/app/store"
)

func main() { app.StartHTTP("WyckoffAnalysisFunction", store.Open(analysis.Wyckoff)) }
