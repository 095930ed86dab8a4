// Command keyget is the KeyGetFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartHTTP("KeyGetFunction", app.KeyGet) }
