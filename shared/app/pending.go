package app

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"

	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/problem"
)

// pending mounts a route whose endpoint is not built yet: it answers 503
// so that no client mistakes it for a working one.
func pending(pattern string) HTTPBuilder {
	return func(d *Deps) (*httpapi.Server, error) {
		s := d.Server(nil)
		s.Handle(pattern, httpapi.Need(caller.Read), func(w http.ResponseWriter, r *http.Request) error {
			return problem.New(problem.ServiceUnavailable, "this endpoint is not available yet")
		})
		return s, nil
	}
}

// Authorizer builds the Lambda REQUEST authorizer. Until keys exist it
// answers Unauthorized for every request.
func Authorizer(d *Deps) (AuthorizerHandler, error) {
	return func(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
		return events.APIGatewayCustomAuthorizerResponse{}, errors.New("Unauthorized")
	}, nil
}

// SessionExpiry builds the sessions-stream handler.
func SessionExpiry(d *Deps) (StreamHandler, error) {
	return func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		for _, rec := range ev.Records {
			d.Logger.Info("lease removed", "event_id", rec.EventID, "event_name", rec.EventName)
		}
		return events.DynamoDBEventResponse{}, nil
	}, nil
}

// QuotaReconcile builds the scheduled reconciler.
func QuotaReconcile(d *Deps) (ScheduleHandler, error) {
	return func(ctx context.Context, ev events.EventBridgeEvent) error {
		d.Logger.Info("reconcile run", "event_id", ev.ID)
		return nil
	}, nil
}
