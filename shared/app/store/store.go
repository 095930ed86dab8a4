// Package store adds the DynamoDB tables to a function's deps: the
// stores of every domain over one client, the metering of metered
// routes, and Open, which wraps a builder that needs them into one that
// app.Start* runs. Only functions that reach the store import it.
package store

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/waickoff/waickoff/shared/account"
	"github.com/waickoff/waickoff/shared/apikey"
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/config"
	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/metering"
	"github.com/waickoff/waickoff/shared/quota"
	"github.com/waickoff/waickoff/shared/session"
	"github.com/waickoff/waickoff/shared/usage"
)

// MeteredRoutes are the routes that need an active session and whose
// successful requests the metering transaction charges (and counts, with
// usage.Store.ChargeItems).
var MeteredRoutes = []string{
	"POST /api/v1/indicators/{name}",
	"POST /api/v1/indicators/batch",
	"POST /api/v1/analysis/wyckoff",
}

// QuotedRoutes need an active session as the metered routes do but are
// charged nothing and write nothing: the dry-run quotes of the metered
// routes (shared/app/quote.Pattern and WyckoffPattern).
var QuotedRoutes = []string{"POST /api/v1/indicators/quote/{name}", "POST /api/v1/analysis/quote/wyckoff"}

// SessionAwareRoutes are the routes the authorizer hands the active
// session when there is one without requiring it: the MCP endpoint
// (mcpapi.Pattern), whose function decides call by call which need one.
var SessionAwareRoutes = []string{"POST /api/v1/mcp"}

// Deps are a function's deps and its DynamoDB client.
type Deps struct {
	*app.Deps
	DB *dynamodb.Client
}

// Builder builds the handler of one function that reaches the store.
type Builder[H any] func(*Deps) (H, error)

// HTTPBuilder builds the server of one API function that reaches the
// store.
type HTTPBuilder = Builder[*httpapi.Server]

// NewDeps builds the deps of function from cfg over db, writing logs and
// metrics to out. A nil db builds the DynamoDB client from cfg.
func NewDeps(ctx context.Context, cfg config.Config, function string, out io.Writer, db *dynamodb.Client) (*Deps, error) {
	return With(ctx, app.NewDeps(cfg, function, out), db)
}

// With adds the store to d: db, or when db is nil a client built from
// d's configuration (over d.StoreHTTP when set). Building the client
// makes no call.
func With(ctx context.Context, d *app.Deps, db *dynamodb.Client) (*Deps, error) {
	if db == nil {
		var err error
		db, err = dynamo.NewClient(ctx, dynamo.Options{Region: d.Config.Region, Endpoint: d.Config.DynamoDBEndpoint,
			HTTPClient: d.StoreHTTP})
		if err != nil {
			return nil, fmt.Errorf("build DynamoDB client: %w", err)
		}
	}
	return &Deps{Deps: d, DB: db}, nil
}

// Open turns b into a builder of app.Start*: it adds the store to the
// deps, then builds.
func Open[H any](b Builder[H]) app.Builder[H] {
	return func(d *app.Deps) (H, error) {
		sd, err := With(context.Background(), d, nil)
		if err != nil {
			var zero H
			return zero, err
		}
		return b(sd)
	}
}

// Server returns an httpapi server that records every keyed request in
// the usage table.
func (d *Deps) Server() *httpapi.Server { return d.ServerNaming(usage.Endpoint) }

// ServerNaming is Server with usage named by endpoint (the indicator
// functions name indicators, usage.Namer).
func (d *Deps) ServerNaming(endpoint func(pattern string, r *http.Request) string) *httpapi.Server {
	return d.Deps.Server(d.Usage(), endpoint)
}

// Keys is the key store over the ApiKeysTable.
func (d *Deps) Keys() *apikey.Store { return apikey.NewStore(d.DB, d.Config.Tables.APIKeys) }

// Accounts is the account store over the QuotasTable.
func (d *Deps) Accounts() *account.Store {
	return account.NewStore(d.DB, d.Config.Tables.Quotas, d.Keys())
}

// Sessions is the session store over the tables; it is also the
// authorizer's active-session lookup (authorizer.Sessions).
func (d *Deps) Sessions() *session.Store {
	return session.NewStore(d.DB, d.Config.Tables, session.Options{TTL: d.Config.SessionTTL,
		TokenLimit: d.Config.SessionTokenLimit, Metrics: d.Metrics})
}

// Quotas is the quota store over the QuotasTable.
func (d *Deps) Quotas() *quota.Store { return quota.NewStore(d.DB, d.Config.Tables.Quotas, d.Metrics) }

// Usage is the usage store over the UsageTable; it is also the
// httpapi.Recorder of every keyed function (Server).
func (d *Deps) Usage() *usage.Store {
	return usage.New(d.DB, d.Config.Tables.Usage, MeteredRoutes)
}

// Meter is the metering of metered functions: mount each metered endpoint
// with d.Meter().Handler (see package metering).
func (d *Deps) Meter() *metering.Meter {
	return metering.New(d.Sessions(), d.Usage(), d.Metrics, d.Now)
}
