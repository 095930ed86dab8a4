package quota

import (
	"errors"
	"net/http"
	"time"
	"unicode"

	"github.com/waickoff/waickoff/shared/config"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/pricing"
	"github.com/waickoff/waickoff/shared/problem"
	"github.com/waickoff/waickoff/shared/session"
)

// Handlers are the quota endpoints.
type Handlers struct {
	Quotas *Store
	Prices pricing.List
	// PaymentsMode is config.PaymentsPlaceholder or PaymentsDisabled.
	PaymentsMode string
	Now          func() time.Time
}

// Problem maps the store's errors to the API's.
func Problem(err error) error {
	switch {
	case err == nil:
		return nil
	case problem.As(err) != nil:
		return err
	case errors.Is(err, ErrNoAccount):
		return problem.New(problem.NotFound, "no such account")
	case errors.Is(err, ErrIdempotencyConflict):
		return &problem.Error{Code: problem.Conflict, Field: "idempotency_key",
			Detail: "idempotency_key was used with a different request"}
	case errors.Is(err, ErrBusy), session.Transient(err):
		return problem.Unavailable(err)
	}
	return err
}

// Get is GET /api/v1/sessions/quota.
func (h *Handlers) Get(w http.ResponseWriter, r *http.Request) error {
	accountID, err := httpapi.AccountOf(r, r.URL.Query().Get("account_id"), h.Quotas)
	if err != nil {
		return err
	}
	q, err := h.Quotas.Get(r.Context(), accountID, h.Now())
	if err != nil {
		return Problem(err)
	}
	return httpapi.WriteJSON(w, http.StatusOK, q)
}

type addRequest struct {
	Sessions       *int64  `json:"sessions"`
	IdempotencyKey *string `json:"idempotency_key"`
	AccountID      *string `json:"account_id"`
}

// MaxIdempotencyKey bounds an idempotency key's length.
const MaxIdempotencyKey = 128

// Add is POST /api/v1/sessions/quota/add: 201 with the purchase, the same
// purchase again for a repeated idempotency_key. An account's ADMIN may
// buy only in placeholder payments mode (else 402 payments_disabled); the
// master key may always grant.
func (h *Handlers) Add(w http.ResponseWriter, r *http.Request) error {
	c, _ := httpapi.CallerOf(r)
	if !c.IsMaster() && h.PaymentsMode != config.PaymentsPlaceholder {
		return problem.New(problem.PaymentsDisabled, "buying sessions is not available yet")
	}
	var req addRequest
	if err := httpapi.DecodeJSON(r, &req, false); err != nil {
		return err
	}
	if req.Sessions == nil {
		return problem.Invalid("sessions", "sessions is required")
	}
	q, err := h.Prices.Quote(*req.Sessions)
	if err != nil {
		return problem.Invalid("sessions", "sessions must be an integer from 1 to %d", pricing.MaxSessions)
	}
	key := ""
	if req.IdempotencyKey != nil {
		key = *req.IdempotencyKey
		if !validKey(key) {
			return problem.Invalid("idempotency_key", "idempotency_key must be 1 to %d printable characters", MaxIdempotencyKey)
		}
	}
	named := ""
	if req.AccountID != nil {
		named = *req.AccountID
	}
	accountID, err := httpapi.AccountOf(r, named, h.Quotas)
	if err != nil {
		return err
	}
	p, _, err := h.Quotas.Add(r.Context(), accountID, q, key, h.Now())
	if err != nil {
		return Problem(err)
	}
	return httpapi.WriteJSON(w, http.StatusCreated, p)
}

func validKey(k string) bool {
	if k == "" || len(k) > MaxIdempotencyKey {
		return false
	}
	for _, r := range k {
		if !unicode.IsPrint(r) || r == unicode.ReplacementChar {
			return false
		}
	}
	return true
}
