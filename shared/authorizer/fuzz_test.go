package authorizer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/waickoff/waickoff/shared/apikey"
	"github.com/waickoff/waickoff/shared/authorizer"
	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/ratelimit"
)

// oneKey is a key store that knows one key; it counts its lookups.
type oneKey struct {
	hash  string
	calls atomic.Int64
	seen  atomic.Value // the last hash asked for
}

func (o *oneKey) Authorize(ctx context.Context, hash, requestID string, now time.Time) (apikey.Grant, error) {
	o.calls.Add(1)
	o.seen.Store(hash)
	if hash != o.hash {
		return apikey.Grant{Status: apikey.Unknown}, nil
	}
	return apikey.Grant{Status: apikey.Valid, AccountID: "acc_0123456789abcdef", KeyID: "key_019abde3950012345678",
		Permission: caller.Write, Rate: ratelimit.Result{Outcome: ratelimit.Admitted, Limit: 60, Remaining: 59, Reset: 1}}, nil
}

func (o *oneKey) Refund(ctx context.Context, g apikey.Grant) (apikey.Grant, error) { return g, nil }

// AuthorizeMaster admits the master key, within a limit never reached here.
func (o *oneKey) AuthorizeMaster(ctx context.Context, requestID string, perMinute int, now time.Time) (apikey.Grant, error) {
	return apikey.Grant{Status: apikey.Valid, Rate: ratelimit.Result{Outcome: ratelimit.Admitted, Limit: perMinute, Remaining: perMinute - 1, Reset: 1}}, nil
}

type alwaysActive struct{}

func (alwaysActive) Active(ctx context.Context, accountID string, now time.Time) (authorizer.ActiveSession, bool, error) {
	return authorizer.ActiveSession{ID: "ses_019abde395000a1b2c3d4e", TokenLimit: 100, ExpiresAt: now.Add(time.Hour)}, true, nil
}

// FuzzAuthorizeHeaders: whatever headers a request carries (names in any
// case, single- and multi-value, several of them), the authorizer never
// panics and answers only Allow, Unauthorized or (never, here) a store
// failure; it allows only the master key or the one key the store knows,
// found whole in X-API-Key or Authorization: Bearer, and never when the
// request carries two different keys; a malformed key never reaches the
// store.
func FuzzAuthorizeHeaders(f *testing.F) {
	good, _ := apikey.Generate()
	master, _ := apikey.Generate()
	f.Add("X-API-Key", good, "", "", false, true)
	f.Add("authorization", "Bearer "+good, "", "", false, false)
	f.Add("Authorization", "bearer   "+good+"  ", "X-Api-Key", good, true, false)
	f.Add("X-API-Key", good, "Authorization", "Bearer "+master, false, false)
	f.Add("X-API-Key", master, "", "", true, false)
	f.Add("X-API-Key", " "+good+"\r\nX-API-Key: "+master, "", "", false, false)
	f.Add("X-API-KEY", good+"\x00", "x-api-key", good, false, false)
	f.Add("Authorization", "Basic "+good, "", "", false, false)
	f.Add("X-API-Key", "", "Authorization", "Bearer", false, false)
	f.Add("X-API-Key", strings.Repeat("wk_", 1000), "", "", false, false)
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string, multi, metered bool) {
		store := &oneKey{hash: apikey.Hash(good)}
		a := authorizer.New(authorizer.Options{Keys: store, Sessions: alwaysActive{}, MasterKey: master,
			Metered: []string{"POST /api/v1/indicators/{name}"}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		req := events.APIGatewayCustomAuthorizerRequestTypeRequest{Type: "REQUEST",
			MethodArn:  "arn:aws:execute-api:us-east-1:123456789012:api/v1stage/GET/api/v1/keys",
			HTTPMethod: "GET", Resource: "/api/v1/keys", Headers: map[string]string{n1: v1}}
		if metered {
			req.HTTPMethod, req.Resource = "POST", "/api/v1/indicators/{name}"
		}
		if multi {
			req.MultiValueHeaders = map[string][]string{n2: {v2, v1}}
		} else if n2 != n1 {
			req.Headers[n2] = v2
		}
		key, found := authorizer.KeyFrom(req)
		if found && (key == "" || key != strings.TrimSpace(key)) {
			t.Fatalf("KeyFrom found %q", key)
		}
		resp, err := a.Handle(context.Background(), req)
		if (!found || (key != master && apikey.Check(key) != nil)) && store.calls.Load() != 0 {
			t.Fatalf("a missing or malformed key (%q) reached the store", key)
		}
		switch {
		case errors.Is(err, authorizer.ErrUnauthorized):
			if found && (key == master || store.hash == apikey.Hash(key)) {
				t.Fatalf("the known key %q was refused", key)
			}
			return
		case err != nil:
			t.Fatalf("error %v from a store that never fails", err)
		}
		if !found {
			t.Fatal("allowed a request without a key")
		}
		c, cerr := caller.FromContext(stringify(resp.Context))
		if cerr != nil {
			t.Fatalf("context %v: %v", resp.Context, cerr)
		}
		switch key {
		case master:
			if !c.IsMaster() || store.calls.Load() != 0 {
				t.Fatalf("master key gave %+v after %d store calls", c, store.calls.Load())
			}
		case good:
			if c.Permission != caller.Write || c.AccountID == "" || store.seen.Load() != apikey.Hash(good) {
				t.Fatalf("known key gave %+v", c)
			}
			if metered && c.SessionID == "" {
				t.Fatalf("metered request without a session: %+v", c)
			}
		default:
			t.Fatalf("allowed %q", key)
		}
		if len(resp.PolicyDocument.Statement) != 1 || resp.PolicyDocument.Statement[0].Effect != "Allow" ||
			resp.PolicyDocument.Statement[0].Resource[0] != req.MethodArn {
			t.Fatalf("policy %+v", resp.PolicyDocument)
		}
	})
}

// stringify renders a context as API Gateway hands it on: strings.
func stringify(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}
