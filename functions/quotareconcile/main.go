// Command quotareconcile is the QuotaReconcileFunction Lambda (template.yaml).
package main

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/sessions"
	"github.com/waickoff/waickoff/shared/app/store"
)

func main() { app.StartSchedule("QuotaReconcileFunction", store.Open(sessions.Reconcile)) }
