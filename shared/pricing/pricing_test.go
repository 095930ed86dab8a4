package pricing_test

import (
	"testing"

	"github.com/waickoff/waickoff/shared/config"
	"github.com/waickoff/waickoff/shared/pricing"
)

func TestQuote(t *testing.T) {
	tiers, _ := config.ParseTiers("10:10,50:20,100:30")
	list := pricing.New(100, tiers)
	tests := []struct {
		n     int64
		pct   int
		total int64
	}{
		{1, 0, 100}, {9, 0, 900}, {10, 10, 900}, {49, 10, 4410}, {50, 20, 4000}, {99, 20, 7920}, {100, 30, 7000}, {1000, 30, 70000},
	}
	for _, tc := range tests {
		q, err := list.Quote(tc.n)
		if err != nil || q.DiscountPct != tc.pct || q.TotalCents != tc.total || q.UnitPriceCents != 100 || q.Currency != "usd" {
			t.Errorf("Quote(%d) = %+v, %v; want %d%% %d cents", tc.n, q, err, tc.pct, tc.total)
		}
	}
	for _, bad := range []int64{0, -1, pricing.MaxSessions + 1} {
		if _, err := list.Quote(bad); err == nil {
			t.Errorf("Quote(%d) accepted", bad)
		}
	}
}

// Odd unit prices round half up to the cent.
func TestQuoteRounding(t *testing.T) {
	list := pricing.New(33, []config.Tier{{MinSessions: 3, DiscountPct: 15}})
	q, _ := list.Quote(3) // 3 * 33 * 0.85 = 84.15
	if q.TotalCents != 84 {
		t.Fatalf("total %d, want 84", q.TotalCents)
	}
	q, _ = list.Quote(10) // 10 * 33 * 0.85 = 280.5 -> 281
	if q.TotalCents != 281 {
		t.Fatalf("total %d, want 281", q.TotalCents)
	}
}

func TestPublished(t *testing.T) {
	tiers, _ := config.ParseTiers("10:10,50:20,100:30")
	got := pricing.New(100, tiers).Published()
	want := []pricing.Tier{{1, 0, 100}, {10, 10, 90}, {50, 20, 80}, {100, 30, 70}}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("tier %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
