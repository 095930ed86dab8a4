// Command keycreate is the KeyCreateFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartHTTP("KeyCreateFunction", app.KeyCreate) }
