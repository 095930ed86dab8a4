// Command sessioncurrent is the SessionCurrentFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartHTTP("SessionCurrentFunction", app.SessionCurrent) }
