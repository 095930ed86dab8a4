// Command health is the HealthFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartHTTP("HealthFunction", app.Health) }
