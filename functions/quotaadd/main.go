// Command quotaadd is the QuotaAddFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartHTTP("QuotaAddFunction", app.QuotaAdd) }
