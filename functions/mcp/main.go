// Command mcp is the McpFunction Lambda (template.yaml).
package main

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/mcp"
	"github.com/waickoff/waickoff/shared/app/store"
)

func main() { app.StartHTTP("McpFunction", store.Open(mcp.Server)) }
