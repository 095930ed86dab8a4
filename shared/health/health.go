// Package health serves the public liveness and pricing endpoints.
package health

import (
	"net/http"
	"time"

	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/pricing"
)

// Health answers GET /api/v1/health.
func Health(version string) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		return httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": version})
	}
}

// Session describes what one session buys.
type Session struct {
	TTL        time.Duration
	TokenLimit int64
	// PaymentsMode is whether an account ADMIN may buy sessions
	// (placeholder) or only the operator may grant them (disabled).
	PaymentsMode string
}

// Pricing answers GET /api/v1/pricing.
func Pricing(list pricing.List, s Session) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Cache-Control", "public, max-age=60")
		return httpapi.WriteJSON(w, http.StatusOK, map[string]any{
			"currency":            pricing.Currency,
			"session_price_cents": list.UnitCents,
			"tiers":               list.Published(),
			"session": map[string]any{
				"ttl_seconds": int64(s.TTL / time.Second),
				"token_limit": s.TokenLimit,
			},
			"token_estimate": "ceil((request body bytes + response body bytes) / 4)",
			"payments":       map[string]any{"mode": s.PaymentsMode, "self_service": s.PaymentsMode == "placeholder"},
		})
	}
}
