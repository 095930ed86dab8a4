// Package contract holds the tests that keep the OpenAPI document honest
// for the people who read it with tools: the Go and TypeScript clients
// generated from it compile and the Go one drives the README's
// walkthrough (clients_test.go), and every route's real answers, success
// and error, match their schemas (schema_test.go). Both run against the
// whole local API (gateway, authorizer, functions, moto) on a free
// loopback port.
package contract

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/waickoff/waickoff/infra/local"
	"github.com/waickoff/waickoff/shared/config"
)

var api *local.API

func TestMain(m *testing.M) {
	var err error
	api, err = local.Start(context.Background(), local.Options{
		Getenv: func(k string) string {
			switch k {
			case "DYNAMODB_ENDPOINT":
				return os.Getenv(k)
			case "MAX_BODY_BYTES":
				// Small, so that the schema test's oversized bodies are cheap.
				return strconv.Itoa(maxBodyBytes)
			case "DEFAULT_RATE_LIMIT_PER_MINUTE":
				// The samples send many requests with one key: only
				// the key made slow on purpose is rate limited. A third
				// of the account's cap, so that the samples' keys fit it.
				return strconv.Itoa(config.MaxAccountRateLimitPerMinute / 3)
			}
			return ""
		},
		Addr: "127.0.0.1:0", Logs: io.Discard, SweepEvery: time.Second,
		TableSuffix: fmt.Sprintf("-contract%d", time.Now().UnixNano()),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start local API:", err)
		os.Exit(1)
	}
	code := m.Run()
	api.Stop()
	if denied := api.IAMDenied(); len(denied) > 0 {
		fmt.Fprintf(os.Stderr, "FAIL: calls the functions' IAM policies in template.yaml do not allow:\n  %s\n", strings.Join(denied, "\n  "))
		code = 1
	}
	os.Exit(code)
}

// here is this package's directory.
func here(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test's directory")
	}
	return filepath.Dir(file)
}

// root is the repository's root.
func root(t *testing.T) string {
	return filepath.Join(here(t), "..", "..")
}

// goldenDocument is the served document, as openapi.json holds it.
func goldenDocument(t *testing.T) string {
	return filepath.Join(root(t), "shared", "openapi", "openapi.json")
}
