package session

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"

	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/problem"
)

// Problem maps the store's errors to the API's: its sentinels to their
// codes, transient store failures to 503 service_unavailable, anything
// else to internal.
func Problem(err error) error {
	var active *ActiveError
	switch {
	case err == nil:
		return nil
	case problem.As(err) != nil:
		return err
	case errors.As(err, &active):
		return &problem.Error{Code: problem.Conflict, Detail: "the account already has an active session",
			Extra: map[string]any{"active_session_id": active.SessionID}}
	case errors.Is(err, ErrNotFound):
		return problem.New(problem.NotFound, "no such session")
	case errors.Is(err, ErrNoAccount):
		return problem.New(problem.NotFound, "no such account")
	case errors.Is(err, ErrNoQuota):
		return problem.New(problem.QuotaExhausted, "no session quota left; buy more with POST /api/v1/sessions/quota/add")
	case errors.Is(err, ErrNotActive):
		return problem.New(problem.Conflict, "the session is not active")
	case errors.Is(err, ErrBadToken):
		return problem.Invalid("next_token", "next_token is not one this API gave out")
	case errors.Is(err, ErrBusy), Transient(err):
		return problem.Unavailable(err)
	}
	return err
}

// Transient reports whether a store error is worth retrying: a timeout, a
// connection failure, throttling or a 5xx.
func Transient(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}

// Handlers are the session endpoints.
type Handlers struct {
	Sessions *Store
	Accounts httpapi.Accounts
	Now      func() time.Time
}

type accountBody struct {
	AccountID *string `json:"account_id"`
}

func (b accountBody) named() string {
	if b.AccountID == nil {
		return ""
	}
	return *b.AccountID
}

// Start is POST /api/v1/sessions: 201 with the new session.
func (h *Handlers) Start(w http.ResponseWriter, r *http.Request) error {
	var body accountBody
	if err := httpapi.DecodeJSON(r, &body, true); err != nil {
		return err
	}
	accountID, err := httpapi.AccountOf(r, body.named(), h.Accounts)
	if err != nil {
		return err
	}
	now := h.Now()
	ses, err := h.Sessions.Start(r.Context(), accountID, now)
	if err != nil {
		return Problem(err)
	}
	return httpapi.WriteJSON(w, http.StatusCreated, ViewAt(ses, now))
}

// Current is GET /api/v1/sessions/current: the active session or 404.
func (h *Handlers) Current(w http.ResponseWriter, r *http.Request) error {
	accountID, err := httpapi.AccountOf(r, r.URL.Query().Get("account_id"), h.Accounts)
	if err != nil {
		return err
	}
	now := h.Now()
	ses, err := h.Sessions.Current(r.Context(), accountID, now)
	if errors.Is(err, ErrNotFound) {
		return problem.New(problem.NotFound, "the account has no active session")
	}
	if err != nil {
		return Problem(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, ViewAt(ses, now))
}

type listView struct {
	Items     []View `json:"items"`
	NextToken string `json:"next_token,omitempty"`
}

// List is GET /api/v1/sessions: newest first, ?status=active|ended,
// ?limit and ?next_token.
func (h *Handlers) List(w http.ResponseWriter, r *http.Request) error {
	page, err := httpapi.ParsePage(r)
	if err != nil {
		return err
	}
	status := Status(r.URL.Query().Get("status"))
	if status != "" && status != Active && status != Ended {
		return problem.Invalid("status", "status must be active or ended")
	}
	accountID, err := httpapi.AccountOf(r, r.URL.Query().Get("account_id"), h.Accounts)
	if err != nil {
		return err
	}
	now := h.Now()
	list, next, err := h.Sessions.List(r.Context(), accountID, status, page.Limit, string(page.Token), now)
	if err != nil {
		return Problem(err)
	}
	out := listView{Items: make([]View, 0, len(list)), NextToken: httpapi.EncodeToken([]byte(next))}
	for _, s := range list {
		out.Items = append(out.Items, ViewAt(s, now))
	}
	return httpapi.WriteJSON(w, http.StatusOK, out)
}

type detailView struct {
	View
	ByEndpoint []EndpointUsage `json:"by_endpoint"`
}

// Get is GET /api/v1/sessions/{session_id}: the session with its usage by
// endpoint; another account's session is 404.
func (h *Handlers) Get(w http.ResponseWriter, r *http.Request) error {
	accountID, err := httpapi.AccountOf(r, r.URL.Query().Get("account_id"), h.Accounts)
	if err != nil {
		return err
	}
	now := h.Now()
	ses, err := h.Sessions.Get(r.Context(), accountID, r.PathValue("session_id"))
	if err != nil {
		return Problem(err)
	}
	by, err := h.Sessions.Usage(r.Context(), ses.ID)
	if err != nil {
		return Problem(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, detailView{View: ViewAt(ses, now), ByEndpoint: by})
}

// Terminate is POST /api/v1/sessions/{session_id}/terminate: 200 with the
// ended session, 409 when it is not active.
func (h *Handlers) Terminate(w http.ResponseWriter, r *http.Request) error {
	var body accountBody
	if err := httpapi.DecodeJSON(r, &body, true); err != nil {
		return err
	}
	accountID, err := httpapi.AccountOf(r, body.named(), h.Accounts)
	if err != nil {
		return err
	}
	now := h.Now()
	ses, err := h.Sessions.Terminate(r.Context(), accountID, r.PathValue("session_id"), now)
	if err != nil {
		return Problem(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, ViewAt(ses, now))
}
