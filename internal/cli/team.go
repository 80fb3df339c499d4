package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/validation"

	"obsgen.dev/obsgen/internal/diag"
	"obsgen.dev/obsgen/internal/pipeline"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/templates"
)

func (a *app) teamCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "team",
		Short: "Work with team files (teams a profile includes)",
	}
	var namespaces, services []string
	var dir string
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Write a team file, DIR/NAME.yaml, for a profile that includes DIR/*.yaml",
		Long: `Write a new team's file. A profile includes team files with a teams entry

  teams:
    - include: teams/*.yaml

so each team owns its file (and, with CODEOWNERS, its review). The file is
checked as the profile would check it; an existing file is never replaced.`,
		Example: `  obsgen team add payments --namespace payments --namespace payments-batch \
    --service checkout=8080 --service ledger=9102/payments-batch`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("dir") {
				dir = a.defaultTeamDir()
			}
			return a.addTeam(args[0], namespaces, services, a.resolve(dir))
		},
	}
	add.Flags().StringArrayVar(&namespaces, "namespace", nil, "a namespace the team owns (repeatable; at least one)")
	add.Flags().StringArrayVar(&services, "service", nil, "a service whose metrics Prometheus scrapes: NAME=PORT, or NAME=PORT/NAMESPACE (default: the first namespace); repeatable")
	add.Flags().StringVar(&dir, "dir", "teams", "folder of the team files, relative to the working directory (default: teams/ next to the first profile of .obsgen.yaml, else ./teams)")
	cmd.AddCommand(add)
	return cmd
}

// defaultTeamDir is teams/ next to the settings file's first profile, where
// `- include: teams/*.yaml` reads, else ./teams.
func (a *app) defaultTeamDir() string {
	if patterns := a.v.GetStringSlice(settingProfiles); len(patterns) > 0 && a.configDir != "" {
		if profiles, err := a.expandProfiles(patterns); err == nil && len(profiles) > 0 {
			return filepath.Join(filepath.Dir(profiles[0]), "teams")
		}
	}
	return "teams"
}

// resolve is a path from a flag: relative to the working directory.
func (a *app) resolve(p string) string { return filepath.Clean(p) }

func (a *app) addTeam(name string, namespaces, services []string, dir string) error {
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return usageError{fmt.Errorf("team name %q: %s", name, strings.Join(errs, "; "))}
	}
	if len(namespaces) == 0 {
		return usageError{errors.New("--namespace: give at least one namespace the team owns")}
	}
	var b strings.Builder
	include := filepath.Base(dir) + "/*.yaml"
	fmt.Fprintf(&b, "# Team %s, included by a profile next to %s/ through its teams entry\n# `- include: %s`.\n", name, filepath.Base(dir), include)
	fmt.Fprintf(&b, "# Fields: docs/profile.md, teams[].\nname: %s\nnamespaces: [%s]\n", name, strings.Join(namespaces, ", "))
	fmt.Fprintf(&b, "# alerting:\n#   receiver: %s-oncall\nservices:", name)
	if len(services) == 0 {
		b.WriteString(" []\n")
	} else {
		b.WriteString("\n")
	}
	for _, s := range services {
		svc, rest, ok := strings.Cut(s, "=")
		port, ns, _ := strings.Cut(rest, "/")
		if ns == "" {
			ns = namespaces[0]
		}
		n, err := strconv.Atoi(port)
		if !ok || svc == "" || err != nil {
			return usageError{fmt.Errorf("--service %q: write NAME=PORT or NAME=PORT/NAMESPACE, such as checkout=8080", s)}
		}
		fmt.Fprintf(&b, "  - name: %s\n    namespace: %s\n    selector: {app: %s}   # the pods' labels\n    port: %d\n", svc, ns, svc, n)
	}
	file := filepath.Join(dir, name+".yaml")
	if err := a.checkTeam(file, []byte(b.String())); err != nil {
		return err
	}
	profiles, _ := a.profileArgs(nil, false)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return usageError{fmt.Errorf("%s exists; edit it, or choose another name", file)}
	}
	if err != nil {
		return err
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if len(profiles) > 0 {
		// With the settings file's profiles: check the team among the
		// others (a namespace another team owns), and say when no profile
		// includes it. The file goes again if they refuse it.
		results, err := a.runAll(profiles)
		if err != nil {
			_ = os.Remove(file)
			return err
		}
		if !slices.ContainsFunc(results, func(r *pipeline.Result) bool { return includesFile(r, file) }) {
			fmt.Fprintf(a.stderr, "%swarning: no profile of %s includes %s; add the teams entry `- include: %s` to one, or pass --dir\n",
				a.errorPrefix(), a.v.ConfigFileUsed(), file, include)
		}
	}
	fmt.Fprintf(a.stdout, "wrote %s; a profile in %s includes it with the teams entry `- include: %s` (relative to the profile's folder)\n",
		file, filepath.Dir(dir), include)
	return nil
}

// checkTeam loads the team as a profile holding only it would, so the file
// obsgen writes is one the profile accepts.
func (a *app) checkTeam(file string, data []byte) error {
	tmp, err := os.MkdirTemp("", "obsgen-team-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, filepath.Base(file)), data, 0o644); err != nil {
		return err
	}
	profile := []byte("apiVersion: obsgen.dev/v1alpha1\nkind: Profile\nmetadata: {name: team-check}\nteams:\n  - include: " + filepath.Base(file) + "\n")
	engine, err := render.New(templates.FS, "")
	if err != nil {
		return err
	}
	_, err = pipeline.RunIncluding("(team check)", profile, tmp, engine)
	var diags diag.List
	if errors.As(err, &diags) {
		// Name the file being added, not the scratch copy.
		for i := range diags {
			diags[i].File = file
		}
		return diags
	}
	return err
}

// includesFile tells whether a loaded profile took one of its teams from
// file.
func includesFile(r *pipeline.Result, file string) bool {
	want, err := filepath.Abs(file)
	if err != nil {
		return false
	}
	for _, f := range r.Loaded.Files {
		if abs, err := filepath.Abs(f); err == nil && abs == want {
			return true
		}
	}
	return false
}
