package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/trace"
	"strings"

	"github.com/spf13/cobra"

	"obsgen.dev/obsgen/internal/diag"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/pipeline"
	"obsgen.dev/obsgen/internal/profile"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/internal/version"
	"obsgen.dev/obsgen/profiles"
	"obsgen.dev/obsgen/templates"
)

func (a *app) generateCommand() *cobra.Command {
	var check, prune, watch bool
	cmd := &cobra.Command{
		Use:   "generate [PROFILE...]",
		Short: "Generate the output of each profile into OUT/<metadata.name>/",
		Long: `Generate the output of each profile into OUT/<metadata.name>/. Without a profile
on the command line, the profiles: of the settings file (.obsgen.yaml, found in
the working directory or the nearest folder above it) are used; in a clone of
obsgen itself, the bundled example profiles/` + profiles.Default + `.

Every profile is generated in memory first: if any has a problem, nothing is
written. Unchanged files are not rewritten, files obsgen wrote before and no
longer generates are removed, and hand-written files are never touched.

With --check nothing is written: obsgen prints a diff and exits 3 when the
output on disk is stale, which is what CI should run.

An output folder obsgen wrote (it holds a .obsgen-manifest) that no given
profile produces is an orphan: a renamed or deleted profile's output, which
a GitOps tool would keep deploying. generate reports it, --check fails on it,
and --prune-orphans removes every file its manifest lists (hand-written files
stay). Give every profile of the output root at once, as CI does.

With --watch obsgen keeps running and regenerates after each save of a
profile, a team file, a template override or .obsgen.yaml, printing what
changed; a problem is printed and the next save retries.

Warnings (alerts routed to a receiver that notifies nobody, say) are printed
to stderr and do not stop generation; with --strict they do, as errors would.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if check && prune {
				return usageError{errors.New("--check writes nothing; --prune-orphans removes folders: use one of them")}
			}
			if watch {
				if check {
					return usageError{errors.New("--watch regenerates; --check only compares: use one of them")}
				}
				return a.watch(cmd.Context(), args, prune)
			}
			return a.generate(args, check, prune)
		},
	}
	cmd.Flags().String(flagOut, defaultOut, "output root; each profile goes to OUT/<metadata.name>/ (env OBSGEN_OUT)")
	cmd.Flags().BoolVar(&check, "check", false, "write nothing; exit 3 with a diff when the output is stale or holds orphans")
	cmd.Flags().BoolVar(&watch, "watch", false, "keep running: regenerate whenever a profile, team file, template override or .obsgen.yaml changes; Ctrl-C stops")
	cmd.Flags().BoolVar(&prune, "prune-orphans", false, "also remove the output folders obsgen wrote that no given profile produces (a renamed or deleted profile's)")
	strictFlag(cmd)
	return cmd
}

// strictFlag adds --strict, read through viper like the other settings.
func strictFlag(cmd *cobra.Command) {
	cmd.Flags().Bool(flagStrict, false, "treat warnings as errors: exit 1 and write nothing (env OBSGEN_STRICT)")
}

func (a *app) generate(args []string, check, prune bool) error {
	args, err := a.profileArgs(args, true)
	if err != nil {
		return err
	}
	root := a.path(flagOut)
	// The output is opened (and, to write, locked) before generating, so
	// each generator's files are compared with it as soon as they are done.
	w := output.OpenWriter(root, !check)
	defer w.Close()
	results, err := a.runAllSettling(args, w.Settle)
	if err != nil {
		return err
	}
	if err := a.warn(results); err != nil {
		return err
	}
	sets := make([]output.Set, len(results))
	for i, res := range results {
		sets[i] = output.Set{Name: res.Plan.Name, Files: res.Files, Generator: generatorName()}
	}
	names := make([]string, len(sets))
	for i, s := range sets {
		names[i] = s.Name
	}
	// The bundled example (no profile given, in obsgen's clone) is one
	// profile of several in out/: the others are not its orphans.
	example := len(args) == 0
	var orphans []string
	if !example {
		if orphans, err = output.Orphans(root, names); err != nil {
			return err
		}
	}
	if check {
		return a.check(root, w, sets, orphans)
	}
	if !prune && len(orphans) > 0 && a.v.GetBool(flagStrict) {
		return fmt.Errorf("%s holds obsgen output that no given profile produces (a renamed or deleted profile?), and --strict makes that an error; nothing was written: run with --prune-orphans and every profile to remove it",
			filepath.Join(root, orphans[0]))
	}
	if !prune {
		orphans = nil
	}
	// One commit for every profile: all of them are written, or none.
	region := trace.StartRegion(context.Background(), "commit")
	written, err := w.Commit(sets, orphans)
	region.End()
	if err != nil {
		return err
	}
	for i, w := range written[:len(sets)] {
		fmt.Fprintf(a.stdout, "%s: %d written, %d unchanged, %d pruned\n",
			filepath.Join(root, sets[i].Name), len(w.Written), len(w.Unchanged), len(w.Pruned))
	}
	for i, w := range written[len(sets):] {
		fmt.Fprintf(a.stdout, "%s: orphan removed, %d pruned\n", filepath.Join(root, orphans[i]), len(w.Pruned))
	}
	if !prune && !example {
		a.reportOrphans(root, names)
	}
	return nil
}

// reportOrphans warns about the orphans left under root.
func (a *app) reportOrphans(root string, names []string) {
	orphans, err := output.Orphans(root, names)
	if err != nil {
		fmt.Fprintf(a.stderr, "%swarning: %v\n", a.errorPrefix(), err)
	}
	for _, o := range orphans {
		fmt.Fprintf(a.stderr, "%swarning: %s holds obsgen output that no given profile produces (a renamed or deleted profile?); `obsgen generate --prune-orphans` with every profile removes it\n",
			a.errorPrefix(), filepath.Join(root, o))
	}
}

// generatorName is what each output folder's manifest records.
func generatorName() string { return "obsgen " + version.Get().Short() }

// check prints the drift of every output folder and reports errDrift if
// any is stale.
func (a *app) check(root string, w *output.Writer, sets []output.Set, orphans []string) error {
	drifts, err := w.Check(sets)
	if err != nil {
		return err
	}
	stale := len(orphans) > 0
	for _, o := range orphans {
		fmt.Fprintf(a.stdout, "- orphan %s (obsgen output that no given profile produces; `obsgen generate --prune-orphans` removes it)\n", filepath.Join(root, o))
	}
	for _, d := range drifts {
		if !d.Empty() {
			stale = true
			fmt.Fprint(a.stdout, d.String())
			if g := generatorName(); d.Generator != "" && d.Generator != g {
				fmt.Fprintf(a.stderr, "%s%s was written by %s and this is %s: the difference may come from the upgrade alone; regenerate with this version and review the diff, or check with the version that wrote it\n",
					a.errorPrefix(), d.Dir, d.Generator, g)
			}
		}
	}
	if stale {
		return errDrift
	}
	return nil
}

// warn prints every profile's warnings to stderr. With --strict they are
// returned instead, so the command fails as it does on errors.
func (a *app) warn(results []*pipeline.Result) error {
	var all diag.List
	for _, res := range results {
		all = append(all, res.Loaded.Warnings...)
	}
	switch {
	case len(all) == 0:
		return nil
	case a.v.GetBool(flagStrict):
		return all
	}
	fmt.Fprintln(a.stderr, all.Error())
	fmt.Fprintf(a.stderr, "%s%d warning(s); --%s makes them errors\n", a.errorPrefix(), len(all), flagStrict)
	return nil
}

// source is one profile's bytes and the name diagnostics use for it, and
// the folder its team includes are relative to ("" for the bundled
// example, which has none).
type source struct {
	file string
	data []byte
	dir  string
}

func readSources(args []string) ([]source, error) {
	if len(args) == 0 {
		data, err := fs.ReadFile(profiles.FS, profiles.Default)
		return []source{{file: "profiles/" + profiles.Default, data: data}}, err
	}
	out := make([]source, 0, len(args))
	for _, file := range args {
		data, err := readProfile(file)
		if err != nil {
			return nil, err
		}
		out = append(out, source{file: file, data: data, dir: filepath.Dir(file)})
	}
	return out, nil
}

// readProfile reads a profile file, a pipe (`<(...)`) or standard input's
// device, but never more than the loader accepts plus one byte: the loader
// then reports the size limit with a position, and /dev/zero or an endless
// pipe cannot exhaust memory. A file that cannot be opened is a command-line
// problem; one that fails while reading is not.
func readProfile(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, usageError{fmt.Errorf("read profile: %w", err)}
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.IsDir() {
		return nil, usageError{fmt.Errorf("read profile: %s is a folder; name a profile file", file)}
	}
	data, err := io.ReadAll(io.LimitReader(f, profile.MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read profile %s: %w", file, err)
	}
	return data, nil
}

// profileArgs are the profiles a command works on: those on the command
// line, else the settings file's `profiles:` (files or globs, relative to
// the file), else, for generate (example) in a clone of obsgen itself, the
// bundled example (nil). Anywhere else obsgen asks for a profile rather
// than write the example into a GitOps repository.
func (a *app) profileArgs(args []string, example bool) ([]string, error) {
	if len(args) > 0 {
		return args, nil
	}
	if patterns := a.v.GetStringSlice(settingProfiles); len(patterns) > 0 && a.configDir != "" {
		return a.expandProfiles(patterns)
	}
	if example && inObsgenRepo() {
		return nil, nil
	}
	return nil, usageError{errors.New("no profile given: name them on the command line, or list them under `profiles:` in " + configName +
		" (found in the working directory or a folder above it); `obsgen init > profile.yaml` starts one")}
}

// expandProfiles resolves the settings file's profiles: each a file or a
// glob relative to the file's folder; a glob that matches nothing is an
// error (a typo would otherwise check nothing).
func (a *app) expandProfiles(patterns []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for i, pattern := range patterns {
		full := pattern
		if !filepath.IsAbs(full) {
			full = filepath.Join(a.configDir, full)
		}
		matches := []string{full}
		if strings.ContainsAny(pattern, "*?[") {
			var err error
			if matches, err = filepath.Glob(full); err != nil {
				return nil, usageError{fmt.Errorf("%s: profiles[%d] %q: %w", a.v.ConfigFileUsed(), i, pattern, err)}
			}
			if len(matches) == 0 {
				return nil, usageError{fmt.Errorf("%s: profiles[%d] %q matches no file", a.v.ConfigFileUsed(), i, pattern)}
			}
		}
		for _, m := range matches {
			if display := relToWD(m); !seen[display] {
				seen[display] = true
				out = append(out, display)
			}
		}
	}
	return out, nil
}

// relToWD shortens p to a path relative to the working directory when it
// lies below it, for messages.
func relToWD(p string) string {
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	if rel, err := filepath.Rel(wd, p); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return rel
	}
	return p
}

// inObsgenRepo tells whether the working directory is a clone of obsgen,
// where `obsgen generate` alone writes the bundled example.
func inObsgenRepo() bool {
	data, err := os.ReadFile("go.mod")
	return err == nil && strings.HasPrefix(string(data), "module obsgen.dev/obsgen\n")
}

// runAll generates every profile in memory and returns every profile
// problem of every file at once.
func (a *app) runAll(args []string) ([]*pipeline.Result, error) {
	return a.runAllSettling(args, nil)
}

// runAllSettling is runAll that hands each generator's files to settle
// (pipeline.RunSettling).
func (a *app) runAllSettling(args []string, settle func(set string, files []output.File) []output.File) ([]*pipeline.Result, error) {
	engine, err := a.engine()
	if err != nil {
		return nil, err
	}
	return a.runAllWith(engine, args, settle)
}

// engine is the template engine of the settings: the built-in templates
// and the overrides of --templates.
func (a *app) engine() (*render.Engine, error) {
	e, err := render.New(templates.FS, a.path(flagTmpl))
	if errors.Is(err, render.ErrNoOverrideDir) {
		return nil, usageError{err}
	}
	return e, err
}

func (a *app) runAllWith(engine *render.Engine, args []string, settle func(set string, files []output.File) []output.File) ([]*pipeline.Result, error) {
	sources, err := readSources(args)
	if err != nil {
		return nil, err
	}
	var all diag.List
	var results []*pipeline.Result
	names := map[string]string{}
	for _, src := range sources {
		res, err := pipeline.RunSettling(src.file, src.data, src.dir, engine, settle)
		var diags diag.List
		switch {
		case errors.As(err, &diags):
			all = append(all, diags...)
			continue
		case err != nil:
			return nil, fmt.Errorf("%s: %w", src.file, err)
		}
		if other, dup := names[res.Plan.Name]; dup {
			all = append(all, diag.Diagnostic{File: src.file, Pos: res.Loaded.Positions["metadata.name"], Path: "metadata.name",
				Message: fmt.Sprintf("%q is also the name of %s; both would write the same output folder", res.Plan.Name, other),
				Hint:    "give each profile its own name"})
		}
		names[res.Plan.Name] = src.file
		results = append(results, res)
	}
	if len(all) > 0 {
		return nil, all
	}
	return results, nil
}
