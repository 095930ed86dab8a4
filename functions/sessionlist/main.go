// Command sessionlist is the SessionListFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartHTTP("SessionListFunction", app.SessionList) }
