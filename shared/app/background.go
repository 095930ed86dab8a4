package app

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/waickoff/waickoff/shared/quota"
	"github.com/waickoff/waickoff/shared/session"
	"github.com/waickoff/waickoff/shared/telemetry"
)

// SessionExpiry builds the sessions-stream handler (SessionExpiryFunction):
// a lease removed by TTL ends its session (session.Expiry).
func SessionExpiry(d *Deps) (StreamHandler, error) {
	e := session.NewExpiry(d.Sessions(), d.Now)
	return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		return e.Handle(telemetry.WithLogger(ctx, d.Logger), ev)
	}, nil
}

// QuotaReconcile builds the scheduled reconciler (QuotaReconcileFunction,
// quota.Reconciler).
func QuotaReconcile(d *Deps) (ScheduleHandler, error) {
	r := quota.NewReconciler(d.Quotas(), d.Sessions(), d.Metrics, d.Now)
	return func(ctx context.Context, ev events.EventBridgeEvent) error {
		return r.Handle(telemetry.WithLogger(ctx, d.Logger), ev)
	}, nil
}
