// Package authorizer is the API Gateway Lambda REQUEST authorizer: it
// finds the key in X-API-Key or Authorization: Bearer, admits the master
// key in constant time, checks any other key and takes its rate-limit
// token in one DynamoDB call, checks the account's session on metered
// routes, and hands the functions the caller (caller.Caller) in the policy
// context.
//
// API Gateway lets an authorizer say only allow, deny or unauthorized. A
// request over its key's rate limit is denied, with the limit's figures
// in the context: the template's ACCESS_DENIED gateway response answers
// it 429 rate_limited with Retry-After and the RateLimit headers taken
// from that context, so no function runs and nothing is written for it
// but the authorizer's tally (Options.Refusals, written at most once per
// key and interval). The authorizer denies nothing else. A request
// without a session on a metered route is allowed with a refusal in the
// context (caller.Caller.Refusal); shared/httpapi answers it 403 before
// the handler runs. A missing, malformed, unknown, revoked or expired key
// is "Unauthorized" (API Gateway's 401).
// When the store cannot be read the authorizer returns another error,
// which API Gateway answers with AUTHORIZER_FAILURE (503 in the template):
// it fails closed and never allows a request it could not check.
package authorizer

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/waickoff/waickoff/shared/apikey"
	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/problem"
)

// ErrUnauthorized is the error API Gateway turns into its 401 response;
// the message must be exactly "Unauthorized".
var ErrUnauthorized = errors.New("Unauthorized")

// ErrUnavailable is returned when the key or session store could not be
// read; API Gateway answers 503 (AUTHORIZER_FAILURE).
var ErrUnavailable = errors.New("authorizer: store unavailable")

// Keys checks keys and takes rate-limit tokens (apikey.Store).
type Keys interface {
	Authorize(ctx context.Context, hash, requestID string, now time.Time) (apikey.Grant, error)
	Refund(ctx context.Context, g apikey.Grant) (apikey.Grant, error)
}

var _ Keys = (*apikey.Store)(nil)

// ActiveSession is an account's running session.
type ActiveSession struct {
	ID         string
	TokensUsed int64
	TokenLimit int64
	ExpiresAt  time.Time
}

// Sessions finds an account's active session. ok is false when the
// account has none at now (never started, ended, expired or out of
// tokens); err is the store's error.
type Sessions interface {
	Active(ctx context.Context, accountID string, now time.Time) (s ActiveSession, ok bool, err error)
}

// Refusals tallies the requests denied for the rate limit
// (refusals.Counter).
type Refusals interface {
	Add(ctx context.Context, accountID, keyID, endpoint string, now time.Time)
	// Seen is told of each request of a key that is let through.
	Seen(ctx context.Context, keyID string, now time.Time)
}

// MasterLimiter takes tokens of the master key's own rate limit
// (apikey.Store).
type MasterLimiter interface {
	AuthorizeMaster(ctx context.Context, requestID string, perMinute int, now time.Time) (apikey.Grant, error)
}

var _ MasterLimiter = (*apikey.Store)(nil)

// Options are the authorizer's dependencies.
type Options struct {
	// Refusals counts rate-limited requests; nil counts nothing.
	Refusals Refusals
	// Endpoint names a request's endpoint for usage (usage.NameOf)
	// from its route pattern and {name} path parameter; nil uses the
	// route pattern.
	Endpoint func(route, name string) string
	Keys     Keys
	Sessions Sessions
	// MasterKey is the operator key; empty when the master key is
	// disabled (config.Config.MasterKeyEnabled false).
	MasterKey string
	// MasterLimit is the master key's rate limit (default: Keys, when it
	// is a MasterLimiter) and MasterPerMinute its requests a minute
	// (default 60). A master key without a limiter is refused (503).
	MasterLimit     MasterLimiter
	MasterPerMinute int
	// Metered are the route patterns ("POST /api/v1/indicators/{name}")
	// that need an active session.
	Metered []string
	// SessionAware are routes that run with the active session when there
	// is one and without it otherwise: the function decides per call
	// which of its answers need one (POST /api/v1/mcp, whose protocol
	// calls are free and whose computing tool calls are metered).
	SessionAware []string
	Logger       *slog.Logger
	Now          func() time.Time
	// Timeout bounds the store calls of one request (default 3s).
	Timeout time.Duration
}

// Authorizer is the REQUEST authorizer.
type Authorizer struct {
	refusals Refusals
	endpoint func(route, name string) string
	keys     Keys
	sessions Sessions
	master   [sha256.Size]byte
	masterOn bool
	mlimit   MasterLimiter
	mrate    int
	metered  map[string]bool
	aware    map[string]bool
	log      *slog.Logger
	now      func() time.Time
	timeout  time.Duration
}

// New returns an authorizer.
func New(o Options) *Authorizer {
	a := &Authorizer{keys: o.Keys, sessions: o.Sessions, metered: map[string]bool{}, aware: map[string]bool{}, log: o.Logger,
		now: o.Now, timeout: o.Timeout, refusals: o.Refusals, endpoint: o.Endpoint, mlimit: o.MasterLimit, mrate: o.MasterPerMinute}
	if a.endpoint == nil {
		a.endpoint = func(route, _ string) string { return route }
	}
	if a.mlimit == nil {
		a.mlimit, _ = o.Keys.(MasterLimiter)
	}
	if a.mrate <= 0 {
		a.mrate = 60
	}
	if o.MasterKey != "" {
		a.master, a.masterOn = sha256.Sum256([]byte(o.MasterKey)), true
	}
	for _, m := range o.Metered {
		a.metered[m] = true
	}
	for _, m := range o.SessionAware {
		a.aware[m] = true
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.timeout <= 0 {
		a.timeout = 3 * time.Second
	}
	return a
}

// MasterPrincipal is the principalId of the master key.
const MasterPrincipal = "master"

// Handle authorizes one request. It returns an Allow policy for the
// request's method ARN with the caller in the context; a Deny policy with
// the rate limit's figures in the context for a key over its limit;
// ErrUnauthorized for a missing, malformed, unknown, revoked or expired
// key; or ErrUnavailable when the stores could not be read.
func (a *Authorizer) Handle(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	start := time.Now()
	now := a.now()
	reqID := req.RequestContext.RequestID
	route := req.HTTPMethod + " " + req.Resource
	log := func(outcome string, attrs ...slog.Attr) {
		attrs = append(attrs, slog.String("outcome", outcome), slog.String("request_id", reqID),
			slog.String("route", route), slog.Duration("elapsed", time.Since(start)))
		a.log.LogAttrs(ctx, slog.LevelInfo, "authorize", attrs...)
	}
	if req.MethodArn == "" {
		log("error", slog.String("reason", "no methodArn"))
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnavailable
	}
	key, found := KeyFrom(req)
	if !found {
		log("unauthorized", slog.String("reason", "missing"))
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
	}
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	if a.isMaster(key) {
		return a.admitMaster(ctx, req, log, now)
	}
	if apikey.Check(key) != nil {
		log("unauthorized", slog.String("reason", "malformed"))
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
	}
	g, err := a.keys.Authorize(ctx, apikey.Hash(key), reqID, now)
	if err != nil {
		log("error", slog.String("error", err.Error()))
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnavailable
	}
	switch g.Status {
	case apikey.Valid, apikey.Limited:
	default:
		log("unauthorized", slog.String("reason", g.Status.String()), slog.String("key_id", g.KeyID))
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnauthorized
	}
	c := caller.Caller{AccountID: g.AccountID, KeyID: g.KeyID, Permission: g.Permission}
	rate(&c, g)
	attrs := []slog.Attr{slog.String("key_id", g.KeyID), slog.String("account_id", g.AccountID),
		slog.Int("rate_remaining", c.RateRemaining), slog.Int("db_calls", g.Rate.Calls)}
	if g.Status == apikey.Limited {
		c.Refusal, c.RetryAfter = string(problem.RateLimited), max(g.Rate.RetryAfter, 1)
		log("rate_limited", append(attrs, slog.Int("retry_after", c.RetryAfter))...)
		if a.refusals != nil {
			a.refusals.Add(ctx, g.AccountID, g.KeyID, a.endpoint(route, req.PathParameters["name"]), now)
		}
		return policy("Deny", req.MethodArn, g.KeyID, c.Context()), nil
	}
	if a.refusals != nil {
		a.refusals.Seen(ctx, g.KeyID, now)
	}
	if a.aware[route] || a.metered[route] {
		s, ok, err := a.sessions.Active(ctx, g.AccountID, now)
		if err != nil {
			if _, rerr := a.keys.Refund(ctx, g); rerr != nil {
				attrs = append(attrs, slog.String("refund_error", rerr.Error()))
			}
			log("error", append(attrs, slog.String("error", err.Error()))...)
			return events.APIGatewayCustomAuthorizerResponse{}, ErrUnavailable
		}
		if !ok && a.metered[route] {
			// Refused requests do not count against the limit.
			if g2, rerr := a.keys.Refund(ctx, g); rerr != nil {
				attrs = append(attrs, slog.String("refund_error", rerr.Error()))
			} else {
				rate(&c, g2)
			}
			c.Refusal = string(problem.SessionRequired)
			log("session_required", attrs...)
			return allow(req.MethodArn, g.KeyID, c.Context()), nil
		}
		// A session-aware route runs without a session when there is none.
		if ok {
			c.SessionID, c.SessionTokensUsed, c.SessionTokenLimit = s.ID, s.TokensUsed, s.TokenLimit
			c.SessionExpiresAt = s.ExpiresAt.UnixMilli()
			attrs = append(attrs, slog.String("session_id", s.ID))
		}
	}
	log("allow", attrs...)
	return allow(req.MethodArn, g.KeyID, c.Context()), nil
}

// admitMaster admits the master key within its own rate limit: over it, the
// request is denied as any key's would be (API Gateway's 429 with the
// limit's figures); when the limit cannot be taken, it is refused (503).
func (a *Authorizer) admitMaster(ctx context.Context, req events.APIGatewayCustomAuthorizerRequestTypeRequest,
	log func(string, ...slog.Attr), now time.Time) (events.APIGatewayCustomAuthorizerResponse, error) {
	attrs := []slog.Attr{slog.String("key_id", MasterPrincipal)}
	if a.mlimit == nil {
		log("error", append(attrs, slog.String("error", "no rate limit for the master key"))...)
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnavailable
	}
	g, err := a.mlimit.AuthorizeMaster(ctx, req.RequestContext.RequestID, a.mrate, now)
	if err != nil {
		log("error", append(attrs, slog.String("error", err.Error()))...)
		return events.APIGatewayCustomAuthorizerResponse{}, ErrUnavailable
	}
	c := caller.Caller{Permission: caller.Master}
	rate(&c, g)
	if g.Status == apikey.Limited {
		// Denied as any key over its limit is: API Gateway answers the 429.
		c.Refusal, c.RetryAfter = string(problem.RateLimited), max(g.Rate.RetryAfter, 1)
		log("rate_limited", append(attrs, slog.Int("retry_after", c.RetryAfter))...)
		return policy("Deny", req.MethodArn, MasterPrincipal, c.Context()), nil
	}
	log("allow", append(attrs, slog.Int("rate_remaining", c.RateRemaining))...)
	return allow(req.MethodArn, MasterPrincipal, c.Context()), nil
}

func rate(c *caller.Caller, g apikey.Grant) {
	c.RateLimit, c.RateRemaining, c.RateReset = g.Rate.Limit, g.Rate.Remaining, g.Rate.Reset
}

func (a *Authorizer) isMaster(key string) bool {
	if !a.masterOn {
		return false
	}
	sum := sha256.Sum256([]byte(key))
	return subtle.ConstantTimeCompare(sum[:], a.master[:]) == 1
}

func allow(methodARN, principal string, ctx map[string]any) events.APIGatewayCustomAuthorizerResponse {
	return policy("Allow", methodARN, principal, ctx)
}

// policy is a response whose one statement has effect on the request's
// method ARN. API Gateway keeps the context of a Deny for its gateway
// response ($context.authorizer.*) and the access log.
func policy(effect, methodARN, principal string, ctx map[string]any) events.APIGatewayCustomAuthorizerResponse {
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: principal,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version: "2012-10-17",
			Statement: []events.IAMPolicyStatement{{
				Action:   []string{"execute-api:Invoke"},
				Effect:   effect,
				Resource: []string{methodARN},
			}},
		},
		Context: ctx,
	}
}

// KeyFrom returns the key a request carries in X-API-Key or in
// Authorization: Bearer (header names and the scheme in any case, in
// the single- or multi-value headers). found is false when there is no
// key, or when the request carries two different ones.
func KeyFrom(req events.APIGatewayCustomAuthorizerRequestTypeRequest) (key string, found bool) {
	var keys []string
	add := func(name, value string) {
		switch {
		case strings.EqualFold(name, "X-API-Key"):
			if v := strings.TrimSpace(value); v != "" {
				keys = append(keys, v)
			}
		case strings.EqualFold(name, "Authorization"):
			scheme, token, ok := strings.Cut(strings.TrimSpace(value), " ")
			if ok && strings.EqualFold(scheme, "Bearer") {
				if v := strings.TrimSpace(token); v != "" {
					keys = append(keys, v)
				}
			}
		}
	}
	for name, value := range req.Headers {
		add(name, value)
	}
	for name, values := range req.MultiValueHeaders {
		for _, v := range values {
			add(name, v)
		}
	}
	if len(keys) == 0 {
		return "", false
	}
	for _, k := range keys[1:] {
		if k != keys[0] {
			return "", false
		}
	}
	return keys[0], true
}
