package load

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
)

// Plan is the population a run drives.
type Plan struct {
	// Accounts and KeysPerAccount: each account gets that many load keys
	// (the first WRITE, so that it can start the next session, the rest
	// READ), each with KeyLimit requests a minute.
	Accounts       int
	KeysPerAccount int
	KeyLimit       int
	// Purchases are the quota bought for each account, one purchase per
	// entry (the first is also replayed with its idempotency key, which
	// must add nothing).
	Purchases []int
	// LimitedKey, when > 0, adds one READ key to the first account limited
	// to that many requests a minute, to check the limit under load.
	LimitedKey int
}

// DefaultPlan is 8 accounts x 3 keys at 6000 a minute, 300+100 sessions
// each, and one key limited to 20 a minute.
func DefaultPlan() Plan {
	return Plan{Accounts: 8, KeysPerAccount: 3, KeyLimit: 6000, Purchases: []int{300, 100}, LimitedKey: 20}
}

// Account is one account of the population.
type Account struct {
	ID    string
	Admin string // the ADMIN key made with the account (setup only)
	Keys  []*Key // load keys; Keys[0] is WRITE
	// Purchased is the quota bought through the API.
	Purchased int64
	// FirstSession is the session started at setup.
	FirstSession string
}

// Key is one API key of the population.
type Key struct {
	Index      int // position in Fixture.Keys
	ID         string
	Secret     string
	Account    *Account
	Limit      int
	Permission string
	Limited    bool // the deliberately limited key
}

// Fixture is what Setup made.
type Fixture struct {
	Accounts []*Account
	Keys     []*Key // every key the load uses, load keys first
	Limited  *Key   // nil without Plan.LimitedKey
}

// Setup creates the population through the API with the master key:
// accounts, purchases (one replayed), keys, and a first session for each
// account. It returns the first failure.
func Setup(ctx context.Context, c *Client, master string, p Plan) (*Fixture, error) {
	fx := &Fixture{Accounts: make([]*Account, p.Accounts)}
	var wg sync.WaitGroup
	errs := make([]error, p.Accounts)
	for i := range fx.Accounts {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			fx.Accounts[i], errs[i] = setupAccount(ctx, c, master, p, i)
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	for _, a := range fx.Accounts {
		for _, k := range a.Keys {
			k.Index = len(fx.Keys)
			fx.Keys = append(fx.Keys, k)
		}
	}
	if p.LimitedKey > 0 {
		a := fx.Accounts[0]
		k, err := createKey(ctx, c, a, "limited", "READ", p.LimitedKey)
		if err != nil {
			return nil, err
		}
		k.Limited, k.Index = true, len(fx.Keys)
		fx.Keys = append(fx.Keys, k)
		fx.Limited = k
	}
	return fx, nil
}

func setupAccount(ctx context.Context, c *Client, master string, p Plan, i int) (*Account, error) {
	var acc struct {
		AccountID string `json:"account_id"`
		AdminKey  struct {
			Key string `json:"key"`
		} `json:"admin_key"`
	}
	if err := callJSON(ctx, c, "POST", "/api/v1/accounts", master, map[string]any{"name": fmt.Sprintf("load-%d", i)}, 201, &acc); err != nil {
		return nil, err
	}
	a := &Account{ID: acc.AccountID, Admin: acc.AdminKey.Key}
	for j, n := range p.Purchases {
		body := map[string]any{"sessions": n, "idempotency_key": fmt.Sprintf("load-%d-%d", i, j)}
		var first, again struct {
			PurchaseID string `json:"purchase_id"`
			Sessions   int64  `json:"sessions"`
		}
		if err := callJSON(ctx, c, "POST", "/api/v1/sessions/quota/add", a.Admin, body, 201, &first); err != nil {
			return nil, err
		}
		a.Purchased += first.Sessions
		if j == 0 {
			// A client retry of the same purchase adds nothing.
			if err := callJSON(ctx, c, "POST", "/api/v1/sessions/quota/add", a.Admin, body, 0, &again); err != nil {
				return nil, err
			}
			if again.PurchaseID != first.PurchaseID {
				return nil, fmt.Errorf("account %s: a replayed purchase gave %s, not %s", a.ID, again.PurchaseID, first.PurchaseID)
			}
		}
	}
	for j := 0; j < p.KeysPerAccount; j++ {
		perm := "READ"
		if j == 0 {
			perm = "WRITE"
		}
		k, err := createKey(ctx, c, a, fmt.Sprintf("load-%d", j), perm, p.KeyLimit)
		if err != nil {
			return nil, err
		}
		a.Keys = append(a.Keys, k)
	}
	var ses struct {
		SessionID string `json:"session_id"`
	}
	if err := callJSON(ctx, c, "POST", "/api/v1/sessions", a.Admin, nil, 201, &ses); err != nil {
		return nil, err
	}
	a.FirstSession = ses.SessionID
	return a, nil
}

func createKey(ctx context.Context, c *Client, a *Account, name, perm string, limit int) (*Key, error) {
	var k struct {
		KeyID string `json:"key_id"`
		Key   string `json:"key"`
	}
	body := map[string]any{"name": name, "permission": perm, "rate_limit_per_minute": limit}
	if err := callJSON(ctx, c, "POST", "/api/v1/keys", a.Admin, body, 201, &k); err != nil {
		return nil, err
	}
	return &Key{ID: k.KeyID, Secret: k.Key, Account: a, Limit: limit, Permission: perm}, nil
}

// callJSON sends body as JSON and decodes the answer into out; want is
// the expected status (0: any 2xx).
func callJSON(ctx context.Context, c *Client, method, path, key string, body any, want int, out any) error {
	var b []byte
	ct := ""
	if body != nil {
		b, _ = json.Marshal(body)
		ct = "application/json"
	}
	r, err := c.Do(ctx, method, path, key, false, ct, b)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if (want != 0 && r.Status != want) || (want == 0 && (r.Status < 200 || r.Status > 299)) {
		return fmt.Errorf("%s %s: status %d: %.300s", method, path, r.Status, r.Body)
	}
	if out != nil {
		if err := json.Unmarshal(r.Body, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}
