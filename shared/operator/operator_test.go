package operator

import (
	"reflect"
	"testing"
	"time"
)

func TestRetention(t *testing.T) {
	d := func(s string) time.Time { t, _ := time.Parse(day, s); return t }
	// 2026-11-02 is a Monday (ISO week 45).
	weeks := map[string]map[string]bool{
		"2026-W44": {"a": true, "b": true},
		"2026-W45": {"a": true, "c": true},
		"2026-W46": {"c": true},
	}
	for _, tc := range []struct {
		name     string
		from, to string
		want     []Week
	}{
		{"three weeks", "2026-11-02", "2026-11-22", []Week{
			{Week: "2026-W45", Active: 2, Retained: 1, PreviousActive: 2},
			{Week: "2026-W46", Active: 1, Retained: 1, PreviousActive: 2},
			{Week: "2026-W47", Active: 0, Retained: 0, PreviousActive: 1},
		}},
		{"one day", "2026-11-04", "2026-11-04", []Week{{Week: "2026-W45", Active: 2, Retained: 1, PreviousActive: 2}}},
		{"no activity", "2026-12-07", "2026-12-07", []Week{{Week: "2026-W50"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := retention(weeks, d(tc.from), d(tc.to)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
