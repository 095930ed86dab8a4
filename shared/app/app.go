// Package app wires the service: it builds each Lambda's dependencies from
// the configuration and holds the catalogue of functions by their
// template logical ID, which both the Lambda mains and the local gateway
// use, so the two run the very same handlers.
package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/waickoff/waickoff/shared/config"
	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/pricing"
	"github.com/waickoff/waickoff/shared/telemetry"
	"github.com/waickoff/waickoff/shared/usage"
)

// Deps are what every function is built from.
type Deps struct {
	Config   config.Config
	DB       *dynamodb.Client
	Logger   *slog.Logger
	Metrics  *telemetry.Metrics
	Now      func() time.Time
	Function string
}

// NewDeps builds the dependencies of function from cfg, writing logs and
// metrics to out. A nil db builds the DynamoDB client from cfg.
func NewDeps(ctx context.Context, cfg config.Config, function string, out io.Writer, db *dynamodb.Client) (*Deps, error) {
	if db == nil {
		var err error
		db, err = dynamo.NewClient(ctx, dynamo.Options{Region: cfg.Region, Endpoint: cfg.DynamoDBEndpoint})
		if err != nil {
			return nil, fmt.Errorf("build DynamoDB client: %w", err)
		}
	}
	return &Deps{
		Config:   cfg,
		DB:       db,
		Logger:   telemetry.NewLogger(out, function),
		Metrics:  telemetry.NewMetrics(out, time.Now),
		Now:      time.Now,
		Function: function,
	}, nil
}

// Server returns an httpapi server with the deps' logger, metrics, body
// limit and the given usage recorder (nil for public functions).
func (d *Deps) Server(rec httpapi.Recorder) *httpapi.Server {
	return httpapi.New(httpapi.Options{Logger: d.Logger, Metrics: d.Metrics, Recorder: rec,
		Endpoint: usage.Endpoint, MaxBody: d.Config.MaxBodyBytes, Now: d.Now})
}

// Prices is the configured price list.
func (d *Deps) Prices() pricing.List { return pricing.New(d.Config.SessionPriceCents, d.Config.Tiers) }

// HTTPBuilder builds the server of one API function.
type HTTPBuilder func(d *Deps) (*httpapi.Server, error)

// AuthorizerHandler is the Lambda REQUEST authorizer.
type AuthorizerHandler func(context.Context, events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error)

// StreamHandler handles a DynamoDB stream batch.
type StreamHandler func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// ScheduleHandler handles a scheduled (EventBridge) event.
type ScheduleHandler func(context.Context, events.EventBridgeEvent) error

// Catalogue is every function by template logical ID.
type Catalogue struct {
	HTTP       map[string]HTTPBuilder
	Authorizer map[string]func(*Deps) (AuthorizerHandler, error)
	Stream     map[string]func(*Deps) (StreamHandler, error)
	Schedule   map[string]func(*Deps) (ScheduleHandler, error)
}

// Functions returns the catalogue.
func Functions() Catalogue {
	c := Catalogue{
		HTTP:       map[string]HTTPBuilder{},
		Authorizer: map[string]func(*Deps) (AuthorizerHandler, error){"AuthorizerFunction": Authorizer},
		Stream:     map[string]func(*Deps) (StreamHandler, error){"SessionExpiryFunction": SessionExpiry},
		Schedule:   map[string]func(*Deps) (ScheduleHandler, error){"QuotaReconcileFunction": QuotaReconcile},
	}
	for _, group := range []map[string]HTTPBuilder{publicFunctions, keyFunctions, sessionFunctions, indicatorFunctions} {
		for id, b := range group {
			c.HTTP[id] = b
		}
	}
	return c
}

// setup reads the configuration and builds the deps of a Lambda, or exits.
func setup(function string) (context.Context, *Deps) {
	ctx := context.Background()
	if name := os.Getenv("AWS_LAMBDA_FUNCTION_NAME"); name != "" {
		function = name
	}
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		fatal(function, "bad configuration", err)
	}
	d, err := NewDeps(ctx, cfg, function, os.Stdout, nil)
	if err != nil {
		fatal(function, "cannot start", err)
	}
	return ctx, d
}

func fatal(function, msg string, err error) {
	telemetry.NewLogger(os.Stderr, function).Error(msg, "error", err.Error())
	os.Exit(1)
}

// StartHTTP runs an API function in Lambda.
func StartHTTP(function string, build HTTPBuilder) {
	_, d := setup(function)
	s, err := build(d)
	if err != nil {
		fatal(function, "cannot build handler", err)
	}
	lambda.Start(s.Lambda())
}

// StartAuthorizer runs the authorizer in Lambda.
func StartAuthorizer(function string, build func(*Deps) (AuthorizerHandler, error)) {
	_, d := setup(function)
	h, err := build(d)
	if err != nil {
		fatal(function, "cannot build handler", err)
	}
	lambda.Start(h)
}

// StartStream runs a stream handler in Lambda.
func StartStream(function string, build func(*Deps) (StreamHandler, error)) {
	_, d := setup(function)
	h, err := build(d)
	if err != nil {
		fatal(function, "cannot build handler", err)
	}
	lambda.Start(h)
}

// StartSchedule runs a scheduled function in Lambda.
func StartSchedule(function string, build func(*Deps) (ScheduleHandler, error)) {
	_, d := setup(function)
	h, err := build(d)
	if err != nil {
		fatal(function, "cannot build handler", err)
	}
	lambda.Start(h)
}
