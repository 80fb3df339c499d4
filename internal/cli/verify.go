package cli

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"obsgen.dev/obsgen/internal/pipeline"
	"obsgen.dev/obsgen/internal/render"
)

// Checker runs obsgen-verify's checks on a profile generated in memory
// with engine: what it checked and the problems it found, or an error when
// it could not check.
type Checker func(res *pipeline.Result, engine *render.Engine, opts VerifyOptions) (checked, problems []string, err error)

// VerifyOptions are the command line's choices for the checks.
type VerifyOptions struct {
	// Istioctl is the istioctl that validates and analyzes the Istio
	// objects, or "" to leave them unchecked.
	Istioctl string
}

const flagIstioctl = "istioctl"

// verifyProblems are what obsgen-verify found wrong, one line each.
type verifyProblems []string

func (p verifyProblems) Error() string { return strings.Join(p, "\n") }

// VerifyMain runs obsgen-verify with args and returns the exit code. It
// generates each profile in memory as validate does, with the same
// settings, messages and exit codes, and hands each to check: the loaders
// and evaluator too heavy for obsgen, which cmd/obsgen-verify links.
func VerifyMain(ctx context.Context, args []string, stdout, stderr io.Writer, check Checker) int {
	a := &app{v: viper.New(), stdout: stdout, stderr: stderr, name: "obsgen-verify"}
	root := a.verifyCommand(check)
	usageArgs(root)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return a.exitCode(root.ExecuteContext(ctx))
}

func (a *app) verifyCommand(check Checker) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "obsgen-verify [--templates DIR] [PROFILE...]",
		Short: "Check generated output with Prometheus', Alertmanager's and np-guard's own code",
		Long: `obsgen-verify generates each profile in memory as obsgen validate does, then
checks the result with the upstream code obsgen leaves out of its own binary:
every Prometheus configuration (each shard, agent mode, the operator flavour's
additional scrape configs and source configuration, the federation job) with
Prometheus' loader and every service discovery, alertmanager.yml with
Alertmanager's loader, and the network proof of Kubernetes NetworkPolicies and
AdminNetworkPolicies again with np-guard's netpol-analyzer as the evaluator,
reporting any check on which it and obsgen's evaluator disagree, and, with
istioctl (on PATH or --istioctl), istioctl validate on every Istio object and
istioctl analyze --use-kube=false on them, failing on any error or warning.

Exit codes: 0 everything checks, 1 an invalid profile or a failed check,
2 a bad command line or settings.`,
		Args:          cobra.ArbitraryArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.loadSettings(cmd.Flags())
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.verify(cmd, args, check)
		},
	}
	cmd.Flags().String(flagConfig, "", "settings file (default: "+configName+" in the working directory or the nearest folder above it)")
	cmd.Flags().String(flagTmpl, "", "directory of template overrides (as for obsgen)")
	cmd.Flags().String(flagIstioctl, "", "istioctl that validates and analyzes the Istio objects (default: istioctl on PATH; \"none\" skips them)")
	strictFlag(cmd)
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	return cmd
}

func (a *app) verify(cmd *cobra.Command, args []string, check Checker) error {
	engine, err := a.engine()
	if err != nil {
		return err
	}
	opts, err := a.verifyOptions(cmd)
	if err != nil {
		return err
	}
	args, err = a.profileArgs(args, false)
	if err != nil {
		return err
	}
	results, err := a.runAllWith(engine, args, nil)
	if err != nil {
		return err
	}
	if err := a.warn(results); err != nil {
		return err
	}
	var problems verifyProblems
	for i, res := range results {
		checked, found, err := check(res, engine, opts)
		if err != nil {
			return fmt.Errorf("%s: %w", args[i], err)
		}
		for _, c := range checked {
			fmt.Fprintf(a.stdout, "%s: %s\n", args[i], c)
		}
		for _, p := range found {
			problems = append(problems, args[i]+": "+p)
		}
	}
	if len(problems) > 0 {
		return problems
	}
	return nil
}

// verifyOptions finds istioctl: the flag's path (an error when it is not
// an executable), else istioctl on PATH, else none, which the output says.
func (a *app) verifyOptions(cmd *cobra.Command) (VerifyOptions, error) {
	path, _ := cmd.Flags().GetString(flagIstioctl)
	switch path {
	case "none":
		return VerifyOptions{}, nil
	case "":
		found, err := exec.LookPath("istioctl")
		if err != nil {
			fmt.Fprintln(a.stderr, "obsgen-verify: istioctl is not on PATH, so the Istio objects are not validated; install it or pass --istioctl PATH (--istioctl none says so on purpose)")
			return VerifyOptions{}, nil
		}
		return VerifyOptions{Istioctl: found}, nil
	}
	found, err := exec.LookPath(path)
	if err != nil {
		return VerifyOptions{}, usageError{fmt.Errorf("--istioctl %s: %w", path, err)}
	}
	return VerifyOptions{Istioctl: found}, nil
}
