// Command indicatorquote is the IndicatorQuoteFunction Lambda (template.yaml).
package main

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/quote"
)

func main() { app.StartHTTP("IndicatorQuoteFunction", quote.Quote) }
