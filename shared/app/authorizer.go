package app

import "github.com/waickoff/waickoff/shared/authorizer"

// Authorizer builds the Lambda REQUEST authorizer.
func Authorizer(d *Deps) (AuthorizerHandler, error) {
	return authorizer.New(d.AuthorizerOptions()).Handle, nil
}

// AuthorizerOptions are the authorizer's dependencies from the deps: the
// key store, the session store (the account hub's active session, for
// metered routes), and the master key only when the configuration
// enables it.
func (d *Deps) AuthorizerOptions() authorizer.Options {
	o := authorizer.Options{Keys: d.Keys(), Sessions: d.Sessions(), Metered: MeteredRoutes, Logger: d.Logger, Now: d.Now}
	if d.Config.MasterKeyEnabled() {
		o.MasterKey = d.Config.MasterAPIKey
	}
	return o
}
