// Command usage is the UsageFunction Lambda (template.yaml).
package main

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/sessions"
	"github.com/waickoff/waickoff/shared/app/store"
)

func main() { app.StartHTTP("UsageFunction", store.Open(sessions.Usage)) }
