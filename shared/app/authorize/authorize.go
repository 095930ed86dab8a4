// Package authorize wires the API's Lambda REQUEST authorizer
// (AuthorizerFunction) over the key and session stores, and reads the
// master key: it is the only wiring that links the Secrets Manager client
// (shared/masterkey).
package authorize

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/waickoff/waickoff/shared/apikey"
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/store"
	"github.com/waickoff/waickoff/shared/authorizer"
	"github.com/waickoff/waickoff/shared/indicator"
	"github.com/waickoff/waickoff/shared/masterkey"
	"github.com/waickoff/waickoff/shared/refusals"
	"github.com/waickoff/waickoff/shared/usage"
)

// Authorizer builds the Lambda REQUEST authorizer. When the configuration
// enables the master key, it reads it once, here (Lambda's init); a key
// that cannot be read or is not in the key format fails the build, so the
// authorizer never runs without the check it was configured to make.
func Authorizer(d *store.Deps) (app.AuthorizerHandler, error) {
	o, err := options(context.Background(), d)
	if err != nil {
		return nil, err
	}
	return authorizer.New(o).Handle, nil
}

// options are the authorizer's dependencies from the deps: the key store
// (also the master key's rate limit), the session store (the account
// hub's active session, for metered routes and the session-aware MCP
// route), the tally of rate-limited requests (written to the UsageTable
// at most once per key and refusals.DefaultInterval; added to the deps'
// Flushers), and the master key only when the configuration enables it.
func options(ctx context.Context, d *store.Deps) (authorizer.Options, error) {
	tally := refusals.New(d.Usage(), refusals.DefaultInterval, d.Logger, d.Metrics)
	d.Flushers = append(d.Flushers, tally)
	keys := d.Keys().WithClock(d.Now)
	o := authorizer.Options{Keys: keys, Sessions: d.Sessions(), Metered: slices.Concat(store.MeteredRoutes, store.QuotedRoutes),
		SessionAware: store.SessionAwareRoutes, Logger: d.Logger, Now: d.Now,
		Refusals: tally, Endpoint: usage.NameOf(indicator.Known), MasterLimit: keys, MasterPerMinute: d.Config.MasterRateLimitPerMinute}
	if !d.Config.MasterKeyEnabled() {
		return o, nil
	}
	load := d.MasterKey
	if load == nil {
		load = masterkey.FromEnv
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	key, err := load(ctx, d.Config.MasterKeySecret)
	if err != nil {
		return o, fmt.Errorf("master key: %w", err)
	}
	if err := apikey.CheckMaster(key); err != nil {
		return o, fmt.Errorf("master key in %s: %w", d.Config.MasterKeySecret, err)
	}
	if key == "" {
		return o, errors.New("master key: empty")
	}
	o.MasterKey = key
	return o, nil
}
