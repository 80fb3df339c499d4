// Command obsgen turns one declarative profile into a complete, verified
// observability stack for Kubernetes clusters that run Istio.
package main

import (
	"context"
	"os"
	"os/signal"

	"obsgen.dev/obsgen/internal/cli"
	"obsgen.dev/obsgen/internal/memlimit"
)

// atExit runs before the process exits (profiling builds only).
var atExit []func()

func main() {
	memlimit.Apply(memlimit.Default)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.Main(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	for _, f := range atExit {
		f()
	}
	os.Exit(code)
}
