// Command local runs the whole WAIckoff API on 127.0.0.1:$PORT (make
// run): one short line a request on stdout, the functions' JSON logs in
// the file -logs names. SIGINT, SIGTERM or SIGHUP, or the death of its
// parent (make), stops the API and the DynamoDB server it started, and
// the command exits 0.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/waickoff/waickoff/infra/gateway"
	"github.com/waickoff/waickoff/infra/local"
)

func main() { os.Exit(run()) }

func run() int {
	begun := time.Now()
	logPath := flag.String("logs", "", "write the functions' JSON logs and metrics to this file (default: stdout)")
	startedAt := flag.Int64("started-at", 0, "when make run began, in Unix nanoseconds (the banner reports the start-up time from it)")
	flag.Parse()
	dieWithParent()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()

	var logs io.Writer = os.Stdout
	if *logPath != "" {
		f, err := os.Create(*logPath)
		if err != nil {
			fmt.Fprintln(os.Stderr, "local:", err)
			return 1
		}
		defer f.Close()
		logs = f
	}
	var mu sync.Mutex
	api, err := local.Start(ctx, local.Options{Getenv: os.Getenv, Logs: logs, OnAccess: func(a gateway.Access) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Println(line(a))
	}})
	if err != nil {
		if ctx.Err() != nil { // stopped while starting
			return 0
		}
		fmt.Fprintln(os.Stderr, "local:", err)
		return 1
	}
	fmt.Print(api.Banner())
	if *logPath != "" {
		fmt.Printf("  JSON logs:   %s (LOG_LEVEL=%s)\n", *logPath, api.Config.LogLevel)
	}
	fmt.Printf("  %s; pid %d\n", startup(begun, *startedAt), os.Getpid())
	<-ctx.Done()
	fmt.Println("stopping")
	api.Stop()
	fmt.Println("stopped")
	return 0
}

// line is the console line of one request.
func line(a gateway.Access) string {
	return a.Method + " " + a.Path + " " + strconv.Itoa(a.Status) + " " +
		strconv.FormatFloat(float64(a.Elapsed.Microseconds())/1000, 'f', 1, 64) + " ms " +
		strconv.FormatInt(a.Tokens, 10) + " tokens"
}

// startup says how long the start took: from make run's start when
// known (the build included), and this process's own part.
func startup(begun time.Time, startedAt int64) string {
	own := time.Since(begun).Round(time.Millisecond)
	if startedAt == 0 {
		return fmt.Sprintf("started in %s", own)
	}
	total := time.Since(time.Unix(0, startedAt)).Round(time.Millisecond)
	return fmt.Sprintf("started in %s (go build %s, the API and moto %s)", total, (total - own).Round(time.Millisecond), own)
}
