// Command local runs the whole WAIckoff API on 127.0.0.1:$PORT (make run).
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/waickoff/waickoff/infra/local"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	api, err := local.Start(ctx, local.Options{Getenv: os.Getenv, Logs: os.Stdout})
	if err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
	fmt.Fprint(os.Stderr, api.Banner())
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "shutting down")
	api.Stop()
}
