// Command quotaget is the QuotaGetFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartHTTP("QuotaGetFunction", app.QuotaGet) }
