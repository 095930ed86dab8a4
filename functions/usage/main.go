// Command usage is the UsageFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartHTTP("UsageFunction", app.Usage) }
