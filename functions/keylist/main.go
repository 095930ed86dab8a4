// Command keylist is the KeyListFunction Lambda (template.yaml).
package main

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/keys"
	"github.com/waickoff/waickoff/shared/app/store"
)

func main() { app.StartHTTP("KeyListFunction", store.Open(keys.KeyList)) }
