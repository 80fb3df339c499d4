// Command obsgen-verify checks what obsgen generates with the upstream code
// obsgen leaves out of its own binary: Prometheus' configuration loader with
// every service discovery, Alertmanager's loader, and np-guard's
// netpol-analyzer as a second network evaluator, and istioctl (validate, and
// analyze offline) on the Istio objects when istioctl is on PATH or named
// with --istioctl. Run it in CI next to `obsgen generate --check`.
package main

import (
	"context"
	"os"
	"os/signal"

	"obsgen.dev/obsgen/internal/cli"
	"obsgen.dev/obsgen/internal/pipeline"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/internal/verify"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := cli.VerifyMain(ctx, os.Args[1:], os.Stdout, os.Stderr, check)
	stop()
	os.Exit(code)
}

func check(res *pipeline.Result, engine *render.Engine, opts cli.VerifyOptions) ([]string, []string, error) {
	r, err := verify.Profile(res, engine)
	if err != nil || opts.Istioctl == "" {
		return r.Checked, r.Problems, err
	}
	ir, err := verify.Istio{Istioctl: opts.Istioctl}.Check(context.Background(), res)
	return append(r.Checked, ir.Checked...), append(r.Problems, ir.Problems...), err
}
