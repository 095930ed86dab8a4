// Command pricing is the PricingFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartHTTP("PricingFunction", app.Pricing) }
