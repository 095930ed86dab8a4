// Command pricing is the PricingFunction Lambda (template.yaml).
package main

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/public"
)

func main() { app.StartHTTP("PricingFunction", public.Pricing) }
