// Command openapi is the OpenAPIFunction Lambda (template.yaml).
package main

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/public"
)

func main() { app.StartHTTP("OpenAPIFunction", public.OpenAPI) }
