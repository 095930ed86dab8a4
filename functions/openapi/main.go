// Command openapi is the OpenAPIFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartHTTP("OpenAPIFunction", app.OpenAPI) }
