// Command sessionterminate is the SessionTerminateFunction Lambda (template.yaml).
package main

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/sessions"
	"github.com/waickoff/waickoff/shared/app/store"
)

func main() { app.StartHTTP("SessionTerminateFunction", store.Open(sessions.Terminate)) }
