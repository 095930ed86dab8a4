// Package authorize wires the API's Lambda REQUEST authorizer
// (AuthorizerFunction) over the key and session stores.
package authorize

import (
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/store"
	"github.com/waickoff/waickoff/shared/authorizer"
)

// Authorizer builds the Lambda REQUEST authorizer.
func Authorizer(d *store.Deps) (app.AuthorizerHandler, error) {
	return authorizer.New(options(d)).Handle, nil
}

// options are the authorizer's dependencies from the deps: the key store,
// the session store (the account hub's active session, for metered
// routes), and the master key only when the configuration enables it.
func options(d *store.Deps) authorizer.Options {
	o := authorizer.Options{Keys: d.Keys(), Sessions: d.Sessions(), Metered: store.MeteredRoutes, Logger: d.Logger, Now: d.Now}
	if d.Config.MasterKeyEnabled() {
		o.MasterKey = d.Config.MasterAPIKey
	}
	return o
}
