// Command sessionlist is the SessionListFunction Lambda (template.yaml).
package main

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/sessions"
	"github.com/waickoff/waickoff/shared/app/store"
)

func main() { app.StartHTTP("SessionListFunction", store.Open(sessions.List)) }
