// Package local runs the whole API on this machine the way AWS runs it:
// the template's routes behind the emulated API Gateway and authorizer,
// the real Lambda handlers, a DynamoDB-protocol server (moto, unless
// DYNAMODB_ENDPOINT names one) with the template's tables, and the TTL,
// stream and schedule emulation. `make run` and the end-to-end tests start
// it through Start.
package local

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/waickoff/waickoff/infra/emulator"
	"github.com/waickoff/waickoff/infra/gateway"
	"github.com/waickoff/waickoff/infra/iam"
	"github.com/waickoff/waickoff/infra/localdb"
	"github.com/waickoff/waickoff/infra/secretstore"
	"github.com/waickoff/waickoff/shared/apikey"
	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/catalogue"
	"github.com/waickoff/waickoff/shared/config"
	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/shared/masterkey"
	"github.com/waickoff/waickoff/shared/samtemplate"
	"github.com/waickoff/waickoff/shared/telemetry"
)

// Options configure a local run.
type Options struct {
	// Root is the repository root (holding template.yaml); "" finds it
	// from the working directory.
	Root string
	// Getenv reads the configuration (os.Getenv for make run).
	Getenv func(string) string
	// Addr overrides the listen address ("127.0.0.1:0" in tests); empty
	// means 127.0.0.1:$PORT.
	Addr string
	// Logs receives every function's JSON logs and metrics.
	Logs io.Writer
	// SweepEvery is how often the TTL sweeper runs (default 1s).
	SweepEvery time.Duration
	// TableSuffix is appended to table names (tests use fresh tables).
	TableSuffix string
	// OnAccess, when set, is called once each request is answered (make
	// run prints a line a request with it).
	OnAccess func(gateway.Access)
	// Timeouts, when set, replace the template Timeout of the functions
	// they name (tests make a function overrun with a short one).
	Timeouts map[string]time.Duration
	// DynamoDBHTTPClient, when set, is the DynamoDB client's HTTP client
	// (the load benchmark times the database calls with it, or answers
	// them from memory); nil uses the SDK's default.
	DynamoDBHTTPClient aws.HTTPClient
	// IAMRecorder, when set, records every call a function's role
	// allowed (the end-to-end tests compare what all their runs called
	// with what the template grants: UnusedGrants).
	IAMRecorder *iam.Recorder
}

// API is a running local API.
type API struct {
	URL        string
	MasterKey  string
	Endpoint   string
	Config     config.Config
	Gateway    *gateway.Gateway
	Emulator   *emulator.Emulator
	Template   *samtemplate.Template
	TableNames map[string]string
	// Resolved is the template resolved for the run's parameters.
	Resolved *samtemplate.Resolved
	DB       *localdb.Server // nil with DYNAMODB_ENDPOINT
	iam      map[string]*iam.Client
	configs  map[string]config.Config // by function; "" is the Globals'
	flushers []app.Flusher
	server   *http.Server
	// secrets is the Secrets Manager stand-in, served by secretSrv.
	secrets   *secretstore.Store
	secretSrv *http.Server
	cancel    context.CancelFunc
	done      chan struct{}
}

// Start brings the API up and returns once it is listening.
func Start(ctx context.Context, o Options) (*API, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Logs == nil {
		o.Logs = os.Stdout
	}
	if o.SweepEvery == 0 {
		o.SweepEvery = time.Second
	}
	root := o.Root
	if root == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		p, err := samtemplate.Find(wd)
		if err != nil {
			return nil, err
		}
		root = filepath.Dir(p)
	}
	tpl, err := samtemplate.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		return nil, err
	}
	for id, d := range o.Timeouts {
		f, ok := tpl.Functions[id]
		if !ok {
			return nil, fmt.Errorf("timeout for %s: no such function in template.yaml", id)
		}
		f.Timeout = d
		tpl.Functions[id] = f
	}

	// Table names come from the template: each !Ref to a table is that
	// table's logical ID (plus the suffix) unless the environment says
	// otherwise.
	names := map[string]string{}
	for id := range tpl.Tables {
		names[id] = id + o.TableSuffix
	}
	for v, val := range tpl.Environment {
		if _, isTable := tpl.Tables[val.Ref]; isTable {
			if set := o.Getenv(v); set != "" {
				names[val.Ref] = set
			}
		}
	}
	// The master key is the operator's input (MASTER_API_KEY) or a fresh
	// one; it goes into the Secrets Manager stand-in, and only the
	// authorizer learns where (template.yaml's MasterKeySecret).
	master := o.Getenv("MASTER_API_KEY")
	if master == "" {
		master = GenerateMasterKey()
	}
	if err := apikey.CheckMaster(master); err != nil {
		return nil, fmt.Errorf("MASTER_API_KEY: %w", err)
	}
	stack := Stack(names, Parameters(tpl, o.Getenv, true))
	resolved, envs, err := Environments(tpl, stack)
	if err != nil {
		return nil, err
	}
	api := &API{MasterKey: master, Template: tpl, TableNames: names, Resolved: resolved, done: make(chan struct{})}
	local := map[string]string{}
	endpoint := o.Getenv("DYNAMODB_ENDPOINT")
	if endpoint == "" {
		srv, err := localdb.Start(ctx, root)
		if err != nil {
			return nil, fmt.Errorf("start the local DynamoDB server: %w", err)
		}
		api.DB, endpoint = srv, srv.Endpoint
		local["DYNAMODB_ENDPOINT"] = endpoint
	}
	api.Endpoint = endpoint
	vars := tpl.Variables()
	api.configs = map[string]config.Config{}
	for id, env := range envs {
		cfg, err := config.FromEnv(functionGetenv(env, vars, local, o.Getenv))
		if err != nil {
			api.stopDB()
			if id == "" {
				id = "Globals"
			}
			return nil, fmt.Errorf("configuration of %s: %w", id, err)
		}
		api.configs[id] = cfg
	}
	api.Config = api.configs[""]
	if err := api.wire(ctx, o); err != nil {
		api.stopDB()
		return nil, err
	}
	return api, nil
}

func (api *API) wire(ctx context.Context, o Options) error {
	cfg := api.Config
	hc := o.DynamoDBHTTPClient
	if hc == nil {
		hc = dynamo.DefaultHTTPClient()
	}
	db, err := dynamo.NewClient(ctx, dynamo.Options{Region: cfg.Region, Endpoint: cfg.DynamoDBEndpoint, HTTPClient: hc})
	if err != nil {
		return err
	}
	if err := localdb.CreateTables(ctx, db, api.Template, api.TableNames); err != nil {
		return err
	}
	cat := catalogue.Functions()
	// Each function calls the store under its own template policies, as
	// its role does in AWS (infra/iam); the TTL sweeper is DynamoDB's own.
	api.iam = map[string]*iam.Client{}
	secrets, err := api.startSecretStore()
	if err != nil {
		return err
	}
	secretsHTTP := dynamo.DefaultHTTPClient()
	hashKeys, tableIDs := map[string]string{}, map[string]string{}
	for id, t := range api.Template.Tables {
		hashKeys[api.TableNames[id]] = t.HashKey
		tableIDs[api.TableNames[id]] = id
	}
	deps := func(fn string) (*app.Deps, error) {
		sts, err := api.Resolved.Policies(fn)
		if err != nil {
			return nil, err
		}
		guard, err := iam.New(fn, iam.Policy{Statements: sts, TableARN: api.Resolved.TableARN, HashKeys: hashKeys,
			SecretARN: api.secrets.ARN, TableIDs: tableIDs}, secretsApart{store: hc, secrets: secretsHTTP})
		if err != nil {
			return nil, err
		}
		if o.IAMRecorder != nil {
			guard.RecordInto(o.IAMRecorder)
		}
		api.iam[fn] = guard
		fcfg := api.configs[fn]
		d := app.NewDeps(fcfg, fn, o.Logs)
		d.StoreHTTP = guard
		// Any function may try to read a secret: its role decides, as in
		// AWS (only the authorizer's grants secretsmanager:GetSecretValue,
		// and only the authorizer's configuration names the secret).
		d.MasterKey = func(ctx context.Context, name string) (string, error) {
			c, err := masterkey.NewClient(masterkey.Options{Region: fcfg.Region, Endpoint: secrets, HTTPClient: guard}, func(string) string { return "" })
			if err != nil {
				return "", err
			}
			return masterkey.Load(ctx, c, name)
		}
		return d, nil
	}
	handlers := map[string]gateway.ProxyHandler{}
	var authorizer app.AuthorizerHandler
	streams := map[string]app.StreamHandler{}
	schedules := map[string]app.ScheduleHandler{}
	for _, id := range api.Template.FunctionIDs() {
		d, err := deps(id)
		if err != nil {
			return err
		}
		switch {
		case cat.HTTP[id] != nil:
			s, err := cat.HTTP[id](d)
			if err != nil {
				return fmt.Errorf("build %s: %w", id, err)
			}
			handlers[id] = s.Lambda()
		case cat.Authorizer[id] != nil:
			h, err := cat.Authorizer[id](d)
			if err != nil {
				return fmt.Errorf("build %s: %w", id, err)
			}
			if id == api.Template.DefaultAuthorizer {
				authorizer = h
			}
		case cat.Stream[id] != nil:
			h, err := cat.Stream[id](d)
			if err != nil {
				return fmt.Errorf("build %s: %w", id, err)
			}
			streams[id] = h
		case cat.Schedule[id] != nil:
			h, err := cat.Schedule[id](d)
			if err != nil {
				return fmt.Errorf("build %s: %w", id, err)
			}
			schedules[id] = h
		default:
			return fmt.Errorf("function %s is in template.yaml but not in the app catalogue", id)
		}
		api.flushers = append(api.flushers, d.Flushers...)
	}
	logger := telemetry.NewLoggerAt(o.Logs, "local-gateway", cfg.LogLevel)
	gw, err := gateway.New(api.Template, handlers, authorizer, logger)
	if err != nil {
		return err
	}
	em, err := emulator.New(emulator.Options{DB: db, Template: api.Template, TableNames: api.TableNames,
		Streams: streams, Schedules: schedules, Logger: logger})
	if err != nil {
		return err
	}
	if o.OnAccess != nil {
		gw.OnAccess(o.OnAccess)
	}
	api.Gateway, api.Emulator = gw, em

	addr := o.Addr
	if addr == "" {
		addr = fmt.Sprintf("127.0.0.1:%d", cfg.Port)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	api.URL = "http://" + ln.Addr().String()
	api.server = &http.Server{Handler: gw, ReadHeaderTimeout: 10 * time.Second}
	runCtx, cancel := context.WithCancel(context.Background())
	api.cancel = cancel
	go func() {
		em.Run(runCtx, o.SweepEvery)
	}()
	go func() {
		defer close(api.done)
		if err := api.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("serve", "error", err.Error())
		}
	}()
	return nil
}

// startSecretStore serves the Secrets Manager stand-in, holding the
// master key, on a loopback port and returns its URL.
func (api *API) startSecretStore() (string, error) {
	api.secrets = secretstore.New(gateway.Region, gateway.AccountID)
	api.secrets.Put(MasterKeySecret, api.MasterKey)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("secret store: %w", err)
	}
	api.secretSrv = &http.Server{Handler: api.secrets, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = api.secretSrv.Serve(ln) }()
	return "http://" + ln.Addr().String(), nil
}

// Env returns the environment a function was started with: the template's
// variables as CloudFormation resolves them for the run's parameters
// (function "" gives the Globals).
func (api *API) Env(function string) (map[string]string, error) {
	return api.Resolved.Environment(function)
}

// StoreHTTP returns the HTTP client a function's DynamoDB client uses:
// its role's check (infra/iam) over the store. Tests that build a
// function's handler themselves call the store through it, as the
// function would.
func (api *API) StoreHTTP(function string) (aws.HTTPClient, bool) {
	c, ok := api.iam[function]
	return c, ok
}

// FunctionConfig returns the configuration a function was built with.
func (api *API) FunctionConfig(function string) (config.Config, bool) {
	c, ok := api.configs[function]
	return c, ok
}

// IAMDenied lists the store calls refused because the calling function's
// template policies do not allow them ("Function: dynamodb:Action on
// table"), in function order. A correct template gives none.
func (api *API) IAMDenied() []string {
	var out []string
	for _, fn := range api.Template.FunctionIDs() {
		if c := api.iam[fn]; c != nil {
			for _, d := range c.Denied() {
				out = append(out, fn+": "+d)
			}
		}
	}
	return out
}

// Flush writes what the functions hold in memory (app.Deps.Flushers:
// the authorizer's tally of rate-limited requests) now, as an instance
// about to stop would; the audit of a load run reads exact counts after
// it. It returns what is still unwritten.
func (api *API) Flush(ctx context.Context) int64 {
	var left int64
	for _, f := range api.flushers {
		f.Flush(ctx, time.Now())
		left += f.Pending()
	}
	return left
}

// StoreCalls returns each function's DynamoDB calls so far, by
// operation (iam.Client.Calls), for the functions that made any.
func (api *API) StoreCalls() map[string]map[string]int64 {
	out := map[string]map[string]int64{}
	for fn, c := range api.iam {
		if calls := c.Calls(); len(calls) > 0 {
			out[fn] = calls
		}
	}
	return out
}

// Stop shuts the API down and stops the DynamoDB server it started.
func (api *API) Stop() {
	if api.cancel != nil {
		api.cancel()
	}
	if api.server != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = api.server.Shutdown(ctx)
		cancel()
		<-api.done
	}
	if api.secretSrv != nil {
		_ = api.secretSrv.Close()
	}
	api.stopDB()
}

func (api *API) stopDB() {
	if api.DB != nil {
		api.DB.Stop()
	}
}

// Banner describes the running API for the console.
func (api *API) Banner() string {
	var b strings.Builder
	fmt.Fprintf(&b, "WAIckoff API (stage %s) listening on %s/api/v1\n", api.Config.Stage, api.URL)
	fmt.Fprintf(&b, "  master key:  %s\n", api.MasterKey)
	fmt.Fprintf(&b, "  DynamoDB:    %s", api.Endpoint)
	if api.DB != nil {
		fmt.Fprintf(&b, " (moto, pid %d)", api.DB.PID())
	}
	fmt.Fprintf(&b, "\n  session:     %s or %d tokens; payments %s\n", api.Config.SessionTTL, api.Config.SessionTokenLimit, api.Config.PaymentsMode)
	routes := api.Gateway.Routes()
	fmt.Fprintf(&b, "  routes (%d):\n", len(routes))
	for _, r := range routes {
		fmt.Fprintf(&b, "    %s\n", r)
	}
	var bg []string
	for _, s := range api.Emulator.Schedules() {
		bg = append(bg, fmt.Sprintf("%s every %s", s.Function, s.Every))
	}
	sort.Strings(bg)
	fmt.Fprintf(&b, "  background:  TTL sweeper + streams; %s\n", strings.Join(bg, ", "))
	b.WriteString("  Ctrl-C (or SIGTERM to make or to this process) stops everything.\n")
	return b.String()
}

// GenerateMasterKey returns a fresh operator key in the key format's
// outline (wk_ + 43 URL-safe characters).
func GenerateMasterKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return "wk_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// Logger returns a logger for the local run's own messages.
func Logger(w io.Writer) *slog.Logger { return telemetry.NewLogger(w, "local") }

// secretsApart sends Secrets Manager calls to the stand-in over HTTP and
// every other call to the store's client, which in a benchmark may be a
// DynamoDB answered in memory that knows nothing of secrets.
type secretsApart struct{ store, secrets aws.HTTPClient }

func (c secretsApart) Do(r *http.Request) (*http.Response, error) {
	if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.") {
		return c.secrets.Do(r)
	}
	return c.store.Do(r)
}
