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
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"obsgen.dev/obsgen/internal/diag"
	"obsgen.dev/obsgen/internal/version"
)

// Exit codes.
const (
	ExitOK     = 0
	ExitFailed = 1 // invalid profile, template or generation failure
	ExitUsage  = 2 // bad command line or settings
	ExitDrift  = 3 // --check found stale output
	configName = ".obsgen.yaml"
	// settingProfiles lists the settings file's profiles (files or globs).
	settingProfiles = "profiles"
	envPrefix       = "OBSGEN"
	flagOut         = "out"
	flagTmpl        = "templates"
	flagConfig      = "config"
	flagStrict      = "strict"
	defaultOut      = "out"
)

// app carries what every command shares.
type app struct {
	v      *viper.Viper
	stdout io.Writer
	stderr io.Writer
	// name is the program's name in messages: obsgen, or obsgen-verify.
	name string
	// configDir is the folder of the settings file in use, "" for none;
	// flags are the command's, to tell a flag's value from the file's.
	configDir string
	flags     *pflag.FlagSet
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
	return a.exitCode(a.execute(ctx, args))
}

// execute runs the command line. A panic (a defect in obsgen or a library)
// becomes an internal error that exits 1, not Go's exit 2 that reads as a
// usage error: output is written in one commit at the end (output.Commit),
// so a panic before it leaves nothing written, and one inside it leaves the
// pending record the next run finishes or undoes.
func (a *app) execute(ctx context.Context, args []string) error {
	return a.executeRoot(ctx, a.rootCommand(), args)
}

func (a *app) executeRoot(ctx context.Context, root *cobra.Command, args []string) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = internalError{what: strings.TrimSpace(root.Name() + " " + strings.Join(args, " ")), v: v, stack: debug.Stack()}
		}
	}()
	root.SetArgs(args)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	return root.ExecuteContext(ctx)
}

// internalError is a recovered panic.
type internalError struct {
	what  string
	v     any
	stack []byte
}

func (e internalError) Error() string {
	return fmt.Sprintf("internal error while running `%s`: %v; nothing was written. Please report it with this message and the profile (set OBSGEN_TRACEBACK=1 for the stack)", e.what, e.v)
}

func (a *app) exitCode(err error) int {
	var diags diag.List
	var usage usageError
	var problems verifyProblems
	var internal internalError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errFindings):
		return ExitFailed
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
	case errors.As(err, &internal):
		fmt.Fprintln(a.stderr, a.errorPrefix()+internal.Error())
		if os.Getenv("OBSGEN_TRACEBACK") != "" {
			a.stderr.Write(internal.stack)
		}
		return ExitFailed
	case strings.HasPrefix(err.Error(), "unknown command "):
		// cobra's own error for an unknown command below the root.
		fmt.Fprintln(a.stderr, a.errorPrefix()+err.Error())
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
OBSGEN_TEMPLATES, OBSGEN_STRICT) and an optional .obsgen.yaml (out, templates,
strict, profiles), found in the working directory or the nearest folder above
it; its paths are relative to the file.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.loadSettings(cmd.Flags())
		},
	}
	root.PersistentFlags().String(flagConfig, "", "settings file (default: "+configName+" in the working directory or the nearest folder above it)")
	root.PersistentFlags().String(flagTmpl, "", "`DIR` of template overrides, as obsgen templates dump writes them (env OBSGEN_TEMPLATES)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(a.generateCommand(), a.validateCommand(), a.initCommand(),
		a.schemaCommand(), a.templatesCommand(), a.explainCommand(), a.versionCommand(), a.teamCommand(), a.doctorCommand(), a.importCommand())
	usageArgs(root)
	groups(root)
	helpTopics(root)
	return root
}

// groups makes a command that only holds subcommands (explain, templates)
// print its help when called bare, and refuse an unknown subcommand as a
// usage error (exit 2) instead of printing help and exiting 0.
func groups(cmd *cobra.Command) {
	for _, sub := range cmd.Commands() {
		groups(sub)
	}
	if cmd.HasParent() && cmd.HasSubCommands() && !cmd.Runnable() {
		cmd.Args = cobra.ArbitraryArgs
		cmd.RunE = func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return c.Help()
			}
			names := make([]string, 0, len(c.Commands()))
			for _, s := range c.Commands() {
				if s.IsAvailableCommand() {
					names = append(names, s.Name())
				}
			}
			return usageError{fmt.Errorf("unknown command %q for %q; its commands: %s", args[0], c.CommandPath(), strings.Join(names, ", "))}
		}
	}
}

// helpTopics makes `obsgen help bogus` a usage error, as `obsgen bogus` is.
func helpTopics(root *cobra.Command) {
	root.InitDefaultHelpCmd()
	for _, c := range root.Commands() {
		if c.Name() != "help" {
			continue
		}
		run := c.Run
		c.Run = nil
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if target, rest, err := root.Find(args); len(args) > 0 && (err != nil || target == root || len(rest) > 0) {
				return usageError{fmt.Errorf("unknown help topic %q; run `obsgen help` for the commands", strings.Join(args, " "))}
			}
			run(cmd, args)
			return nil
		}
	}
}

func (a *app) versionCommand() *cobra.Command {
	var short bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print obsgen's version, commit and Go version",
		Long: `Print the version of this obsgen (set by release builds; a build from a checkout
says (devel) and its commit), the commit, the Go version and the platform.
Each output folder's .obsgen-manifest records the version that last wrote it.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			info := version.Get()
			if short {
				_, err := fmt.Fprintln(a.stdout, info.Short())
				return err
			}
			_, err := fmt.Fprint(a.stdout, info.String())
			return err
		},
	}
	cmd.Flags().BoolVar(&short, "short", false, "print the version only, as the manifest records it")
	return cmd
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
	a.flags = flags
	file := a.v.GetString(flagConfig)
	if file == "" {
		found, err := findSettings()
		if err != nil {
			return usageError{err}
		}
		if found == "" {
			return nil
		}
		file = found
	}
	a.v.SetConfigFile(file)
	if err := a.v.ReadInConfig(); err != nil {
		return usageError{fmt.Errorf("settings file: %w", err)}
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return usageError{fmt.Errorf("settings file: %w", err)}
	}
	a.configDir = filepath.Dir(abs)
	return a.checkSettingsKeys()
}

// findSettings looks for .obsgen.yaml in the working directory and each
// folder above it, as git looks for .git, so obsgen run anywhere in a
// GitOps repository reads the repository's settings. It returns "" when
// there is none.
func findSettings() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("settings file: %w", err)
	}
	for {
		candidate := filepath.Join(dir, configName)
		if info, err := os.Stat(candidate); err == nil && !info.IsDir() {
			return candidate, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}

// path is the setting key as a path: one from a flag or OBSGEN_* variable
// is relative to the working directory; one from the settings file, or a
// default (out) while a settings file is in use, to the file's folder, so
// --check finds the same output from any folder of the repository.
func (a *app) path(key string) string {
	p := a.v.GetString(key)
	if p == "" || filepath.IsAbs(p) || a.configDir == "" || a.fromCommandLine(key) {
		return p
	}
	return filepath.Join(a.configDir, p)
}

// fromCommandLine tells whether a flag or an OBSGEN_* variable sets key.
func (a *app) fromCommandLine(key string) bool {
	if a.flags != nil {
		if f := a.flags.Lookup(key); f != nil && f.Changed {
			return true
		}
	}
	_, ok := os.LookupEnv(envPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, "-", "_")))
	return ok
}

// knownSettings are the keys a settings file may hold.
var knownSettings = []string{flagOut, flagTmpl, flagStrict, settingProfiles}

func (a *app) checkSettingsKeys() error {
	for _, k := range a.v.AllKeys() {
		if a.v.InConfig(k) && !slices.Contains(knownSettings, k) {
			return usageError{fmt.Errorf("%s: unknown setting %q; known settings: %s",
				a.v.ConfigFileUsed(), k, strings.Join(knownSettings, ", "))}
		}
	}
	return nil
}
