// Command keycreate is the KeyCreateFunction Lambda (template.yaml).
package main

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/keys"
	"github.com/waickoff/waickoff/shared/app/store"
)

func main() { app.StartHTTP("KeyCreateFunction", store.Open(keys.KeyCreate)) }
