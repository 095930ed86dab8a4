package httpapi

import (
	"net/url"
	"testing"
	"time"

	"github.com/waickoff/waickoff/shared/problem"
)

func TestDays(t *testing.T) {
	d := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(DayLayout, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for name, tc := range map[string]struct {
		query    string
		from, to time.Time
		field    string // the parameter the 400 names; "" for no error
	}{
		"none":            {query: ""},
		"both":            {query: "from=2026-01-01&to=2026-01-31", from: d("2026-01-01"), to: d("2026-01-31")},
		"same day":        {query: "from=2026-01-01&to=2026-01-01", from: d("2026-01-01"), to: d("2026-01-01")},
		"from only":       {query: "from=2026-01-01", from: d("2026-01-01")},
		"to only":         {query: "to=2026-01-31", to: d("2026-01-31")},
		"bad from":        {query: "from=2026-1-1", field: "from"},
		"bad to":          {query: "from=2026-01-01&to=yesterday", field: "to"},
		"time in from":    {query: "from=2026-01-01T00:00:00Z", field: "from"},
		"to before from":  {query: "from=2026-02-01&to=2026-01-31", field: "to"},
		"empty is absent": {query: "from=&to=", from: time.Time{}, to: time.Time{}},
	} {
		t.Run(name, func(t *testing.T) {
			q, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			from, to, err := Days(q)
			if tc.field != "" {
				p := problem.As(err)
				if p == nil || p.Code != problem.InvalidRequest || p.Field != tc.field {
					t.Fatalf("Days(%q) error %v, want a 400 naming %q", tc.query, err, tc.field)
				}
				return
			}
			if err != nil || !from.Equal(tc.from) || !to.Equal(tc.to) {
				t.Fatalf("Days(%q) = %v, %v, %v; want %v, %v, nil", tc.query, from, to, err, tc.from, tc.to)
			}
		})
	}
}
