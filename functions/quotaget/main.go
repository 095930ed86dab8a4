// Command quotaget is the QuotaGetFunction Lambda (template.yaml).
package main

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/sessions"
	"github.com/waickoff/waickoff/shared/app/store"
)

func main() { app.StartHTTP("QuotaGetFunction", store.Open(sessions.QuotaGet)) }
