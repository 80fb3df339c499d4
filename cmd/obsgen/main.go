// Command obsgen turns one declarative profile into a complete, verified
// observability stack for Kubernetes clusters that run Istio.
package main

import (
	"context"
	"os"
	"os/signal"

	"obsgen.dev/obsgen/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
