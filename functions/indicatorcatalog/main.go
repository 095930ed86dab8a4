// Command indicatorcatalog is the IndicatorCatalogFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartHTTP("IndicatorCatalogFunction", app.IndicatorCatalog) }
