// Command docs is the DocsFunction Lambda (template.yaml).
package main

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/public"
)

func main() { app.StartHTTP("DocsFunction", public.Docs) }
