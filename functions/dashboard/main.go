// Command dashboard is the DashboardFunction Lambda (template.yaml).
package main

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/web"
)

func main() { app.StartHTTP("DashboardFunction", web.Dashboard) }
