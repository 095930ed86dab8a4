package load

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/waickoff/waickoff/infra/local"
	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/tests/load/memdb"
)

// Backend is the DynamoDB the API under load runs on.
type Backend int

const (
	// Moto is the DynamoDB-protocol server of make run and the tests
	// (or DYNAMODB_ENDPOINT when set).
	Moto Backend = iota
	// Memory answers the SDK's calls from memory at its HTTP client
	// (package memdb): the API's own cost with no database.
	Memory
)

func (b Backend) String() string {
	if b == Memory {
		return "memdb (store calls stubbed at the SDK's HTTP client)"
	}
	return "moto"
}

// Target is a local API under load.
type Target struct {
	API     *local.API
	Backend Backend
	// DB reads the API's tables directly (the audit).
	DB *dynamodb.Client
	// Timer times every DynamoDB call the API makes.
	Timer *Timer
}

// TargetOptions configure StartTarget.
type TargetOptions struct {
	Backend Backend
	// Env is configuration on top of the defaults (SESSION_TOKEN_LIMIT,
	// ...). DYNAMODB_ENDPOINT from the environment is honoured for Moto.
	Env map[string]string
	// Logs receives the functions' logs (nil: discarded).
	Logs io.Writer
}

// StartTarget boots the whole local API on a free loopback port with
// fresh tables. The TTL sweeper is slowed to once an hour: in AWS, TTL
// deletions cost no request capacity, while the local emulation scans the
// tables, which would charge the benchmark for the emulator's work.
func StartTarget(ctx context.Context, o TargetOptions) (*Target, error) {
	env := map[string]string{}
	for k, v := range o.Env {
		env[k] = v
	}
	t := &Target{Backend: o.Backend}
	var next aws.HTTPClient
	switch o.Backend {
	case Memory:
		env["DYNAMODB_ENDPOINT"] = memdb.Endpoint
		next = memdb.New()
	default:
		if _, set := env["DYNAMODB_ENDPOINT"]; !set {
			env["DYNAMODB_ENDPOINT"] = os.Getenv("DYNAMODB_ENDPOINT")
		}
		next = dynamo.NewCounter()
	}
	t.Timer = &Timer{Next: next}
	logs := o.Logs
	if logs == nil {
		logs = io.Discard
	}
	api, err := local.Start(ctx, local.Options{
		Getenv: func(k string) string { return env[k] }, Addr: "127.0.0.1:0", Logs: logs,
		SweepEvery: time.Hour, TableSuffix: fmt.Sprintf("-load%d", time.Now().UnixNano()),
		DynamoDBHTTPClient: t.Timer,
	})
	if err != nil {
		return nil, err
	}
	t.API = api
	t.DB, err = dynamo.NewClient(ctx, dynamo.Options{Region: api.Config.Region, Endpoint: api.Endpoint, HTTPClient: next})
	if err != nil {
		api.Stop()
		return nil, err
	}
	return t, nil
}

// Stop shuts the API (and the server it started) down.
func (t *Target) Stop() { t.API.Stop() }

// Timer is an aws.HTTPClient that times the calls it passes on, by
// operation.
type Timer struct {
	Next aws.HTTPClient
	mu   sync.Mutex
	ops  map[string]*OpTime
}

// OpTime is the calls of one DynamoDB operation.
type OpTime struct {
	Calls int64
	Total time.Duration
}

// Do times one call.
func (t *Timer) Do(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.Next.Do(req)
	// The SDK reads the body after Do returns; for DynamoDB's small JSON
	// answers the round trip is over when the headers are in.
	d := time.Since(start)
	op := strings.TrimPrefix(req.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	t.mu.Lock()
	if t.ops == nil {
		t.ops = map[string]*OpTime{}
	}
	o := t.ops[op]
	if o == nil {
		o = &OpTime{}
		t.ops[op] = o
	}
	o.Calls++
	o.Total += d
	t.mu.Unlock()
	return resp, err
}

// Snapshot returns the figures so far by operation.
func (t *Timer) Snapshot() map[string]OpTime {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]OpTime, len(t.ops))
	for k, v := range t.ops {
		out[k] = *v
	}
	return out
}

// DBTime is the difference between two snapshots: calls and time spent
// inside DynamoDB calls.
type DBTime struct {
	Calls int64
	Total time.Duration
	ByOp  map[string]OpTime
}

// Since returns the calls made after the snapshot before.
func (t *Timer) Since(before map[string]OpTime) DBTime {
	now := t.Snapshot()
	d := DBTime{ByOp: map[string]OpTime{}}
	for op, v := range now {
		b := before[op]
		x := OpTime{Calls: v.Calls - b.Calls, Total: v.Total - b.Total}
		if x.Calls == 0 {
			continue
		}
		d.ByOp[op] = x
		d.Calls += x.Calls
		d.Total += x.Total
	}
	return d
}

// String lists the operations, busiest first.
func (d DBTime) String() string {
	ops := make([]string, 0, len(d.ByOp))
	for op := range d.ByOp {
		ops = append(ops, op)
	}
	sort.Slice(ops, func(i, j int) bool { return d.ByOp[ops[i]].Calls > d.ByOp[ops[j]].Calls })
	var b strings.Builder
	for _, op := range ops {
		v := d.ByOp[op]
		fmt.Fprintf(&b, "%s %d x %s; ", op, v.Calls, (v.Total / time.Duration(v.Calls)).Round(time.Microsecond))
	}
	return strings.TrimSuffix(b.String(), "; ")
}
