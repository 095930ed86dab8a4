// Command accountcreate is the AccountCreateFunction Lambda (template.yaml).
package main

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/keys"
	"github.com/waickoff/waickoff/shared/app/store"
)

func main() { app.StartHTTP("AccountCreateFunction", store.Open(keys.AccountCreate)) }
