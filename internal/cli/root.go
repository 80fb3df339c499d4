// Package cli holds obsgen's commands. Settings come from flags, OBSGEN_*
// environment variables and an optional .obsgen.yaml, through one local
// viper instance; the profile itself never goes through viper.
package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"obsgen.dev/obsgen/internal/diag"
)

// Exit codes.
const (
	ExitOK     = 0
	ExitFailed = 1 // invalid profile, template or generation failure
	ExitUsage  = 2 // bad command line or settings
	ExitDrift  = 3 // --check found stale output
	configName = ".obsgen.yaml"
	envPrefix  = "OBSGEN"
	flagOut    = "out"
	flagTmpl   = "templates"
	flagConfig = "config"
	flagStrict = "strict"
	defaultOut = "out"
)

// app carries what every command shares.
type app struct {
	v      *viper.Viper
	stdout io.Writer
	stderr io.Writer
	// name is the program's name in messages: obsgen, or obsgen-verify.
	name string
}

// errorPrefix starts every message of the program on stderr.
func (a *app) errorPrefix() string { return cmp.Or(a.name, "obsgen") + ": " }

// usageError marks errors that exit with ExitUsage.
type usageError struct{ error }

// driftError marks --check finding stale output.
var errDrift = errors.New("output is stale")

// Main runs obsgen with args and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{v: viper.New(), stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	return a.exitCode(err)
}

func (a *app) exitCode(err error) int {
	var diags diag.List
	var usage usageError
	var problems verifyProblems
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errDrift):
		fmt.Fprintln(a.stderr, a.errorPrefix()+"generated output is stale; run `obsgen generate` and commit the result")
		return ExitDrift
	case errors.As(err, &diags):
		fmt.Fprintln(a.stderr, diags.Error())
		if errs := diags.Errors(); len(errs) > 0 {
			fmt.Fprintf(a.stderr, "%s%d problem(s) found; nothing was written\n", a.errorPrefix(), len(errs))
		} else {
			fmt.Fprintf(a.stderr, "%s%d warning(s) found with --%s; nothing was written\n", a.errorPrefix(), len(diags), flagStrict)
		}
		return ExitFailed
	case errors.As(err, &problems):
		fmt.Fprintln(a.stderr, problems.Error())
		fmt.Fprintf(a.stderr, "%s%d problem(s) found\n", a.errorPrefix(), len(problems))
		return ExitFailed
	case errors.As(err, &usage):
		fmt.Fprintln(a.stderr, a.errorPrefix()+usage.Error())
		return ExitUsage
	default:
		fmt.Fprintln(a.stderr, a.errorPrefix()+err.Error())
		return ExitFailed
	}
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "obsgen",
		Short: "Generate a verified Prometheus, Grafana and policy stack for Istio clusters from one profile",
		Long: `obsgen reads a profile (teams and namespaces, mTLS mode, network-policy stance,
monitoring namespace) and generates Prometheus scrape configuration, rules,
dashboards and the network and mesh policies that let monitoring traffic through,
all consistent with each other and byte-for-byte deterministic.

Settings come from flags, OBSGEN_* environment variables (OBSGEN_OUT,
OBSGEN_TEMPLATES, OBSGEN_STRICT) and an optional .obsgen.yaml in the working
directory.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.loadSettings(cmd.Flags())
		},
	}
	root.PersistentFlags().String(flagConfig, "", "settings file (default ./"+configName+" if present)")
	root.PersistentFlags().String(flagTmpl, "", "directory of template overrides (see `obsgen templates dump`)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(a.generateCommand(), a.validateCommand(), a.initCommand(),
		a.schemaCommand(), a.templatesCommand(), a.explainCommand())
	usageArgs(root)
	return root
}

// usageArgs makes a wrong number of arguments, to cmd or any command
// below it, a usage error (exit 2), as a bad flag is.
func usageArgs(cmd *cobra.Command) {
	if check := cmd.Args; check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		usageArgs(sub)
	}
}

// loadSettings binds flags, OBSGEN_* variables and the settings file, in
// that order of precedence.
func (a *app) loadSettings(flags *pflag.FlagSet) error {
	if err := a.v.BindPFlags(flags); err != nil {
		return usageError{err}
	}
	a.v.SetEnvPrefix(envPrefix)
	a.v.SetEnvKeyReplacer(strings.NewReplacer("-", "_"))
	a.v.AutomaticEnv()
	a.v.SetConfigType("yaml")
	if file := a.v.GetString(flagConfig); file != "" {
		a.v.SetConfigFile(file)
	} else {
		a.v.SetConfigName(strings.TrimSuffix(configName, ".yaml"))
		a.v.AddConfigPath(".")
	}
	if err := a.v.ReadInConfig(); err != nil {
		var notFound viper.ConfigFileNotFoundError
		if errors.As(err, &notFound) {
			return nil
		}
		return usageError{fmt.Errorf("settings file: %w", err)}
	}
	return a.checkSettingsKeys()
}

// knownSettings are the keys a settings file may hold.
var knownSettings = []string{flagOut, flagTmpl, flagStrict}

func (a *app) checkSettingsKeys() error {
	for _, k := range a.v.AllKeys() {
		if a.v.InConfig(k) && !slices.Contains(knownSettings, k) {
			return usageError{fmt.Errorf("%s: unknown setting %q; known settings: %s",
				a.v.ConfigFileUsed(), k, strings.Join(knownSettings, ", "))}
		}
	}
	return nil
}
