// Command indicatorbatch is the IndicatorBatchFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartHTTP("IndicatorBatchFunction", app.IndicatorBatch) }
