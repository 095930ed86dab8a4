package apikey

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/config"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/problem"
	"github.com/waickoff/waickoff/shared/usage"
)

// Usage reads the usage statistics of keys.
type Usage interface {
	KeySummary(ctx context.Context, keyID string) (usage.Summary, error)
	KeyUsage(ctx context.Context, accountID, keyID string, from, to time.Time) (usage.Report, error)
}

// Handlers are the keys endpoints.
type Handlers struct {
	Keys             *Store
	Accounts         httpapi.Accounts
	Usage            Usage
	DefaultRateLimit int
	Now              func() time.Time
}

// View is a key as the API shows it: never the secret or its hash.
type View struct {
	KeyID              string            `json:"key_id"`
	AccountID          string            `json:"account_id"`
	Name               string            `json:"name"`
	Prefix             string            `json:"prefix"`
	Permission         caller.Permission `json:"permission"`
	RateLimitPerMinute int               `json:"rate_limit_per_minute"`
	CreatedAt          string            `json:"created_at"`
	ExpiresAt          string            `json:"expires_at,omitempty"`
	RevokedAt          string            `json:"revoked_at,omitempty"`
}

// CreatedView is a new key with its secret, shown once.
type CreatedView struct {
	View
	Key string `json:"key"`
}

// ViewOf renders k.
func ViewOf(k Key) View {
	return View{KeyID: k.ID, AccountID: k.AccountID, Name: k.Name, Prefix: k.Prefix, Permission: k.Permission,
		RateLimitPerMinute: k.RateLimit, CreatedAt: httpapi.Time(k.CreatedAt), ExpiresAt: httpapi.Time(k.ExpiresAt),
		RevokedAt: httpapi.Time(k.RevokedAt)}
}

// CreatedViewOf renders a new key with its secret.
func CreatedViewOf(c Created) CreatedView { return CreatedView{View: ViewOf(c.Key), Key: c.Secret} }

type createRequest struct {
	Name               *string `json:"name"`
	Permission         *string `json:"permission"`
	RateLimitPerMinute *int64  `json:"rate_limit_per_minute"`
	ExpiresAt          *string `json:"expires_at"`
	AccountID          *string `json:"account_id"`
}

// Create is POST /api/v1/keys.
func (h *Handlers) Create(w http.ResponseWriter, r *http.Request) error {
	var req createRequest
	if err := httpapi.DecodeJSON(r, &req, false); err != nil {
		return err
	}
	now := h.Now()
	spec, err := h.spec(req, now)
	if err != nil {
		return err
	}
	accountID, err := httpapi.AccountOf(r, deref(req.AccountID), h.Accounts)
	if err != nil {
		return err
	}
	c, err := h.Keys.Create(r.Context(), accountID, spec, now)
	if err != nil {
		return Problem(err)
	}
	return httpapi.WriteJSON(w, http.StatusCreated, CreatedViewOf(c))
}

func (h *Handlers) spec(req createRequest, now time.Time) (Spec, error) {
	if req.Name == nil {
		return Spec{}, problem.Invalid("name", "name is required")
	}
	if err := CheckName("name", *req.Name); err != nil {
		return Spec{}, err
	}
	spec := Spec{Name: *req.Name, RateLimit: h.DefaultRateLimit}
	if req.Permission == nil {
		return Spec{}, problem.Invalid("permission", "permission is required: READ, WRITE or ADMIN")
	}
	spec.Permission = caller.Permission(*req.Permission)
	if !spec.Permission.Valid() {
		return Spec{}, problem.Invalid("permission", "permission must be READ, WRITE or ADMIN")
	}
	if req.RateLimitPerMinute != nil {
		n := *req.RateLimitPerMinute
		if n < 1 || n > config.MaxRateLimitPerMinute {
			return Spec{}, problem.Invalid("rate_limit_per_minute", "rate_limit_per_minute must be an integer from 1 to %d", config.MaxRateLimitPerMinute)
		}
		spec.RateLimit = int(n)
	}
	if req.ExpiresAt != nil {
		t, err := time.Parse(time.RFC3339, *req.ExpiresAt)
		if err != nil {
			return Spec{}, problem.Invalid("expires_at", "expires_at must be an RFC 3339 time such as 2030-01-02T15:04:05Z")
		}
		if !t.After(now) {
			return Spec{}, problem.Invalid("expires_at", "expires_at must be in the future")
		}
		spec.ExpiresAt = t.UTC()
	}
	return spec, nil
}

// CheckName validates a human name (of a key or an account) sent in field:
// 1 to 100 characters, not blank, no control characters.
func CheckName(field, name string) error {
	n := utf8.RuneCountInString(name)
	switch {
	case !utf8.ValidString(name):
		return problem.Invalid(field, "%s must be valid UTF-8", field)
	case n < 1 || n > 100:
		return problem.Invalid(field, "%s must be 1 to 100 characters", field)
	case strings.TrimSpace(name) == "":
		return problem.Invalid(field, "%s must not be blank", field)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return problem.Invalid(field, "%s must not contain control characters", field)
	}
	return nil
}

type listResponse struct {
	Items     []View `json:"items"`
	NextToken string `json:"next_token,omitempty"`
}

// List is GET /api/v1/keys.
func (h *Handlers) List(w http.ResponseWriter, r *http.Request) error {
	page, err := httpapi.ParsePage(r)
	if err != nil {
		return err
	}
	accountID, err := httpapi.AccountOf(r, r.URL.Query().Get("account_id"), h.Accounts)
	if err != nil {
		return err
	}
	keys, next, err := h.Keys.List(r.Context(), accountID, page.Limit, page.Token)
	if err != nil {
		return Problem(err)
	}
	resp := listResponse{Items: make([]View, 0, len(keys)), NextToken: httpapi.EncodeToken(next)}
	for _, k := range keys {
		resp.Items = append(resp.Items, ViewOf(k))
	}
	return httpapi.WriteJSON(w, http.StatusOK, resp)
}

type withUsage struct {
	View
	Usage usage.Summary `json:"usage"`
}

// Get is GET /api/v1/keys/{key_id}.
func (h *Handlers) Get(w http.ResponseWriter, r *http.Request) error {
	k, err := h.key(r)
	if err != nil {
		return err
	}
	sum, err := h.Usage.KeySummary(r.Context(), k.ID)
	if err != nil {
		return Problem(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, withUsage{View: ViewOf(k), Usage: sum})
}

// Revoke is DELETE /api/v1/keys/{key_id}: 204, also for a revoked key.
func (h *Handlers) Revoke(w http.ResponseWriter, r *http.Request) error {
	accountID, err := httpapi.AccountOf(r, r.URL.Query().Get("account_id"), h.Accounts)
	if err != nil {
		return err
	}
	if err := h.Keys.Revoke(r.Context(), accountID, r.PathValue("key_id"), h.Now()); err != nil {
		return Problem(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type operatorRequest struct {
	AccountID *string `json:"account_id"`
}

// Rotate is POST /api/v1/keys/{key_id}/rotate: 201 with the new key.
func (h *Handlers) Rotate(w http.ResponseWriter, r *http.Request) error {
	var req operatorRequest
	if err := httpapi.DecodeJSON(r, &req, true); err != nil {
		return err
	}
	accountID, err := httpapi.AccountOf(r, deref(req.AccountID), h.Accounts)
	if err != nil {
		return err
	}
	c, err := h.Keys.Rotate(r.Context(), accountID, r.PathValue("key_id"), h.Now())
	if err != nil {
		return Problem(err)
	}
	return httpapi.WriteJSON(w, http.StatusCreated, CreatedViewOf(c))
}

type keyUsageResponse struct {
	KeyID string `json:"key_id"`
	usage.Summary
	From       string                   `json:"from"`
	To         string                   `json:"to"`
	ByDay      []usage.DayCounters      `json:"by_day"`
	ByEndpoint []usage.EndpointCounters `json:"by_endpoint"`
}

// KeyUsage is GET /api/v1/keys/{key_id}/usage: the key's totals, and its
// traffic by UTC day and by endpoint between ?from= and ?to= (dates,
// inclusive; by default from the key's creation to today).
func (h *Handlers) KeyUsage(w http.ResponseWriter, r *http.Request) error {
	from, to, err := httpapi.Days(r.URL.Query())
	if err != nil {
		return err
	}
	k, err := h.key(r)
	if err != nil {
		return err
	}
	if from.IsZero() {
		from = k.CreatedAt.UTC().Truncate(24 * time.Hour)
	}
	if to.IsZero() {
		to = h.Now().UTC().Truncate(24 * time.Hour)
	}
	if err := httpapi.DaysInOrder(from, to); err != nil {
		return err
	}
	sum, err := h.Usage.KeySummary(r.Context(), k.ID)
	if err != nil {
		return Problem(err)
	}
	rep, err := h.Usage.KeyUsage(r.Context(), k.AccountID, k.ID, from, to)
	if err != nil {
		return Problem(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, keyUsageResponse{KeyID: k.ID, Summary: sum,
		From: from.Format(httpapi.DayLayout), To: to.Format(httpapi.DayLayout), ByDay: rep.ByDay, ByEndpoint: rep.ByEndpoint})
}

// key loads the key named by the path in the caller's (or the named)
// account.
func (h *Handlers) key(r *http.Request) (Key, error) {
	accountID, err := httpapi.AccountOf(r, r.URL.Query().Get("account_id"), h.Accounts)
	if err != nil {
		return Key{}, err
	}
	k, err := h.Keys.Get(r.Context(), accountID, r.PathValue("key_id"))
	if err != nil {
		return Key{}, Problem(err)
	}
	return k, nil
}

// Problem maps the store's errors to the API's: sentinels to their codes,
// transient store failures to 503 service_unavailable, anything else to
// internal.
func Problem(err error) error {
	var capErr *CapError
	switch {
	case err == nil:
		return nil
	case problem.As(err) != nil:
		return err
	case errors.Is(err, ErrNotFound):
		return problem.New(problem.NotFound, "no such key")
	case errors.Is(err, ErrRevoked):
		return &problem.Error{Code: problem.Conflict, Detail: "the key is revoked", Cause: err}
	case errors.Is(err, ErrExpired):
		return &problem.Error{Code: problem.Conflict, Detail: "the key has expired", Cause: err}
	case errors.As(err, &capErr):
		return capProblem(capErr)
	case errors.Is(err, ErrBadToken):
		return problem.Invalid("next_token", "next_token is not one this API gave out")
	case transient(err):
		return problem.Unavailable(err)
	}
	return err
}

// capProblem is 409 key_limit_reached with the account's figures and its
// caps; field names rate_limit_per_minute when the sum of the limits is
// what has no room.
func capProblem(e *CapError) error {
	p := &problem.Error{Code: problem.KeyLimitReached, Cause: e, Extra: map[string]any{
		"keys": e.Keys, "max_keys": config.MaxKeysPerAccount,
		"rate_limit_sum": e.LimitSum, "max_rate_limit_sum": config.MaxAccountRateLimitPerMinute}}
	if e.TooMany() {
		p.Detail = fmt.Sprintf("the account has %d keys, the most it may have; revoke one to make room", e.Keys)
		return p
	}
	p.Field = "rate_limit_per_minute"
	p.Detail = fmt.Sprintf("the account's keys already take %d of the %d requests a minute an account may have; "+
		"a key of %d does not fit: ask for less or revoke a key", e.LimitSum, config.MaxAccountRateLimitPerMinute, e.Asked)
	return p
}

// transient reports whether a store error is worth retrying: a timeout, a
// connection failure, throttling or a 5xx.
func transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
