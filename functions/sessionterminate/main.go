// Command sessionterminate is the SessionTerminateFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartHTTP("SessionTerminateFunction", app.SessionTerminate) }
