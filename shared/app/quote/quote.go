// Package quote wires the dry run of the indicator routes: what a request
// would cost and whether the session can pay for it, with nothing charged
// and nothing written. It reaches no store: the session's figures come
// from the authorizer, which rate limits the request as any keyed one.
package quote

import (
	"github.com/waickoff/waickoff/shared/answer"
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/indicatorapi"
)

// Pattern is the quote's route: POST /api/v1/indicators/quote/{name}
// quotes POST /api/v1/indicators/{name} (an indicator, or "batch") sent
// with the same query and body. The authorizer lists it with the routes
// that need a session (store.QuotedRoutes).
const Pattern = "POST /api/v1/indicators/quote/{name}"

// Quote builds the quote route (READ and an active session; the master
// key needs none). Its requests are not recorded in the usage statistics:
// a quote writes nothing.
func Quote(d *app.Deps) (*httpapi.Server, error) {
	s := d.Server(nil, nil)
	s.Handle(Pattern, httpapi.Need(caller.Read), answer.QuoteHandler(indicatorapi.Endpoint(indicatorapi.Any)))
	return s, nil
}
