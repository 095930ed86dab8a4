package session_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/infra/localdb"
	"github.com/waickoff/waickoff/shared/app/sessions"
	"github.com/waickoff/waickoff/shared/app/store"
	"github.com/waickoff/waickoff/shared/session"
	"github.com/waickoff/waickoff/shared/session/sessiontest"
)

var fx *localdb.Fixture

func TestMain(m *testing.M) { localdb.Main(m, &fx) }

// clock is a settable clock; zero means the real time.
type clock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// logs collects log and EMF lines safely across goroutines.
type logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the JSON lines that have every key/value of match.
func (l *logs) lines(match map[string]any) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.b.Bytes()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		ok := true
		for k, v := range match {
			if fmt.Sprint(m[k]) != fmt.Sprint(v) {
				ok = false
			}
		}
		if ok {
			out = append(out, m)
		}
	}
	return out
}

// metric sums an EMF metric over the lines that carry it (and the
// dimension values given).
func (l *logs) metric(name string, dims map[string]any) float64 {
	var sum float64
	for _, m := range l.lines(dims) {
		if _, emf := m["_aws"]; !emf {
			continue
		}
		if v, ok := m[name].(float64); ok {
			sum += v
		}
	}
	return sum
}

// env is the session functions wired as in Lambda, over the fixture.
type env struct {
	t     *testing.T
	d     *store.Deps
	clock *clock
	logs  *logs
	store *session.Store
	h     map[string]sessiontest.Handler
}

func newEnv(t *testing.T, over map[string]string) *env {
	t.Helper()
	cfg, err := fx.Config(over)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, clock: &clock{}, logs: &logs{}, h: map[string]sessiontest.Handler{}}
	e.d, err = store.NewDeps(context.Background(), cfg, "test", e.logs, fx.DB)
	if err != nil {
		t.Fatal(err)
	}
	e.d.Now = e.clock.Now
	e.store = e.d.Sessions()
	for name, b := range map[string]store.HTTPBuilder{"start": sessions.Start, "current": sessions.Current,
		"list": sessions.List, "get": sessions.Get, "terminate": sessions.Terminate, "quota": sessions.QuotaGet} {
		s, err := b(e.d)
		if err != nil {
			t.Fatal(err)
		}
		e.h[name] = s.Lambda()
	}
	return e
}

func (e *env) account(quota int64) string {
	return sessiontest.Account(e.t, fx.DB, fx.Tables.Quotas, quota)
}

func (e *env) do(name string, r sessiontest.Request) sessiontest.Response {
	e.t.Helper()
	return sessiontest.Do(e.t, e.h[name], r)
}

// start starts a session with a WRITE key of the account and fails the
// test unless it is 201.
func (e *env) start(acc string) sessiontest.Response {
	e.t.Helper()
	c := sessiontest.Key(acc, "WRITE")
	r := e.do("start", sessiontest.Request{Method: "POST", Path: "/api/v1/sessions", Caller: &c})
	if r.Status != 201 {
		e.t.Fatalf("start: %d %s", r.Status, r.Raw)
	}
	return r
}

func (e *env) hub(acc string) map[string]types.AttributeValue {
	e.t.Helper()
	out, err := fx.DB.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(fx.Tables.Quotas),
		Key: session.HubKey(acc), ConsistentRead: aws.Bool(true)})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.Item
}

func num(it map[string]types.AttributeValue, name string) int64 {
	v, ok := it[name].(*types.AttributeValueMemberN)
	if !ok {
		return -1
	}
	var n int64
	fmt.Sscan(v.Value, &n)
	return n
}

func str(it map[string]types.AttributeValue, name string) string {
	v, _ := it[name].(*types.AttributeValueMemberS)
	if v == nil {
		return ""
	}
	return v.Value
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pathOf(parts ...string) string { return "/api/v1/" + strings.Join(parts, "/") }
