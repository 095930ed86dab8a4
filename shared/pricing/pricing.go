// Package pricing holds the session price list and its bulk tiers, and
// quotes purchases in integer cents.
package pricing

import (
	"fmt"

	"github.com/waickoff/waickoff/shared/config"
)

// Currency of every price.
const Currency = "usd"

// List is the price list.
type List struct {
	UnitCents int64
	Tiers     []config.Tier
}

// New returns the list for a unit price and tiers (sorted by minimum).
func New(unitCents int64, tiers []config.Tier) List {
	return List{UnitCents: unitCents, Tiers: tiers}
}

// Quote is the price of buying some sessions.
type Quote struct {
	Sessions       int64  `json:"sessions"`
	UnitPriceCents int64  `json:"unit_price_cents"`
	DiscountPct    int    `json:"discount_pct"`
	TotalCents     int64  `json:"total_price_cents"`
	Currency       string `json:"currency"`
}

// MaxSessions bounds one purchase.
const MaxSessions = 100000

// Quote prices n sessions: the list unit price, the discount of the
// highest tier n reaches, and the total rounded half up to the cent. It
// returns an error when n is outside [1, MaxSessions].
func (l List) Quote(n int64) (Quote, error) {
	if n < 1 || n > MaxSessions {
		return Quote{}, fmt.Errorf("sessions must be from 1 to %d", MaxSessions)
	}
	pct := 0
	for _, t := range l.Tiers {
		if n >= int64(t.MinSessions) {
			pct = t.DiscountPct
		}
	}
	gross := n * l.UnitCents * int64(100-pct)
	total := (gross + 50) / 100
	return Quote{Sessions: n, UnitPriceCents: l.UnitCents, DiscountPct: pct, TotalCents: total, Currency: Currency}, nil
}

// Tier is a published tier with its effective unit price.
type Tier struct {
	MinSessions    int   `json:"min_sessions"`
	DiscountPct    int   `json:"discount_pct"`
	UnitPriceCents int64 `json:"unit_price_cents"`
}

// Published lists the tiers a client sees, starting with the list price
// at one session.
func (l List) Published() []Tier {
	out := []Tier{{MinSessions: 1, DiscountPct: 0, UnitPriceCents: l.UnitCents}}
	for _, t := range l.Tiers {
		if t.MinSessions == 1 {
			out = out[:0]
		}
		out = append(out, Tier{MinSessions: t.MinSessions, DiscountPct: t.DiscountPct,
			UnitPriceCents: (l.UnitCents*int64(100-t.DiscountPct) + 50) / 100})
	}
	return out
}
