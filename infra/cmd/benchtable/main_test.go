package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestTable parses go test -bench output, keeps the best of the runs, and
// renders ours, baseline, ratio and each goal's verdict.
func TestTable(t *testing.T) {
	out := `goos: linux
BenchmarkEnc/ours-2     	     100	   1000 ns/op	        30.00 cpu-ns/value	 1 allocs/op
BenchmarkEnc/ours-2     	     100	   1000 ns/op	        20.00 cpu-ns/value
BenchmarkEnc/base-2     	     100	   1000 ns/op	        80.00 cpu-ns/value
BenchmarkSolo           	     100	   1234567 ns/op
PASS
`
	res := results{}
	parse(strings.NewReader(out), res)
	rows := []row{
		{Label: "met", Ours: "BenchmarkEnc/ours", Baseline: "BenchmarkEnc/base", Metric: "cpu-ns/value", Goal: goal{MaxOurs: 25, MaxRatio: 0.5}},
		{Label: "missed", Ours: "BenchmarkEnc/ours", Baseline: "BenchmarkEnc/base", Metric: "cpu-ns/value", Goal: goal{MaxOurs: 10}},
		{Label: "solo", Ours: "BenchmarkSolo", Metric: "ns/op"},
		{Label: "absent", Ours: "BenchmarkNone", Metric: "ns/op", Goal: goal{MaxOurs: 1}},
	}
	var b bytes.Buffer
	if missed := render(&b, rows, res, 2); missed != 2 {
		t.Errorf("missed = %d, want 2 (missed, absent)\n%s", missed, b.String())
	}
	for _, want := range []string{
		"| met | cpu-ns/value | 20.0 | 80.0 | 0.25x | ours <= 25.0: met; ratio <= 0.50: met |",
		"| missed | cpu-ns/value | 20.0 | 80.0 | 0.25x | ours <= 10.0: missed by 100% |",
		"| solo | ns/op | 1,234,567 | - | - |  |",
		"| absent | ns/op | - | - | - | ours <= 1.00: not measured |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
	if got := tops([]row{{Pkg: "p", Ours: "BenchmarkA/x", Baseline: "BenchmarkB/y"}, {Pkg: "p", Ours: "BenchmarkA/z"}}, "p"); strings.Join(got, ",") != "BenchmarkA,BenchmarkB" {
		t.Errorf("tops = %v", got)
	}
}
