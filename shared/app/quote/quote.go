// Package quote wires the dry run of the metered routes (the indicators,
// the batch and the Wyckoff analysis): what a request would cost and whether the session can pay for it, with nothing charged
// and nothing written. It reaches no store: the session's figures come
// from the authorizer, which rate limits the request as any keyed one.
package quote

import (
	"github.com/waickoff/waickoff/shared/answer"
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/indicatorapi"
	"github.com/waickoff/waickoff/shared/wyckoffapi"
)

// Pattern is the indicators' quote route: POST
// /api/v1/indicators/quote/{name} quotes POST /api/v1/indicators/{name}
// (an indicator, or "batch") sent with the same query and body;
// WyckoffPattern quotes the Wyckoff analysis the same way. The authorizer
// lists both with the routes that need a session (store.QuotedRoutes).
const (
	Pattern        = "POST /api/v1/indicators/quote/{name}"
	WyckoffPattern = "POST " + wyckoffapi.QuotePath
)

// Quote builds the quote routes (READ and an active session; the master
// key needs none). Its requests are not recorded in the usage statistics:
// a quote writes nothing.
func Quote(d *app.Deps) (*httpapi.Server, error) {
	s := d.Server(nil, nil)
	s.Handle(Pattern, httpapi.Need(caller.Read), answer.QuoteHandler(indicatorapi.Endpoint(indicatorapi.Any)))
	s.Handle(WyckoffPattern, httpapi.Need(caller.Read), answer.QuoteHandler(wyckoffapi.Endpoint))
	return s, nil
}
