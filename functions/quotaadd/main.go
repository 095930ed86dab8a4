// Command quotaadd is the QuotaAddFunction Lambda (template.yaml).
package main

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/sessions"
	"github.com/waickoff/waickoff/shared/app/store"
)

func main() { app.StartHTTP("QuotaAddFunction", store.Open(sessions.QuotaAdd)) }
