// Command sessionget is the SessionGetFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartHTTP("SessionGetFunction", app.SessionGet) }
