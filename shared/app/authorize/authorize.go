// Package authorize wires the API's Lambda REQUEST authorizer
// (AuthorizerFunction) over the key and session stores.
package authorize

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/store"
	"github.com/waickoff/waickoff/shared/authorizer"
	"github.com/waickoff/waickoff/shared/refusals"
	"github.com/waickoff/waickoff/shared/usage"
)

// Authorizer builds the Lambda REQUEST authorizer.
func Authorizer(d *store.Deps) (app.AuthorizerHandler, error) {
	return authorizer.New(options(d)).Handle, nil
}

// options are the authorizer's dependencies from the deps: the key store,
// the session store (the account hub's active session, for metered
// routes), the tally of rate-limited requests (written to the UsageTable
// at most once per key and refusals.DefaultInterval; added to the deps'
// Flushers), and the master key only when the configuration enables it.
func options(d *store.Deps) authorizer.Options {
	tally := refusals.New(d.Usage(), refusals.DefaultInterval, d.Logger, d.Metrics)
	d.Flushers = append(d.Flushers, tally)
	o := authorizer.Options{Keys: d.Keys(), Sessions: d.Sessions(), Metered: store.MeteredRoutes, Logger: d.Logger, Now: d.Now,
		Refusals: tally, Endpoint: usage.EndpointName}
	if d.Config.MasterKeyEnabled() {
		o.MasterKey = d.Config.MasterAPIKey
	}
	return o
}
