// Package sessions wires the session, quota and usage functions, the
// stream handler that ends expired sessions and the scheduled quota
// reconciler, over the store.
package sessions

import (
	"context"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/store"
	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/quota"
	"github.com/waickoff/waickoff/shared/session"
	"github.com/waickoff/waickoff/shared/telemetry"
)

func sessionHandlers(d *store.Deps) *session.Handlers {
	return &session.Handlers{Sessions: d.Sessions(), Accounts: d.Quotas(), Now: d.Now}
}

func quotaHandlers(d *store.Deps) *quota.Handlers {
	return &quota.Handlers{Quotas: d.Quotas(), Prices: d.Prices(), PaymentsMode: d.Config.PaymentsMode, Now: d.Now}
}

// route builds a function serving one route.
func route(d *store.Deps, pattern string, access httpapi.Access, h httpapi.HandlerFunc) (*httpapi.Server, error) {
	s := d.Server()
	s.Handle(pattern, access, h)
	return s, nil
}

// Start builds POST /api/v1/sessions (WRITE).
func Start(d *store.Deps) (*httpapi.Server, error) {
	return route(d, "POST /api/v1/sessions", httpapi.Need(caller.Write), sessionHandlers(d).Start)
}

// List builds GET /api/v1/sessions (READ).
func List(d *store.Deps) (*httpapi.Server, error) {
	return route(d, "GET /api/v1/sessions", httpapi.Need(caller.Read), sessionHandlers(d).List)
}

// Current builds GET /api/v1/sessions/current (READ).
func Current(d *store.Deps) (*httpapi.Server, error) {
	return route(d, "GET /api/v1/sessions/current", httpapi.Need(caller.Read), sessionHandlers(d).Current)
}

// Get builds GET /api/v1/sessions/{session_id} (READ).
func Get(d *store.Deps) (*httpapi.Server, error) {
	return route(d, "GET /api/v1/sessions/{session_id}", httpapi.Need(caller.Read), sessionHandlers(d).Get)
}

// Terminate builds POST /api/v1/sessions/{session_id}/terminate (WRITE).
func Terminate(d *store.Deps) (*httpapi.Server, error) {
	return route(d, "POST /api/v1/sessions/{session_id}/terminate", httpapi.Need(caller.Write), sessionHandlers(d).Terminate)
}

// QuotaGet builds GET /api/v1/sessions/quota (READ).
func QuotaGet(d *store.Deps) (*httpapi.Server, error) {
	return route(d, "GET /api/v1/sessions/quota", httpapi.Need(caller.Read), quotaHandlers(d).Get)
}

// QuotaAdd builds POST /api/v1/sessions/quota/add (ADMIN or master; the
// handler refuses ADMIN keys unless payments are in placeholder mode).
func QuotaAdd(d *store.Deps) (*httpapi.Server, error) {
	return route(d, "POST /api/v1/sessions/quota/add", httpapi.Need(caller.Admin), quotaHandlers(d).Add)
}

// Usage builds GET /api/v1/usage (READ).
func Usage(d *store.Deps) (*httpapi.Server, error) {
	return route(d, "GET /api/v1/usage", httpapi.Need(caller.Read), accountUsage(d))
}

// Expiry builds the sessions-stream handler (SessionExpiryFunction): a
// lease removed by TTL ends its session (session.Expiry).
func Expiry(d *store.Deps) (app.StreamHandler, error) {
	e := session.NewExpiry(d.Sessions(), d.Now)
	return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		return e.Handle(telemetry.WithLogger(ctx, d.Logger), ev)
	}, nil
}

// Reconcile builds the scheduled reconciler (QuotaReconcileFunction,
// quota.Reconciler).
func Reconcile(d *store.Deps) (app.ScheduleHandler, error) {
	r := quota.NewReconciler(d.Quotas(), d.Sessions(), d.Metrics, d.Now)
	return func(ctx context.Context, ev events.EventBridgeEvent) error {
		return r.Handle(telemetry.WithLogger(ctx, d.Logger), ev)
	}, nil
}

// accountUsage is GET /api/v1/usage: the account's usage by day,
// endpoint and key, from ?from= (default: the account's creation day) to
// ?to= (default: today), UTC days as yyyy-mm-dd.
func accountUsage(d *store.Deps) httpapi.HandlerFunc {
	quotas, records := d.Quotas(), d.Usage()
	return func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		from, to, err := httpapi.Days(q)
		if err != nil {
			return err
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
		if err := httpapi.DaysInOrder(from, to); err != nil {
			return err
		}
		rep, err := records.AccountUsage(r.Context(), accountID, from, to)
		if err != nil {
			return session.Problem(err)
		}
		return httpapi.WriteJSON(w, http.StatusOK, rep)
	}
}
