// Command benchtable runs the project's benchmarks (make bench) and prints
// them as one table: ours, the baseline measured in the same run, their
// ratio, and the goal where there is one. Rows are listed in rows.go.
//
//	go run ./infra/cmd/benchtable [-count 3] [-benchtime 1x] [-raw bench.out]
//
// Each number is the best of -count runs: the machine is shared, and other
// work only ever adds time.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

type row struct {
	Label    string
	Pkg      string // package pattern, as for go test
	Ours     string // benchmark name without the -GOMAXPROCS suffix
	Baseline string // "" when there is none
	Metric   string // unit reported by the benchmark: "ns/op", "ns/value", ...
	Goal     goal
}

// goal is what a row must reach; zero fields are no goal.
type goal struct {
	MaxOurs  float64 // ours at most this, in Metric
	MaxRatio float64 // ours/baseline at most this
}

// results maps benchmark name -> metric -> the values of every run.
type results map[string]map[string][]float64

func main() {
	count := flag.Int("count", 3, "runs of each benchmark (the table shows the best)")
	benchtime := flag.String("benchtime", "", "go test -benchtime (default: each package's own)")
	raw := flag.String("raw", "bench.out", "file for go test's raw output (empty: none)")
	flag.Parse()
	var rawOut io.Writer = io.Discard
	if *raw != "" {
		f, err := os.Create(*raw)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
		defer f.Close()
		rawOut = f
	}
	res := results{}
	for _, pkg := range packages(rows) {
		bt := *benchtime
		if bt == "" {
			bt = defaultBenchtime[pkg]
		}
		if bt == "" {
			bt = "1s"
		}
		fmt.Fprintf(os.Stderr, "benchtable: %s ...\n", pkg)
		if err := run(pkg, tops(rows, pkg), bt, *count, rawOut, res); err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
	}
	missed := render(os.Stdout, rows, res, *count)
	if missed > 0 {
		fmt.Printf("\n%d goal(s) missed.\n", missed)
	}
}

// defaultBenchtime keeps make bench within a few minutes on two cores.
var defaultBenchtime = map[string]string{
	"./shared/candle":       "200x",
	"./shared/indicatorapi": "10x",
	"./shared/indicator":    "50x",
	"./shared/wyckoff":      "3x",
	"./shared/mcpapi":       "20x",
	"./shared/authorizer":   "20000x",
	"./shared/apikey":       "20000x",
}

// packages returns the packages of rows in first-seen order.
func packages(rows []row) []string {
	var out []string
	for _, r := range rows {
		if !slices.Contains(out, r.Pkg) {
			out = append(out, r.Pkg)
		}
	}
	return out
}

// tops returns the top-level benchmark names the rows of pkg need.
func tops(rows []row, pkg string) []string {
	var out []string
	for _, r := range rows {
		if r.Pkg != pkg {
			continue
		}
		for _, name := range []string{r.Ours, r.Baseline} {
			if name == "" {
				continue
			}
			top, _, _ := strings.Cut(name, "/")
			if !slices.Contains(out, top) {
				out = append(out, top)
			}
		}
	}
	return out
}

// run runs the benchmarks of pkg and adds their results. A failing go test
// is an error that carries its output.
func run(pkg string, tops []string, benchtime string, count int, raw io.Writer, res results) error {
	pattern := "^(" + strings.Join(tops, "|") + ")$"
	cmd := exec.Command("go", "test", "-run", "^$", "-bench", pattern, "-benchtime", benchtime,
		"-count", strconv.Itoa(count), pkg)
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(&out, raw)
	cmd.Stderr = io.MultiWriter(&out, raw)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go test -bench %s %s: %v\n%s", pattern, pkg, err, out.String())
	}
	parse(&out, res)
	return nil
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// parse reads go test -bench output: "BenchmarkX/y-2  100  123 ns/op  4.5 ns/value ...".
func parse(r io.Reader, res results) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		f := strings.Fields(m[2])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			if res[m[1]] == nil {
				res[m[1]] = map[string][]float64{}
			}
			res[m[1]][f[i+1]] = append(res[m[1]][f[i+1]], v)
		}
	}
}

// best returns the smallest value of name's metric, or NaN.
func (res results) best(name, metric string) float64 {
	vs := res[name][metric]
	if len(vs) == 0 {
		return math.NaN()
	}
	return slices.Min(vs)
}

// render prints the table and returns how many goals were missed.
func render(w io.Writer, rows []row, res results, count int) int {
	fmt.Fprintf(w, "Best of %d runs each (the machine is shared; other work only adds time). ratio = ours / baseline.\n\n", count)
	fmt.Fprintln(w, "| benchmark | unit | ours | baseline | ratio | goal |")
	fmt.Fprintln(w, "| --- | --- | ---: | ---: | ---: | --- |")
	missed := 0
	for _, r := range rows {
		ours := res.best(r.Ours, r.Metric)
		base, ratio := math.NaN(), math.NaN()
		if r.Baseline != "" {
			base = res.best(r.Baseline, r.Metric)
			ratio = ours / base
		}
		g, ok := judge(r.Goal, ours, ratio)
		if !ok {
			missed++
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.Label, r.Metric, num(ours), num(base), ratioText(ratio), g)
	}
	return missed
}

// judge describes the goal and whether it was met.
func judge(g goal, ours, ratio float64) (string, bool) {
	var parts []string
	ok := true
	if g.MaxOurs > 0 {
		met := ours <= g.MaxOurs
		ok = ok && met
		parts = append(parts, fmt.Sprintf("ours <= %s: %s", num(g.MaxOurs), verdict(met, ours/g.MaxOurs)))
	}
	if g.MaxRatio > 0 {
		met := ratio <= g.MaxRatio
		ok = ok && met
		parts = append(parts, fmt.Sprintf("ratio <= %s: %s", num(g.MaxRatio), verdict(met, ratio/g.MaxRatio)))
	}
	return strings.Join(parts, "; "), ok
}

func verdict(met bool, over float64) string {
	switch {
	case math.IsNaN(over):
		return "not measured"
	case met:
		return "met"
	}
	return fmt.Sprintf("missed by %.0f%%", (over-1)*100)
}

func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case v >= 100:
		return groupThousands(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func ratioText(r float64) string {
	if math.IsNaN(r) {
		return "-"
	}
	return strconv.FormatFloat(r, 'f', 2, 64) + "x"
}

// groupThousands writes 1234567 as 1,234,567.
func groupThousands(s string) string {
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
