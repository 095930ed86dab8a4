// Command keyusage is the KeyUsageFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartHTTP("KeyUsageFunction", app.KeyUsage) }
