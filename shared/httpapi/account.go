package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/waickoff/waickoff/shared/problem"
)

// Accounts tells whether an account exists.
type Accounts interface {
	Exists(ctx context.Context, accountID string) (bool, error)
}

// AccountOf returns the account a request acts on: the caller's own, or
// for the master key the one it names (named: the account_id query
// parameter or body field). A key naming another account gets 404, as
// for any other account's resource; the master key naming none gets 400
// and naming an unknown one 404. A failed lookup is 503.
func AccountOf(r *http.Request, named string, accounts Accounts) (string, error) {
	c, ok := CallerOf(r)
	if !ok {
		return "", problem.New(problem.Unauthorized, "a valid API key is required")
	}
	if !c.IsMaster() {
		if named != "" && named != c.AccountID {
			return "", problem.New(problem.NotFound, "no such account")
		}
		return c.AccountID, nil
	}
	if named == "" {
		return "", problem.Invalid("account_id", "the operator key must name the account_id to act on")
	}
	exists, err := accounts.Exists(r.Context(), named)
	if err != nil {
		return "", problem.Unavailable(fmt.Errorf("look up account %s: %w", named, err))
	}
	if !exists {
		return "", problem.New(problem.NotFound, "no such account")
	}
	return named, nil
}
