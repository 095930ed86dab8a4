package app

import (
	"net/http"
	"time"

	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/metering"
	"github.com/waickoff/waickoff/shared/problem"
	"github.com/waickoff/waickoff/shared/quota"
	"github.com/waickoff/waickoff/shared/session"
	"github.com/waickoff/waickoff/shared/usage"
)

var sessionFunctions = map[string]HTTPBuilder{
	"SessionStartFunction":     SessionStart,
	"SessionListFunction":      SessionList,
	"SessionCurrentFunction":   SessionCurrent,
	"SessionGetFunction":       SessionGet,
	"SessionTerminateFunction": SessionTerminate,
	"QuotaGetFunction":         QuotaGet,
	"QuotaAddFunction":         QuotaAdd,
	"UsageFunction":            Usage,
}

// Sessions is the session store over the deps' tables; it is also the
// authorizer's active-session lookup (authorizer.Sessions).
func (d *Deps) Sessions() *session.Store {
	return session.NewStore(d.DB, d.Config.Tables, session.Options{TTL: d.Config.SessionTTL,
		TokenLimit: d.Config.SessionTokenLimit, Metrics: d.Metrics})
}

// Quotas is the quota store over the deps' QuotasTable.
func (d *Deps) Quotas() *quota.Store { return quota.NewStore(d.DB, d.Config.Tables.Quotas, d.Metrics) }

// Meter is the metering of metered functions: mount each metered endpoint
// with d.Meter().Handler (see package metering).
func (d *Deps) Meter() *metering.Meter {
	return metering.New(d.Sessions(), d.UsageStore(), d.Metrics, d.Now)
}

func (d *Deps) sessionHandlers() *session.Handlers {
	return &session.Handlers{Sessions: d.Sessions(), Accounts: d.Quotas(), Now: d.Now}
}

func (d *Deps) quotaHandlers() *quota.Handlers {
	return &quota.Handlers{Quotas: d.Quotas(), Prices: d.Prices(), PaymentsMode: d.Config.PaymentsMode, Now: d.Now}
}

// route builds a function serving one route.
func route(pattern string, access httpapi.Access, handler func(d *Deps) httpapi.HandlerFunc) HTTPBuilder {
	return func(d *Deps) (*httpapi.Server, error) {
		s := d.Server(d.UsageStore())
		s.Handle(pattern, access, handler(d))
		return s, nil
	}
}

// SessionStart builds POST /api/v1/sessions (WRITE).
func SessionStart(d *Deps) (*httpapi.Server, error) {
	return route("POST /api/v1/sessions", httpapi.Need(caller.Write),
		func(d *Deps) httpapi.HandlerFunc { return d.sessionHandlers().Start })(d)
}

// SessionList builds GET /api/v1/sessions (READ).
func SessionList(d *Deps) (*httpapi.Server, error) {
	return route("GET /api/v1/sessions", httpapi.Need(caller.Read),
		func(d *Deps) httpapi.HandlerFunc { return d.sessionHandlers().List })(d)
}

// SessionCurrent builds GET /api/v1/sessions/current (READ).
func SessionCurrent(d *Deps) (*httpapi.Server, error) {
	return route("GET /api/v1/sessions/current", httpapi.Need(caller.Read),
		func(d *Deps) httpapi.HandlerFunc { return d.sessionHandlers().Current })(d)
}

// SessionGet builds GET /api/v1/sessions/{session_id} (READ).
func SessionGet(d *Deps) (*httpapi.Server, error) {
	return route("GET /api/v1/sessions/{session_id}", httpapi.Need(caller.Read),
		func(d *Deps) httpapi.HandlerFunc { return d.sessionHandlers().Get })(d)
}

// SessionTerminate builds POST /api/v1/sessions/{session_id}/terminate
// (WRITE).
func SessionTerminate(d *Deps) (*httpapi.Server, error) {
	return route("POST /api/v1/sessions/{session_id}/terminate", httpapi.Need(caller.Write),
		func(d *Deps) httpapi.HandlerFunc { return d.sessionHandlers().Terminate })(d)
}

// QuotaGet builds GET /api/v1/sessions/quota (READ).
func QuotaGet(d *Deps) (*httpapi.Server, error) {
	return route("GET /api/v1/sessions/quota", httpapi.Need(caller.Read),
		func(d *Deps) httpapi.HandlerFunc { return d.quotaHandlers().Get })(d)
}

// QuotaAdd builds POST /api/v1/sessions/quota/add (ADMIN or master; the
// handler refuses ADMIN keys unless payments are in placeholder mode).
func QuotaAdd(d *Deps) (*httpapi.Server, error) {
	return route("POST /api/v1/sessions/quota/add", httpapi.Need(caller.Admin),
		func(d *Deps) httpapi.HandlerFunc { return d.quotaHandlers().Add })(d)
}

// Usage builds GET /api/v1/usage (READ).
func Usage(d *Deps) (*httpapi.Server, error) {
	return route("GET /api/v1/usage", httpapi.Need(caller.Read), accountUsage)(d)
}

// accountUsage is GET /api/v1/usage: the account's usage by day,
// endpoint and key, from ?from= (default: the account's creation day) to
// ?to= (default: today), UTC days as yyyy-mm-dd.
func accountUsage(d *Deps) httpapi.HandlerFunc {
	quotas, store := d.Quotas(), d.UsageStore()
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		var from, to time.Time
		for _, p := range []struct {
			name string
			dst  *time.Time
		}{{"from", &from}, {"to", &to}} {
			if raw := q.Get(p.name); raw != "" {
				t, err := time.Parse(usage.Day, raw)
				if err != nil {
					return problem.Invalid(p.name, "%s must be a date such as 2026-01-31", p.name)
				}
				*p.dst = t
			}
		}
		accountID, err := httpapi.AccountOf(r, q.Get("account_id"), quotas)
		if err != nil {
			return err
		}
		now := d.Now().UTC()
		if to.IsZero() {
			to = now.Truncate(24 * time.Hour)
		}
		if from.IsZero() {
			acc, err := quotas.Get(r.Context(), accountID, now)
			if err != nil {
				return quota.Problem(err)
			}
			from = acc.CreatedAt.Truncate(24 * time.Hour)
			if acc.CreatedAt.IsZero() || from.After(to) {
				from = to
			}
		}
		if to.Before(from) {
			return problem.Invalid("to", "to must not be before from")
		}
		rep, err := store.AccountUsage(r.Context(), accountID, from, to)
		if err != nil {
			return session.Problem(err)
		}
		return httpapi.WriteJSON(w, http.StatusOK, rep)
	}
}
