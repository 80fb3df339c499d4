package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/version"
)

// TestExitCodesAreAsDocumented: the README's table, command by command: 0
// success, 1 a profile or generation problem, 2 a bad command line, 3 stale
// output under --check.
func TestExitCodesAreAsDocumented(t *testing.T) {
	strict := repoProfile(t, "strict-deny.yaml")
	cases := []struct {
		args []string
		code int
	}{
		{[]string{"bogus"}, ExitUsage},
		{[]string{"help", "bogus"}, ExitUsage},
		{[]string{"explain", "network"}, ExitUsage},
		{[]string{"templates", "bogus"}, ExitUsage},
		{[]string{"schema", "extra"}, ExitUsage},
		{[]string{"validate"}, ExitUsage},
		{[]string{"templates", "dump"}, ExitUsage},
		{[]string{"--templates", "no-such-folder", "validate", strict}, ExitUsage},
		{[]string{"generate", "--bogus"}, ExitUsage},
		{[]string{"generate", "--check", "--prune-orphans"}, ExitUsage},
		{[]string{"version", "extra"}, ExitUsage},
		{[]string{"validate", "no-such-profile.yaml"}, ExitUsage},
		{[]string{"help"}, ExitOK},
		{[]string{"explain"}, ExitOK},
		{[]string{"templates"}, ExitOK},
		{[]string{"version"}, ExitOK},
		{[]string{"validate", strict}, ExitOK},
		{[]string{"schema"}, ExitOK},
	}
	for _, c := range cases {
		code, _, errOut := run(t, t.TempDir(), c.args...)
		assert.Equal(t, c.code, code, "%v: %s", c.args, errOut)
		if c.code == ExitUsage {
			assert.True(t, strings.HasPrefix(errOut, "obsgen: "), "%v: %q", c.args, errOut)
		}
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("apiVersion: obsgen.dev/v1alpha1\nkind: Profile\nmetadata: {name: Bad_Name}\n"), 0o644))
	code, _, errOut := run(t, dir, "generate", bad)
	assert.Equal(t, ExitFailed, code, errOut)
	code, _, errOut = run(t, dir, "validate", bad)
	assert.Equal(t, ExitFailed, code, errOut)
}

// TestAPanicIsAnInternalErrorNotAUsageError: a panic anywhere under a
// command exits 1 with "internal error", what was being run and that
// nothing was written; Go's own exit code for a panic (2) would read as a
// bad command line.
func TestAPanicIsAnInternalErrorNotAUsageError(t *testing.T) {
	a := &app{v: viper.New(), stdout: &strings.Builder{}, stderr: &strings.Builder{}}
	root := a.rootCommand()
	root.AddCommand(&cobra.Command{Use: "boom", RunE: func(*cobra.Command, []string) error {
		var m map[string]int
		m["x"]++ // a nil map: a defect
		return nil
	}})
	err := a.executeRoot(context.Background(), root, []string{"boom"})
	code := a.exitCode(err)
	assert.Equal(t, ExitFailed, code)
	msg := a.stderr.(*strings.Builder).String()
	assert.Contains(t, msg, "obsgen: internal error while running `obsgen boom`: assignment to entry in nil map; nothing was written")
}

// TestVersionPrintsWhatTheManifestRecords: `obsgen version --short` is the
// string a generated manifest records after "# generator: obsgen ".
func TestVersionPrintsWhatTheManifestRecords(t *testing.T) {
	code, out, _ := run(t, t.TempDir(), "version")
	require.Equal(t, ExitOK, code)
	assert.Regexp(t, `^obsgen \S.*\ncommit: .+\ngo: go1\.\d+.*\nplatform: \w+/\w+\n$`, out)
	code, short, _ := run(t, t.TempDir(), "version", "--short")
	require.Equal(t, ExitOK, code)
	assert.Equal(t, version.Get().Short()+"\n", short)

	dir := t.TempDir()
	code, _, errOut := run(t, dir, "generate", exampleProfile)
	require.Equal(t, ExitOK, code, errOut)
	manifest, err := os.ReadFile(filepath.Join(dir, "out", "default-permissive", output.ManifestName))
	require.NoError(t, err)
	assert.Equal(t, "obsgen "+strings.TrimSpace(short), output.Generator(manifest))
}

// TestAnUpgradeAloneChurnsNothingAndCheckNamesIt: output written by another
// obsgen version is up to date when the files are the same (the manifest's
// generator line is not compared); when they differ, --check says the
// version changed.
func TestAnUpgradeAloneChurnsNothingAndCheckNamesIt(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := run(t, dir, "generate", exampleProfile)
	require.Equal(t, ExitOK, code, errOut)
	folder := filepath.Join(dir, "out", "default-permissive")
	manifestPath := filepath.Join(folder, output.ManifestName)
	manifest, err := os.ReadFile(manifestPath)
	require.NoError(t, err)
	old := strings.Replace(string(manifest), output.Generator(manifest), "obsgen v0.0.1", 1)
	require.NoError(t, os.WriteFile(manifestPath, []byte(old), 0o644))

	code, out, errOut := run(t, dir, "generate", "--check", exampleProfile)
	assert.Equal(t, ExitOK, code, out+errOut)
	code, out, _ = run(t, dir, "generate", exampleProfile)
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, " 0 written,", "the same files under a new version are not rewritten")

	kustomization := filepath.Join(folder, "kustomization.yaml")
	data, err := os.ReadFile(kustomization)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(kustomization, append(data, "# edited\n"...), 0o644))
	code, _, errOut = run(t, dir, "generate", "--check", exampleProfile)
	assert.Equal(t, ExitDrift, code)
	assert.Contains(t, errOut, "was written by obsgen v0.0.1 and this is obsgen "+version.Get().Short())
}

// TestOrphansAreReportedCheckedAndPruned: renaming a profile leaves its old
// output folder behind. generate warns, --check fails (a GitOps tool would
// keep deploying it), --prune-orphans removes what obsgen wrote there and
// leaves hand-written files and folders without a manifest alone.
func TestOrphansAreReportedCheckedAndPruned(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(repoProfile(t, "strict-deny.yaml"))
	require.NoError(t, err)
	profile := filepath.Join(dir, "p.yaml")
	require.NoError(t, os.WriteFile(profile, data, 0o644))
	code, _, errOut := run(t, dir, "generate", profile)
	require.Equal(t, ExitOK, code, errOut)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "out", "strict-deny", "NOTES.md"), []byte("hand-written\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "out", "handmade"), 0o755))

	renamed := strings.Replace(string(data), "name: strict-deny\n", "name: strict-deny-eu\n", 1)
	require.NotEqual(t, string(data), renamed)
	require.NoError(t, os.WriteFile(profile, []byte(renamed), 0o644))

	code, out, _ := run(t, dir, "generate", "--check", profile)
	assert.Equal(t, ExitDrift, code)
	assert.Contains(t, out, "- orphan "+filepath.Join("out", "strict-deny")+" ")
	assert.NotContains(t, out, "handmade", "a folder without a manifest is not obsgen's")

	code, _, errOut = run(t, dir, "generate", profile)
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, errOut, "warning: "+filepath.Join("out", "strict-deny")+" holds obsgen output that no given profile produces")
	assert.FileExists(t, filepath.Join(dir, "out", "strict-deny", "kustomization.yaml"), "only --prune-orphans removes")

	code, out, errOut = run(t, dir, "generate", "--prune-orphans", profile)
	require.Equal(t, ExitOK, code, errOut)
	assert.Regexp(t, filepathRegexp(filepath.Join("out", "strict-deny"))+`: orphan removed, [1-9]\d* pruned`, out)
	assert.NoFileExists(t, filepath.Join(dir, "out", "strict-deny", "kustomization.yaml"))
	assert.NoFileExists(t, filepath.Join(dir, "out", "strict-deny", output.ManifestName))
	assert.FileExists(t, filepath.Join(dir, "out", "strict-deny", "NOTES.md"), "hand-written files stay")
	assert.NoDirExists(t, filepath.Join(dir, "out", "strict-deny", "prometheus"), "emptied folders go")
	assert.DirExists(t, filepath.Join(dir, "out", "handmade"))

	code, out, errOut = run(t, dir, "generate", "--check", profile)
	assert.Equal(t, ExitOK, code, out+errOut)
}

func filepathRegexp(s string) string { return regexp.QuoteMeta(s) }

// TestTheSettingsFileListsProfilesAndIsFoundFromAnyFolder: a GitOps
// repository's .obsgen.yaml names its profiles (files and globs) and its
// output root, relative to the file; obsgen run from any folder below it
// reads the same file, so --check from a subfolder compares the same
// output instead of reporting every file as new.
func TestTheSettingsFileListsProfilesAndIsFoundFromAnyFolder(t *testing.T) {
	repo := t.TempDir()
	for _, name := range []string{"strict-deny.yaml", "ambient.yaml"} {
		data, err := os.ReadFile(repoProfile(t, name))
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Join(repo, "clusters"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(repo, "clusters", name), data, 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(repo, ".obsgen.yaml"), []byte("profiles: [clusters/*.yaml]\nout: deploy\n"), 0o644))
	sub := filepath.Join(repo, "docs", "notes")
	require.NoError(t, os.MkdirAll(sub, 0o755))

	code, out, errOut := run(t, sub, "generate")
	require.Equal(t, ExitOK, code, errOut)
	assert.DirExists(t, filepath.Join(repo, "deploy", "strict-deny"))
	assert.DirExists(t, filepath.Join(repo, "deploy", "ambient"))
	assert.NoDirExists(t, filepath.Join(sub, "deploy"), "out: is relative to the settings file")
	assert.Contains(t, out, "written")

	code, out, errOut = run(t, repo, "generate", "--check")
	assert.Equal(t, ExitOK, code, out+errOut)
	code, out, errOut = run(t, filepath.Join(repo, "clusters"), "validate")
	assert.Equal(t, ExitOK, code, out+errOut)
	assert.Contains(t, out, "strict-deny.yaml: ok")

	// A flag is relative to the working directory, not to the file.
	code, _, errOut = run(t, sub, "generate", "--out", "here")
	require.Equal(t, ExitOK, code, errOut)
	assert.DirExists(t, filepath.Join(sub, "here", "ambient"))

	// Deleting a profile leaves an orphan that --check run anywhere sees.
	require.NoError(t, os.Remove(filepath.Join(repo, "clusters", "ambient.yaml")))
	code, out, _ = run(t, sub, "generate", "--check")
	assert.Equal(t, ExitDrift, code)
	assert.Contains(t, out, "- orphan "+filepath.Join(repo, "deploy", "ambient"))

	require.NoError(t, os.WriteFile(filepath.Join(repo, ".obsgen.yaml"), []byte("profiles: [clusters/*.yml]\n"), 0o644))
	code, _, errOut = run(t, sub, "generate")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, `profiles[0] "clusters/*.yml" matches no file`)
}

// TestSmallUsabilityPromises: shell completion offers the enums' values,
// --templates names its value DIR (not the command its help mentions),
// and init's profile opens with the YAML language server's schema line.
func TestSmallUsabilityPromises(t *testing.T) {
	code, out, _ := run(t, t.TempDir(), "__complete", "init", "--mtls", "")
	require.Equal(t, ExitOK, code)
	assert.Equal(t, []string{"STRICT", "PERMISSIVE", "DISABLE"}, strings.Split(out, "\n")[:3])
	code, out, _ = run(t, t.TempDir(), "__complete", "init", "--network", "")
	require.Equal(t, ExitOK, code)
	assert.Contains(t, out, "global-deny\n")

	code, out, _ = run(t, t.TempDir(), "generate", "--help")
	require.Equal(t, ExitOK, code)
	assert.Regexp(t, `--templates DIR\s+DIR of template overrides`, out)

	code, out, _ = run(t, t.TempDir(), "init")
	require.Equal(t, ExitOK, code)
	assert.True(t, strings.HasPrefix(out, "# yaml-language-server: $schema=profile.schema.json\n"), out[:80])
}

// TestAGitOpsRepositoryWithTeamFiles walks the workflow a platform team
// runs: a settings file naming the profile, teams in files of their own
// written by `obsgen team add`, generate, a clean --check, a new team's
// file that makes --check fail until generate runs, and a file error
// reported in that file.
func TestAGitOpsRepositoryWithTeamFiles(t *testing.T) {
	repo := teamFilesRepo(t)

	teamsDir := filepath.Join("clusters", "teams")
	code, out, errOut := run(t, repo, "team", "add", "payments", "--dir", teamsDir, "--namespace", "payments", "--namespace", "payments-batch",
		"--service", "checkout=8080", "--service", "ledger=9102/payments-batch")
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "wrote "+filepath.Join(teamsDir, "payments.yaml"))
	code, _, errOut = run(t, repo, "team", "add", "search", "--dir", teamsDir, "--namespace", "search", "--service", "query=8080")
	require.Equal(t, ExitOK, code, errOut)

	code, _, errOut = run(t, repo, "generate")
	require.Equal(t, ExitOK, code, errOut)
	code, out, errOut = run(t, filepath.Join(repo, "clusters"), "generate", "--check")
	require.Equal(t, ExitOK, code, out+errOut)

	code, _, errOut = run(t, repo, "team", "add", "orders", "--dir", teamsDir, "--namespace", "orders", "--service", "order-api=8080")
	require.Equal(t, ExitOK, code, errOut)
	code, out, _ = run(t, repo, "generate", "--check")
	assert.Equal(t, ExitDrift, code, "a new team file changes the output")
	assert.Contains(t, out, "orders")
	code, _, errOut = run(t, repo, "generate")
	require.Equal(t, ExitOK, code, errOut)
	code, _, _ = run(t, repo, "generate", "--check")
	assert.Equal(t, ExitOK, code)

	ordersFile := filepath.Join(repo, teamsDir, "orders.yaml")
	body, err := os.ReadFile(ordersFile)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(ordersFile, []byte(strings.Replace(string(body), "namespaces: [orders]", "namespaces: [orders, search]", 1)), 0o644))
	code, _, errOut = run(t, repo, "validate")
	assert.Equal(t, ExitFailed, code)
	// orders.yaml sorts first, so search.yaml's claim is the second.
	assert.Contains(t, errOut, filepath.Join(teamsDir, "search.yaml")+`:5:14: teams[2].namespaces[0]: namespace "search" is already owned at teams[0].namespaces[1] (`+filepath.Join(teamsDir, "orders.yaml")+`)`)
}

// syncBuffer is a bytes.Buffer safe for a command writing while the test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestWatchRegeneratesOnSaveAndSurvivesMistakes: generate --watch writes
// the output, rewrites it after a profile is saved, prints a broken save's
// problem and keeps watching, picks up a new team file, ignores its own
// writes, and stops cleanly when cancelled.
func TestWatchRegeneratesOnSaveAndSurvivesMistakes(t *testing.T) {
	repo := filepath.Join(teamFilesRepo(t), "clusters")
	profilePath := filepath.Join(repo, "prod.yaml")
	data, err := os.ReadFile(profilePath)
	require.NoError(t, err)
	profile := string(data)
	require.NoError(t, os.MkdirAll(filepath.Join(repo, "teams"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(repo, "teams", "a.yaml"), []byte("name: alpha\nnamespaces: [alpha]\n"), 0o644))
	t.Chdir(repo)

	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int)
	go func() { done <- Main(ctx, []string{"generate", "--watch", "prod.yaml"}, &stdout, &stderr) }()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: gave up; stdout:\n%s\nstderr:\n%s", what, stdout.String(), stderr.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// out/ sits next to the settings file, one folder up.
	out := filepath.Join(filepath.Dir(repo), "out", "strict-deny")
	kust := filepath.Join(out, "kustomization.yaml")
	waitFor("first generation", func() bool {
		_, err := os.Stat(kust)
		return err == nil && strings.Contains(stderr.String(), "watching")
	})
	assert.NotContains(t, stdout.String(), "changed:", "its own writes do not trigger it")

	require.NoError(t, os.WriteFile(profilePath, []byte(strings.Replace(profile, "name: strict-deny", "name: strict-deny\n  # saved", 1)), 0o644))
	waitFor("a save", func() bool { return strings.Contains(stdout.String(), "changed: prod.yaml") })

	require.NoError(t, os.WriteFile(profilePath, []byte(profile+"bogus: 1\n"), 0o644))
	waitFor("a broken save", func() bool { return strings.Contains(stderr.String(), "bogus: unknown field") })

	require.NoError(t, os.WriteFile(profilePath, []byte(profile), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(repo, "teams", "b.yaml"), []byte("name: beta\nnamespaces: [beta]\n"), 0o644))
	netpol := filepath.Join(out, "kubernetes", "networkpolicies", "beta.yaml")
	waitFor("a new team file", func() bool { _, err := os.Stat(netpol); return err == nil })

	cancel()
	select {
	case code := <-done:
		assert.Equal(t, ExitOK, code, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("watch did not stop when cancelled")
	}
}

// TestTeamAddFollowsTheSettingsAndChecksAgainstTheOtherTeams: without
// --dir, team add writes next to the settings file's profile, where its
// include reads; a team that claims another team's namespace is refused
// and its file removed; and --strict makes an orphan an error.
func TestTeamAddFollowsTheSettingsAndChecksAgainstTheOtherTeams(t *testing.T) {
	repo := teamFilesRepo(t)
	data, err := os.ReadFile(repoProfile(t, "strict-deny.yaml"))
	require.NoError(t, err)

	code, out, errOut := run(t, repo, "team", "add", "orders", "--namespace", "orders", "--service", "api=8080")
	require.Equal(t, ExitOK, code, errOut)
	assert.FileExists(t, filepath.Join(repo, "clusters", "teams", "orders.yaml"))
	assert.NotContains(t, errOut, "no profile", out)

	code, _, errOut = run(t, repo, "team", "add", "billing", "--namespace", "orders")
	assert.Equal(t, ExitFailed, code)
	assert.Contains(t, errOut, `namespace "orders" is already owned`)
	assert.NoFileExists(t, filepath.Join(repo, "clusters", "teams", "billing.yaml"), "a refused team leaves no file")

	code, _, errOut = run(t, repo, "team", "add", "stray", "--namespace", "stray", "--dir", "elsewhere")
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, errOut, "warning: no profile of")

	// --strict makes an orphan an error: strict-deny has no warnings.
	dir := t.TempDir()
	profile := filepath.Join(dir, "p.yaml")
	require.NoError(t, os.WriteFile(profile, data, 0o644))
	code, _, errOut = run(t, dir, "generate", profile)
	require.Equal(t, ExitOK, code, errOut)
	require.NoError(t, os.WriteFile(profile, []byte(strings.Replace(string(data), "name: strict-deny\n", "name: strict-deny-2\n", 1)), 0o644))
	code, _, errOut = run(t, dir, "generate", "--strict", profile)
	assert.Equal(t, ExitFailed, code, errOut)
	assert.Contains(t, errOut, "--strict makes that an error; nothing was written")
	assert.NoDirExists(t, filepath.Join(dir, "out", "strict-deny-2"))
}

// teamFilesRepo is a GitOps repository: .obsgen.yaml naming
// clusters/*.yaml, and clusters/prod.yaml, the strict-deny example whose
// teams come from clusters/teams/*.yaml (none yet).
func teamFilesRepo(t *testing.T) string {
	t.Helper()
	repo := t.TempDir()
	data, err := os.ReadFile(repoProfile(t, "strict-deny.yaml"))
	require.NoError(t, err)
	head, _, ok := strings.Cut(string(data), "\nteams:\n")
	require.True(t, ok)
	require.NoError(t, os.MkdirAll(filepath.Join(repo, "clusters"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(repo, "clusters", "prod.yaml"), []byte(head+"\nteams:\n  - include: teams/*.yaml\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(repo, ".obsgen.yaml"), []byte("profiles: [clusters/*.yaml]\n"), 0o644))
	return repo
}
