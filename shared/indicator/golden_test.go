package indicator

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.json from the current results")

// fmaProbe holds operands for which a fused multiply-add and a multiply
// followed by an add differ: (1+2^-30)*(1-2^-30) rounds to 1.
var fmaProbe = [3]float64{1 + 0x1p-30, 1 - 0x1p-30, -1}

// fusesMultiplyAdd reports whether the compiler fuses x*y+z on this
// platform (arm64 does, amd64 does not). There go-talib, compiled the same
// way, is no longer TA-Lib's arithmetic, so it cannot serve as the oracle.
func fusesMultiplyAdd() bool {
	x, y, z := fmaProbe[0], fmaProbe[1], fmaProbe[2]
	return x*y+z != 0
}

const goldenPath = "testdata/golden.json"

// goldenSample is every fifth value of every output of every indicator
// (defaults) over a 200-candle random walk. NaN warm-up values are null.
type goldenSample map[string]map[string][]*float64

func sampleOutputs(t *testing.T) goldenSample {
	in := walk(77, 200, 100)
	g := goldenSample{}
	for _, spec := range Catalog() {
		out := mustRun(t, spec, in, spec.Defaults())
		g[spec.Name] = map[string][]*float64{}
		for k, name := range spec.Outputs {
			var vs []*float64
			for i := 0; i < len(out[k]); i += 5 {
				if v := out[k][i]; math.IsNaN(v) {
					vs = append(vs, nil)
				} else {
					vs = append(vs, &v)
				}
			}
			g[spec.Name][name] = vs
		}
	}
	return g
}

// TestGolden compares the results with values recorded on amd64, where
// TestMatchesTALib checks them against TA-Lib, so that platforms that fuse
// multiply-adds (arm64, the Lambda target) are held to the same numbers.
// Regenerate with: go test ./shared/indicator -run TestGolden -update
// (on amd64, after TestMatchesTALib passes).
func TestGolden(t *testing.T) {
	got := sampleOutputs(t)
	if *update {
		if fusesMultiplyAdd() {
			t.Fatal("regenerate the golden file on a platform without fused multiply-adds (amd64)")
		}
		b, err := json.MarshalIndent(got, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatal(err)
	}
	var want goldenSample
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) != len(got) {
		t.Fatalf("golden file has %d indicators, catalog %d (regenerate with -update)", len(want), len(got))
	}
	for name, outs := range got {
		for out, vs := range outs {
			ws, ok := want[name][out]
			if !ok || len(ws) != len(vs) {
				t.Fatalf("%s.%s: not in the golden file or wrong length (regenerate with -update)", name, out)
			}
			for i := range vs {
				switch {
				case (vs[i] == nil) != (ws[i] == nil):
					t.Errorf("%s.%s[%d]: warm-up mismatch", name, out, 5*i)
				case vs[i] != nil && !closeTo(*vs[i], *ws[i], 100):
					t.Errorf("%s.%s[%d] = %.17g, golden %.17g", name, out, 5*i, *vs[i], *ws[i])
				}
			}
		}
	}
}
