// Command keyusage is the KeyUsageFunction Lambda (template.yaml).
package main

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/keys"
	"github.com/waickoff/waickoff/shared/app/store"
)

func main() { app.StartHTTP("KeyUsageFunction", store.Open(keys.KeyUsage)) }
