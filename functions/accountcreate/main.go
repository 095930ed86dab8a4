// Command accountcreate is the AccountCreateFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartHTTP("AccountCreateFunction", app.AccountCreate) }
