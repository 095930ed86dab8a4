// Package keys wires the account and API key functions over the store.
package keys

import (
	"github.com/waickoff/waickoff/shared/account"
	"github.com/waickoff/waickoff/shared/apikey"
	"github.com/waickoff/waickoff/shared/app/store"
	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/httpapi"
)

func handlers(d *store.Deps) *apikey.Handlers {
	return &apikey.Handlers{Keys: d.Keys(), Accounts: d.Accounts(), Usage: d.Usage(),
		DefaultRateLimit: d.Config.DefaultRateLimitPerMinute, Now: d.Now}
}

// route builds a function serving one keys route.
func route(d *store.Deps, pattern string, access httpapi.Access, handler func(*apikey.Handlers) httpapi.HandlerFunc) (*httpapi.Server, error) {
	s := d.Server()
	s.Handle(pattern, access, handler(handlers(d)))
	return s, nil
}

// AccountCreate builds POST /api/v1/accounts (master key only).
func AccountCreate(d *store.Deps) (*httpapi.Server, error) {
	s := d.Server()
	s.Handle("POST /api/v1/accounts", httpapi.MasterOnly,
		account.Handler(d.Accounts(), d.Config.DefaultRateLimitPerMinute, d.Now))
	return s, nil
}

// KeyCreate builds POST /api/v1/keys (ADMIN).
func KeyCreate(d *store.Deps) (*httpapi.Server, error) {
	return route(d, "POST /api/v1/keys", httpapi.Need(caller.Admin),
		func(h *apikey.Handlers) httpapi.HandlerFunc { return h.Create })
}

// KeyList builds GET /api/v1/keys (READ).
func KeyList(d *store.Deps) (*httpapi.Server, error) {
	return route(d, "GET /api/v1/keys", httpapi.Need(caller.Read),
		func(h *apikey.Handlers) httpapi.HandlerFunc { return h.List })
}

// KeyGet builds GET /api/v1/keys/{key_id} (READ).
func KeyGet(d *store.Deps) (*httpapi.Server, error) {
	return route(d, "GET /api/v1/keys/{key_id}", httpapi.Need(caller.Read),
		func(h *apikey.Handlers) httpapi.HandlerFunc { return h.Get })
}

// KeyRevoke builds DELETE /api/v1/keys/{key_id} (ADMIN).
func KeyRevoke(d *store.Deps) (*httpapi.Server, error) {
	return route(d, "DELETE /api/v1/keys/{key_id}", httpapi.Need(caller.Admin),
		func(h *apikey.Handlers) httpapi.HandlerFunc { return h.Revoke })
}

// KeyRotate builds POST /api/v1/keys/{key_id}/rotate (ADMIN).
func KeyRotate(d *store.Deps) (*httpapi.Server, error) {
	return route(d, "POST /api/v1/keys/{key_id}/rotate", httpapi.Need(caller.Admin),
		func(h *apikey.Handlers) httpapi.HandlerFunc { return h.Rotate })
}

// KeyUsage builds GET /api/v1/keys/{key_id}/usage (READ).
func KeyUsage(d *store.Deps) (*httpapi.Server, error) {
	return route(d, "GET /api/v1/keys/{key_id}/usage", httpapi.Need(caller.Read),
		func(h *apikey.Handlers) httpapi.HandlerFunc { return h.KeyUsage })
}
