// Command soak is `make soak`: the long load run. It drives the local API
// for -duration with -workers clients, once on moto and once with the
// store calls answered from memory at the SDK's HTTP client, plus a
// one-client run on each to show a single request's cost, audits every
// run, prints the report, and exits 1 on any error or mismatch.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/waickoff/waickoff/tests/load"
)

func main() {
	duration := flag.Duration("duration", 60*time.Second, "how long each loaded run sends")
	serial := flag.Duration("serial", 10*time.Second, "how long each one-client run sends (0: none)")
	workers := flag.Int("workers", 8, "concurrent clients of the loaded run on memdb")
	motoWorkers := flag.Int("moto-workers", 8, "concurrent clients of the loaded run on moto (moto serves one call at a time, so more clients only lengthen its queue; at ~13 ms of moto time a call and ~3.2 calls a request it tops out near 23 req/s, and a long run with many clients can outlast the authorizer's 3 s budget)")
	tokenLimit := flag.Int64("token-limit", 1_000_000, "SESSION_TOKEN_LIMIT (small enough that sessions are spent and restarted)")
	backends := flag.String("backends", "moto,memdb", "backends to run, in order")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole command to this file")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address (e.g. 127.0.0.1:6060) during the runs; mutex and block profiles are enabled with it")
	flag.Parse()

	if *pprofAddr != "" {
		runtime.SetMutexProfileFraction(5)
		runtime.SetBlockProfileRate(int((100 * time.Microsecond).Nanoseconds()))
		go func() {
			if err := http.ListenAndServe(*pprofAddr, nil); err != nil {
				fmt.Fprintln(os.Stderr, "soak: pprof:", err)
			}
		}()
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "soak:", err)
			os.Exit(2)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "soak:", err)
			os.Exit(2)
		}
		stop := func() { pprof.StopCPUProfile(); f.Close() }
		defer stop()
		exit = func(code int) { stop(); os.Exit(code) }
	}

	var runs []load.Scenario
	for _, name := range strings.Split(*backends, ",") {
		var b load.Backend
		switch strings.TrimSpace(name) {
		case "moto":
			b = load.Moto
		case "memdb":
			b = load.Memory
		default:
			fmt.Fprintf(os.Stderr, "soak: unknown backend %q (moto, memdb)\n", name)
			os.Exit(2)
		}
		w := *workers
		if b == load.Moto {
			w = *motoWorkers
		}
		runs = append(runs, load.Scenario{Name: fmt.Sprintf("soak %s", *duration), Backend: b, Plan: load.DefaultPlan(),
			Run: load.Options{Workers: w, Duration: *duration, Seed: 1}, TokenLimit: *tokenLimit})
		if *serial > 0 {
			plan := load.DefaultPlan()
			plan.LimitedKey = 0
			runs = append(runs, load.Scenario{Name: fmt.Sprintf("one client %s", *serial), Backend: b, Plan: plan,
				Run: load.Options{Workers: 1, Duration: *serial, Seed: 2}, TokenLimit: *tokenLimit})
		}
	}

	ctx := context.Background()
	failed := false
	var reps []*load.Report
	for _, sc := range runs {
		fmt.Printf("running %s on %s ...\n", sc.Name, sc.Backend)
		rep, err := load.Bench(ctx, sc)
		if err != nil {
			fmt.Fprintln(os.Stderr, "soak:", err)
			exit(1)
		}
		fmt.Println(rep)
		reps = append(reps, rep)
		failed = failed || rep.Failed()
	}

	fmt.Println("SUMMARY")
	fmt.Printf("  %-32s %9s %10s %10s %10s %8s %10s %10s\n", "run", "req/s", "p50", "p99", "DB/req", "errors", "mismatch", "CPU/req")
	byKey := map[string]*load.Report{}
	for _, r := range reps {
		name := fmt.Sprintf("%s, %d clients, %s", short(r.Scenario.Backend), r.Scenario.Run.Workers, r.Scenario.Run.Duration)
		fmt.Printf("  %-32s %9.1f %10s %10s %10s %8d %10d %10s\n", name, r.Stats.RPS, msf(r.Stats.All.P50), msf(r.Stats.All.P99),
			msf(r.DBPerRequest()), r.Stats.Failed, len(r.Audit.Mismatches), msf(r.CPUPerRequest()))
		byKey[fmt.Sprintf("%s/%d", short(r.Scenario.Backend), r.Scenario.Run.Workers)] = r
	}
	if m, s := byKey["memdb/1"], byKey["moto/1"]; m != nil {
		fmt.Printf("  our overhead per request without the database (one client, memdb): p50 %s, mean %s, CPU %s\n",
			msf(m.Stats.All.P50), msf(m.Stats.All.Mean), msf(m.CPUPerRequest()))
		if s != nil {
			fmt.Printf("  one client on moto: mean %s, of which %s inside DynamoDB calls (%.2f calls a request); ours %s\n",
				msf(s.Stats.All.Mean), msf(s.DBPerRequest()), float64(s.DB.Calls)/float64(max(1, s.Stats.All.Count)), msf(s.OwnPerRequest()))
		}
	}
	if m, s := byKey[fmt.Sprintf("memdb/%d", *workers)], byKey[fmt.Sprintf("moto/%d", *motoWorkers)]; m != nil && s != nil {
		fmt.Printf("  loaded: moto (%d clients) %.1f req/s, memdb (%d clients) %.1f req/s; time inside DynamoDB calls per request: moto %s, memdb %s\n",
			*motoWorkers, s.Stats.RPS, *workers, m.Stats.RPS, msf(s.DBPerRequest()), msf(m.DBPerRequest()))
	}
	if failed {
		fmt.Println("FAIL: errors or mismatches above")
		exit(1)
	}
	fmt.Println("PASS: 0 errors, 0 mismatches")
}

// exit ends the command (flushing the CPU profile when one is written).
var exit = os.Exit

func short(b load.Backend) string {
	if b == load.Memory {
		return "memdb"
	}
	return "moto"
}

func msf(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }
