// Command sessionexpiry is the SessionExpiryFunction Lambda (template.yaml).
package main

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/sessions"
	"github.com/waickoff/waickoff/shared/app/store"
)

func main() { app.StartStream("SessionExpiryFunction", store.Open(sessions.Expiry)) }
