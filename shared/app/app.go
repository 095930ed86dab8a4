// Package app is what every function's main is built from: the
// dependencies a handler needs whatever its domain (configuration, JSON
// logger, EMF metrics, clock) and the Start functions that hand a built
// handler to Lambda. It never touches the store: the functions that do
// add it with package store, so a function that never reaches DynamoDB
// does not link a DynamoDB client.
package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/waickoff/waickoff/shared/config"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/pricing"
	"github.com/waickoff/waickoff/shared/telemetry"
)

// HTTPClient is the shape of the client that carries a function's store
// calls (the SDK's aws.HTTPClient).
type HTTPClient interface {
	Do(*http.Request) (*http.Response, error)
}

// Deps are what every function is built from.
type Deps struct {
	Config   config.Config
	Logger   *slog.Logger
	Metrics  *telemetry.Metrics
	Now      func() time.Time
	Function string
	// StoreHTTP, when set, carries the function's store calls (the local
	// gateway passes each function's IAM guard); nil is the SDK's
	// default. Only functions built with package store use it.
	StoreHTTP HTTPClient
	// Flushers are what a handler holds in memory to write later (the
	// authorizer's tally of rate-limited requests, shared/refusals): the
	// builder adds them, and the local run writes them out before an
	// audit, as an instance about to stop would.
	Flushers []Flusher
	// MasterKey, when set, reads the operator key from the secret the
	// configuration names (the local run's Secrets Manager stand-in);
	// nil is Secrets Manager with the Lambda's role. Only the
	// authorizer's configuration names a secret.
	MasterKey MasterKeyLoader
}

// Flusher writes what it holds (Flush) and tells how much is still
// unwritten (Pending).
type Flusher interface {
	Flush(ctx context.Context, now time.Time)
	Pending() int64
}

// MasterKeyLoader reads the operator key kept in a secret.
type MasterKeyLoader func(ctx context.Context, secret string) (string, error)

// NewDeps builds the dependencies of function from cfg, writing logs and
// metrics to out.
func NewDeps(cfg config.Config, function string, out io.Writer) *Deps {
	return &Deps{
		Config:   cfg,
		Logger:   telemetry.NewLoggerAt(out, function, cfg.LogLevel),
		Metrics:  telemetry.NewMetrics(out, time.Now),
		Now:      time.Now,
		Function: function,
	}
}

// Server returns an httpapi server with the deps' logger, metrics and
// body limit, recording keyed requests with rec (nil: none).
func (d *Deps) Server(rec httpapi.Recorder, endpoint func(pattern string, r *http.Request) string) *httpapi.Server {
	return httpapi.New(httpapi.Options{Logger: d.Logger, Metrics: d.Metrics, Recorder: rec,
		Endpoint: endpoint, MaxBody: d.Config.MaxBodyBytes, Now: d.Now})
}

// Prices is the configured price list.
func (d *Deps) Prices() pricing.List { return pricing.New(d.Config.SessionPriceCents, d.Config.Tiers) }

// HTTPBuilder builds the server of one API function.
type HTTPBuilder = Builder[*httpapi.Server]

// Builder builds the handler of one function from its deps.
type Builder[H any] func(*Deps) (H, error)

// AuthorizerHandler is the Lambda REQUEST authorizer.
type AuthorizerHandler func(context.Context, events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error)

// StreamHandler handles a DynamoDB stream batch.
type StreamHandler func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// ScheduleHandler handles a scheduled (EventBridge) event.
type ScheduleHandler func(context.Context, events.EventBridgeEvent) error

// setup reads the configuration and builds the deps of a Lambda, or exits.
func setup(function string) *Deps {
	if name := os.Getenv("AWS_LAMBDA_FUNCTION_NAME"); name != "" {
		function = name
	}
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		fatal(function, "bad configuration", err)
	}
	return NewDeps(cfg, function, os.Stdout)
}

func fatal(function, msg string, err error) {
	telemetry.NewLogger(os.Stderr, function).Error(msg, "error", err.Error())
	os.Exit(1)
}

func build[H any](function string, b Builder[H]) H {
	h, err := b(setup(function))
	if err != nil {
		fatal(function, "cannot build handler", err)
	}
	return h
}

// StartHTTP runs an API function in Lambda.
func StartHTTP(function string, b HTTPBuilder) { lambda.Start(build(function, b).Lambda()) }

// StartAuthorizer runs the authorizer in Lambda.
func StartAuthorizer(function string, b Builder[AuthorizerHandler]) { lambda.Start(build(function, b)) }

// StartStream runs a stream handler in Lambda.
func StartStream(function string, b Builder[StreamHandler]) { lambda.Start(build(function, b)) }

// StartSchedule runs a scheduled function in Lambda.
func StartSchedule(function string, b Builder[ScheduleHandler]) { lambda.Start(build(function, b)) }
