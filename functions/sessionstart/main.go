// Command sessionstart is the SessionStartFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartHTTP("SessionStartFunction", app.SessionStart) }
