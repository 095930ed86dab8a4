package httpapi

import (
	"net/url"
	"time"

	"github.com/waickoff/waickoff/shared/problem"
)

// DayLayout is the layout of the from and to query parameters: a UTC day.
const DayLayout = "2006-01-02"

// Days reads the from and to query parameters of a report by day; an
// absent one is the zero time, for the caller to default. A date that does
// not parse is a 400 naming its parameter, and so is a to before a from
// when both are given.
func Days(q url.Values) (from, to time.Time, err error) {
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		if raw := q.Get(p.name); raw != "" {
			t, err := time.Parse(DayLayout, raw)
			if err != nil {
				return time.Time{}, time.Time{}, problem.Invalid(p.name, "%s must be a date such as 2026-01-31", p.name)
			}
			*p.dst = t
		}
	}
	if !from.IsZero() && !to.IsZero() {
		err = DaysInOrder(from, to)
	}
	return from, to, err
}

// DaysInOrder is the 400 for a range whose to is before its from.
func DaysInOrder(from, to time.Time) error {
	if to.Before(from) {
		return problem.Invalid("to", "to must not be before from")
	}
	return nil
}
