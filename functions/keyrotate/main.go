// Command keyrotate is the KeyRotateFunction Lambda (template.yaml).
package main

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/keys"
	"github.com/waickoff/waickoff/shared/app/store"
)

func main() { app.StartHTTP("KeyRotateFunction", store.Open(keys.KeyRotate)) }
