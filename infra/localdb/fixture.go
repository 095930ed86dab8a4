package localdb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/waickoff/waickoff/shared/config"
	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/shared/samtemplate"
)

// Fixture is a DynamoDB-protocol server with the template's tables,
// created under fresh names, for tests. With DYNAMODB_ENDPOINT set it
// uses that server instead of starting moto.
type Fixture struct {
	Server   *Server // nil when DYNAMODB_ENDPOINT was used
	Endpoint string
	Template *samtemplate.Template
	Root     string
	DB       *dynamodb.Client
	Counter  *dynamo.Counter
	Tables   config.Tables
}

// NewFixture starts the server and creates the tables.
func NewFixture(ctx context.Context) (*Fixture, error) {
	tpl, root, err := samtemplate.LoadNearest()
	if err != nil {
		return nil, err
	}
	f := &Fixture{Template: tpl, Root: root, Endpoint: os.Getenv("DYNAMODB_ENDPOINT")}
	if f.Endpoint == "" {
		srv, err := Start(ctx, f.Root)
		if err != nil {
			return nil, err
		}
		f.Server, f.Endpoint = srv, srv.Endpoint
	}
	f.Counter = &dynamo.Counter{Next: fixtureHTTPClient()}
	f.DB, err = dynamo.NewClient(ctx, dynamo.Options{Region: "us-east-1", Endpoint: f.Endpoint, HTTPClient: f.Counter})
	if err != nil {
		f.Close()
		return nil, err
	}
	if f.Tables, err = f.newTables(ctx); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// newTables creates every template table under fresh names.
func (f *Fixture) newTables(ctx context.Context) (config.Tables, error) {
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	tag := hex.EncodeToString(suffix[:])
	names := TableNames{}
	for id := range f.Template.Tables {
		names[id] = fmt.Sprintf("%s-%s", id, tag)
	}
	if err := CreateTables(ctx, f.DB, f.Template, names); err != nil {
		return config.Tables{}, err
	}
	return config.Tables{APIKeys: names["ApiKeysTable"], Sessions: names["SessionsTable"],
		Usage: names["UsageTable"], Quotas: names["QuotasTable"]}, nil
}

// Config returns a valid configuration pointing at the fixture's tables,
// with the given environment overrides.
func (f *Fixture) Config(env map[string]string) (config.Config, error) {
	return f.configFor(f.Tables, env)
}

// IsolatedConfig is Config over tables of its own, created for the
// caller: for a test that reads whole tables (the reconciler walks every
// account) or must see no other test's items.
func (f *Fixture) IsolatedConfig(ctx context.Context, env map[string]string) (config.Config, error) {
	tables, err := f.newTables(ctx)
	if err != nil {
		return config.Config{}, err
	}
	return f.configFor(tables, env)
}

func (f *Fixture) configFor(t config.Tables, env map[string]string) (config.Config, error) {
	base := map[string]string{
		"DYNAMODB_ENDPOINT": f.Endpoint,
		"API_KEYS_TABLE":    t.APIKeys,
		"SESSIONS_TABLE":    t.Sessions,
		"USAGE_TABLE":       t.Usage,
		"QUOTAS_TABLE":      t.Quotas,
	}
	for k, v := range env {
		base[k] = v
	}
	return config.FromEnv(func(k string) string { return base[k] })
}

// Close stops the server the fixture started.
func (f *Fixture) Close() {
	if f != nil && f.Server != nil {
		f.Server.Stop()
	}
}

// Main is a test package's TestMain body: it starts a fixture into *fx,
// runs the tests and stops the fixture, then exits with the tests' code.
func Main(m interface{ Run() int }, fx **Fixture) {
	f, err := NewFixture(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "localdb fixture:", err)
		os.Exit(1)
	}
	*fx = f
	code := m.Run()
	f.Close()
	os.Exit(code)
}

// fixtureHTTPClient is the fixture's HTTP client: production's pooled
// transport with a minute a call instead of five seconds. moto serves one
// request at a time, so on a busy machine an answer can come after five
// seconds; with production's budget the SDK would then re-send a write
// that was already applied, and a test would see its own retry's
// ConditionalCheckFailed or ResourceInUse instead of the answer it asked for.
func fixtureHTTPClient() *http.Client {
	hc := dynamo.DefaultHTTPClient()
	hc.Timeout = time.Minute
	return hc
}
