package app

import (
	"github.com/waickoff/waickoff/shared/account"
	"github.com/waickoff/waickoff/shared/apikey"
	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/httpapi"
)

var keyFunctions = map[string]HTTPBuilder{
	"AccountCreateFunction": AccountCreate,
	"KeyCreateFunction":     KeyCreate,
	"KeyListFunction":       KeyList,
	"KeyGetFunction":        KeyGet,
	"KeyRevokeFunction":     KeyRevoke,
	"KeyRotateFunction":     KeyRotate,
	"KeyUsageFunction":      KeyUsage,
}

// Keys is the key store over the deps' ApiKeysTable.
func (d *Deps) Keys() *apikey.Store { return apikey.NewStore(d.DB, d.Config.Tables.APIKeys) }

// Accounts is the account store over the deps' QuotasTable.
func (d *Deps) Accounts() *account.Store {
	return account.NewStore(d.DB, d.Config.Tables.Quotas, d.Keys())
}

func (d *Deps) keyHandlers() *apikey.Handlers {
	return &apikey.Handlers{Keys: d.Keys(), Accounts: d.Accounts(), Usage: d.UsageStore(),
		DefaultRateLimit: d.Config.DefaultRateLimitPerMinute, Now: d.Now}
}

// keyRoute builds a function serving one keys route.
func keyRoute(pattern string, access httpapi.Access, handler func(*apikey.Handlers) httpapi.HandlerFunc) HTTPBuilder {
	return func(d *Deps) (*httpapi.Server, error) {
		s := d.Server(d.UsageStore())
		s.Handle(pattern, access, handler(d.keyHandlers()))
		return s, nil
	}
}

// AccountCreate builds POST /api/v1/accounts (master key only).
func AccountCreate(d *Deps) (*httpapi.Server, error) {
	s := d.Server(d.UsageStore())
	s.Handle("POST /api/v1/accounts", httpapi.MasterOnly,
		account.Handler(d.Accounts(), d.Config.DefaultRateLimitPerMinute, d.Now))
	return s, nil
}

// KeyCreate builds POST /api/v1/keys (ADMIN).
func KeyCreate(d *Deps) (*httpapi.Server, error) {
	return keyRoute("POST /api/v1/keys", httpapi.Need(caller.Admin),
		func(h *apikey.Handlers) httpapi.HandlerFunc { return h.Create })(d)
}

// KeyList builds GET /api/v1/keys (READ).
func KeyList(d *Deps) (*httpapi.Server, error) {
	return keyRoute("GET /api/v1/keys", httpapi.Need(caller.Read),
		func(h *apikey.Handlers) httpapi.HandlerFunc { return h.List })(d)
}

// KeyGet builds GET /api/v1/keys/{key_id} (READ).
func KeyGet(d *Deps) (*httpapi.Server, error) {
	return keyRoute("GET /api/v1/keys/{key_id}", httpapi.Need(caller.Read),
		func(h *apikey.Handlers) httpapi.HandlerFunc { return h.Get })(d)
}

// KeyRevoke builds DELETE /api/v1/keys/{key_id} (ADMIN).
func KeyRevoke(d *Deps) (*httpapi.Server, error) {
	return keyRoute("DELETE /api/v1/keys/{key_id}", httpapi.Need(caller.Admin),
		func(h *apikey.Handlers) httpapi.HandlerFunc { return h.Revoke })(d)
}

// KeyRotate builds POST /api/v1/keys/{key_id}/rotate (ADMIN).
func KeyRotate(d *Deps) (*httpapi.Server, error) {
	return keyRoute("POST /api/v1/keys/{key_id}/rotate", httpapi.Need(caller.Admin),
		func(h *apikey.Handlers) httpapi.HandlerFunc { return h.Rotate })(d)
}

// KeyUsage builds GET /api/v1/keys/{key_id}/usage (READ).
func KeyUsage(d *Deps) (*httpapi.Server, error) {
	return keyRoute("GET /api/v1/keys/{key_id}/usage", httpapi.Need(caller.Read),
		func(h *apikey.Handlers) httpapi.HandlerFunc { return h.KeyUsage })(d)
}
