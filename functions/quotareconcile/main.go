// Command quotareconcile is the QuotaReconcileFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartSchedule("QuotaReconcileFunction", app.QuotaReconcile) }
