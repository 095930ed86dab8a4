// Command keylist is the KeyListFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartHTTP("KeyListFunction", app.KeyList) }
