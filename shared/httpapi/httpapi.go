// Package httpapi is the seam between API Gateway (through
// aws-lambda-go-api-proxy) and the endpoints: it reads the authorizer's
// caller, applies permission, refusal, body-size and metering rules, sets
// the contract's headers, logs every request and renders errors as
// problem+json.
package httpapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/payload"
	"github.com/waickoff/waickoff/shared/problem"
	"github.com/waickoff/waickoff/shared/telemetry"
)

// HandlerFunc is an endpoint: it writes a response or returns an error,
// which the server renders.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Access says who may call a route.
type Access struct {
	// Public routes run with no caller.
	Public bool
	// Need is the lowest permission allowed (keyed routes).
	Need caller.Permission
	// MasterOnly routes refuse every key but the master key.
	MasterOnly bool
}

// Public is the access of unauthenticated routes.
var Public = Access{Public: true}

// Need returns the access of a keyed route needing at least p.
func Need(p caller.Permission) Access { return Access{Need: p} }

// MasterOnly is the access of operator routes.
var MasterOnly = Access{Need: caller.Read, MasterOnly: true}

// Recorder counts a keyed request in the usage statistics. The server
// calls it after the response is written; its failure is logged, not
// shown.
type Recorder interface {
	Record(ctx context.Context, c caller.Caller, e Event) error
}

// Event is what the usage statistics learn of one request.
type Event struct {
	RequestID string
	// Pattern is the route pattern; Endpoint is the request's usage name
	// (Options.Endpoint, or the pattern).
	Pattern  string
	Endpoint string
	Status   int
	Tokens   int64
	At       time.Time
	// Charged is set when a charge transaction counted the request
	// already (NoteUsage).
	Charged bool
}

// Server wraps endpoints.
type Server struct {
	mux      *http.ServeMux
	notFound http.Handler
	patterns []string
	logger   *slog.Logger
	metrics  *telemetry.Metrics
	recorder Recorder
	endpoint func(pattern string, r *http.Request) string
	maxBody  int64
	now      func() time.Time
}

// Options are the server's dependencies.
type Options struct {
	Logger   *slog.Logger
	Metrics  *telemetry.Metrics
	Recorder Recorder // nil: no usage recording
	// Endpoint names a request for the usage statistics; nil: its route
	// pattern.
	Endpoint func(pattern string, r *http.Request) string
	MaxBody  int64
	Now      func() time.Time
}

// New returns a server with an empty mux.
func New(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{mux: http.NewServeMux(), logger: o.Logger, metrics: o.Metrics, recorder: o.Recorder,
		endpoint: o.Endpoint, maxBody: o.MaxBody, now: o.Now}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	s.notFound = s.wrap("", Public, func(w http.ResponseWriter, r *http.Request) error {
		return problem.New(problem.NotFound, "no such route")
	})
	s.mux.Handle("/", s.notFound)
	return s
}

// Patterns returns the route patterns mounted, in mount order.
func (s *Server) Patterns() []string { return append([]string(nil), s.patterns...) }

// ServeHTTP serves the mux.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A path parameter of "." or ".." (GET /api/v1/keys/%2E%2E) reaches
	// the function as an unclean path, which ServeMux would answer with
	// a bare redirect; no such object exists, so it is a 404 problem.
	if p := r.URL.Path; p != "" && p != "/" && path.Clean(p) != strings.TrimSuffix(p, "/") {
		s.notFound.ServeHTTP(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// Lambda returns the Lambda handler: the api-proxy adapter over the server.
func (s *Server) Lambda() func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return httpadapter.New(s).ProxyWithContext
}

// Handle mounts h at pattern ("GET /api/v1/keys", the template's route).
func (s *Server) Handle(pattern string, access Access, h HandlerFunc) {
	s.patterns = append(s.patterns, pattern)
	s.mux.Handle(pattern, s.wrap(pattern, access, h))
}

type ctxKey int

const (
	callerKey ctxKey = iota
	requestIDKey
	usageKey
)

// usageNote is what an endpoint tells the usage statistics of its
// request once it knows (NoteUsage).
type usageNote struct {
	endpoint string
	status   int
	charged  bool
}

// NoteUsage tells the usage statistics what the request was, for an
// endpoint that learns it from the body (one MCP route serves many
// tools): its usage name, the status to count it under (0: the
// response's) and whether a charge transaction counted it already. It
// does nothing outside a Server.
func NoteUsage(r *http.Request, endpoint string, status int, charged bool) {
	if n, ok := r.Context().Value(usageKey).(*usageNote); ok {
		*n = usageNote{endpoint: endpoint, status: status, charged: charged}
	}
}

// CallerOf returns the caller of a keyed request; ok is false on public
// routes.
func CallerOf(r *http.Request) (caller.Caller, bool) {
	c, ok := r.Context().Value(callerKey).(caller.Caller)
	return c, ok
}

// RequestID returns the request's id: API Gateway's, or one made up when
// the request did not come through it.
func RequestID(r *http.Request) string {
	if id, ok := r.Context().Value(requestIDKey).(string); ok {
		return id
	}
	if gw, ok := core.GetAPIGatewayContextFromContext(r.Context()); ok && gw.RequestID != "" {
		return gw.RequestID
	}
	return ""
}

// NewRequestID returns a random request id.
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// statusWriter remembers the status and counts the bytes written.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// wrap returns h with the seam's rules around it. It is not inlined:
// New and Handle would each get a copy of the closure (2 KB of every
// function's binary).
//
//go:noinline
func (s *Server) wrap(pattern string, access Access, h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := s.now()
		gw, fromGateway := core.GetAPIGatewayContextFromContext(r.Context())
		reqID := gw.RequestID
		if reqID == "" {
			reqID = NewRequestID()
		}
		ctx, cancel := budget(r.Context())
		defer cancel()
		ctx = context.WithValue(ctx, requestIDKey, reqID)
		note := &usageNote{}
		ctx = context.WithValue(ctx, usageKey, note)
		log := s.logger.With("request_id", reqID, "route", pattern)
		ctx = telemetry.WithLogger(ctx, log)
		w := &statusWriter{ResponseWriter: rw}
		w.Header().Set("X-Request-Id", reqID)

		var (
			c     caller.Caller
			keyed bool
		)
		err := func() error {
			if !access.Public {
				if !fromGateway || gw.Authorizer == nil {
					return problem.New(problem.Unauthorized, "a valid API key is required")
				}
				cc, err := caller.FromContext(gw.Authorizer)
				if err != nil {
					return &problem.Error{Code: problem.Unauthorized, Detail: "a valid API key is required", Cause: err}
				}
				c, keyed = cc, true
				ctx = context.WithValue(ctx, callerKey, c)
				log = log.With("account_id", c.AccountID, "key_id", c.KeyID)
				ctx = telemetry.WithLogger(ctx, log)
				setRateHeaders(w.Header(), c)
				if err := refusal(c); err != nil {
					return err
				}
				if access.MasterOnly && !c.IsMaster() {
					return problem.New(problem.Forbidden, "only the operator key may call this endpoint")
				}
				if !c.Permission.Allows(access.Need) {
					return problem.New(problem.Forbidden, "this key's permission (%s) is below %s", c.Permission, access.Need)
				}
			}
			if s.maxBody > 0 {
				if err := s.boundBody(r); err != nil {
					return err
				}
			}
			return h(w, r.WithContext(ctx))
		}()
		if err != nil {
			s.fail(ctx, w, err, reqID)
		}
		if w.status == 0 {
			w.WriteHeader(http.StatusNoContent)
		}
		elapsed := s.now().Sub(start)
		log.LogAttrs(ctx, slog.LevelInfo, "request",
			slog.String("method", r.Method), slog.Int("status", w.status),
			slog.Int64("bytes_out", w.bytes), slog.Duration("elapsed", elapsed))
		if keyed && s.recorder != nil {
			ev := Event{RequestID: reqID, Pattern: pattern, Endpoint: pattern, Status: w.status, At: start}
			if s.endpoint != nil {
				ev.Endpoint = s.endpoint(pattern, r)
			}
			if note.endpoint != "" {
				ev.Endpoint, ev.Charged = note.endpoint, note.charged
			}
			if note.status != 0 {
				ev.Status = note.status
			}
			if rerr := s.recorder.Record(ctx, c, ev); rerr != nil {
				log.Warn("usage record failed", "error", rerr.Error())
			}
		}
	})
}

// deadlineMargin is how long before the invocation's deadline a request
// gives up: a slow store then ends in a logged 503 rather than a function
// that Lambda kills with nothing said. (Lambda puts the deadline in the
// context; so does the local gateway, from the template's Timeout.)
const deadlineMargin = 500 * time.Millisecond

func budget(ctx context.Context) (context.Context, context.CancelFunc) {
	if dl, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, dl.Add(-deadlineMargin))
	}
	return context.WithCancel(ctx)
}

// boundBody reads r's body and refuses it (413 payload_too_large) when it
// is over maxBody as Lambda counts it in the event (payload.BodySize:
// escaped, or base64 when not UTF-8), so that every body the limit admits
// fits Lambda's invoke limit whatever its characters; r then reads the
// bytes read. It returns the read's error, wrapped, when the body cannot
// be read.
func (s *Server) boundBody(r *http.Request) error {
	if r.ContentLength > s.maxBody {
		return tooLarge(s.maxBody, r.ContentLength)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, s.maxBody+1))
	if err != nil {
		return fmt.Errorf("read the request body: %w", err)
	}
	if size := int64(payload.BodySize(body)); size > s.maxBody {
		return tooLarge(s.maxBody, size)
	}
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	return nil
}

// tooLarge is the 413 of a body of size bytes (as Lambda counts them, at
// least) over max.
func tooLarge(max, size int64) error {
	return problem.New(problem.PayloadTooLarge, "request bodies are limited to %d bytes as Lambda's event carries them "+
		"(quotes, backslashes and line breaks count 2, other control characters 6; base64 when not UTF-8); "+
		"this one is at least %d", max, size)
}

// refusal turns the authorizer's deferred decision into an error.
func refusal(c caller.Caller) error {
	switch problem.Code(c.Refusal) {
	case "":
		return nil
	case problem.RateLimited:
		retry := c.RetryAfter
		if retry < 1 {
			retry = 1
		}
		return &problem.Error{Code: problem.RateLimited,
			Detail: "rate limit of " + strconv.Itoa(c.RateLimit) + " requests per minute exceeded",
			Header: http.Header{"Retry-After": {strconv.Itoa(retry)}}}
	case problem.SessionRequired:
		return problem.New(problem.SessionRequired, "this endpoint needs an active session: start one with POST /api/v1/sessions")
	default:
		return problem.New(problem.Forbidden, "request refused")
	}
}

func setRateHeaders(h http.Header, c caller.Caller) {
	if c.RateLimit <= 0 {
		return
	}
	h.Set("RateLimit-Limit", strconv.Itoa(c.RateLimit))
	h.Set("RateLimit-Remaining", strconv.Itoa(c.RateRemaining))
	h.Set("RateLimit-Reset", strconv.Itoa(c.RateReset))
}

// fail renders err; anything unclassified is logged with its cause and
// shown as "internal error".
func (s *Server) fail(ctx context.Context, w http.ResponseWriter, err error, reqID string) {
	log := telemetry.Logger(ctx)
	pe := problem.As(err)
	if pe == nil && errors.Is(err, context.DeadlineExceeded) {
		pe = problem.Unavailable(err)
		err = pe
	}
	switch {
	case pe == nil:
		log.Error("internal error", "error", err.Error())
	case pe.Code == problem.Internal || pe.Code == problem.ServiceUnavailable:
		log.Error("request failed", "code", string(pe.Code), "error", err.Error())
	default:
		log.Info("request refused", "code", string(pe.Code), "detail", pe.Detail, "field", pe.Field)
	}
	problem.Write(w, err, reqID)
}
