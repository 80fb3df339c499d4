package release

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/internal/cli"
)

// repoRoot is resolved before any test changes the working directory.
var repoRoot = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Join(wd, "..", "..")
}()

func read(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, rel))
	require.NoError(t, err)
	return data
}

// gitopsRepo is a repository whose .obsgen.yaml lists one profile.
func gitopsRepo(t *testing.T) string {
	t.Helper()
	repo := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(repo, "clusters"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(repo, "clusters", "prod.yaml"), read(t, "profiles/strict-deny.yaml"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(repo, ".obsgen.yaml"), []byte("profiles: [clusters/*.yaml]\n"), 0o644))
	return repo
}

// obsgen runs a command line that starts with "obsgen" in dir.
func obsgen(t *testing.T, dir, line string) (int, string) {
	t.Helper()
	fields := strings.Fields(line)
	require.Equal(t, "obsgen", fields[0], line)
	t.Chdir(dir)
	var out bytes.Buffer
	code := cli.Main(context.Background(), fields[1:], &out, &out)
	return code, out.String()
}

// TestPreCommitHooksRunInARepository: each hook's entry, run as pre-commit
// runs it (no file names: pass_filenames is false), does its job in a
// GitOps repository: obsgen-generate writes the output, obsgen-check
// passes on it and fails (exit 3) once a profile changes.
func TestPreCommitHooksRunInARepository(t *testing.T) {
	var hooks []struct {
		ID            string `json:"id"`
		Name          string `json:"name"`
		Description   string `json:"description"`
		Entry         string `json:"entry"`
		Language      string `json:"language"`
		PassFilenames *bool  `json:"pass_filenames"`
		Files         string `json:"files"`
	}
	require.NoError(t, yaml.UnmarshalStrict(read(t, ".pre-commit-hooks.yaml"), &hooks))
	byID := map[string]string{}
	for _, h := range hooks {
		assert.Equal(t, "golang", h.Language, h.ID)
		require.NotNil(t, h.PassFilenames, h.ID)
		assert.False(t, *h.PassFilenames, "%s: obsgen reads its profiles from .obsgen.yaml", h.ID)
		assert.Contains(t, h.Files, `\.obsgen\.yaml`, h.ID)
		byID[h.ID] = h.Entry
	}
	require.Contains(t, byID, "obsgen-generate")
	require.Contains(t, byID, "obsgen-check")

	repo := gitopsRepo(t)
	code, out := obsgen(t, repo, byID["obsgen-check"])
	assert.Equal(t, cli.ExitDrift, code, out)
	code, out = obsgen(t, repo, byID["obsgen-generate"])
	require.Equal(t, cli.ExitOK, code, out)
	code, out = obsgen(t, repo, byID["obsgen-check"])
	assert.Equal(t, cli.ExitOK, code, out)
	profile := filepath.Join(repo, "clusters", "prod.yaml")
	data, err := os.ReadFile(profile)
	require.NoError(t, err)
	changed := bytes.Replace(data, []byte("\nmonitoring:\n"), []byte("\nmonitoring:\n  runbookBaseURL: https://runbooks.example.org/\n"), 1)
	require.NotEqual(t, data, changed)
	require.NoError(t, os.WriteFile(profile, changed, 0o644))
	code, _ = obsgen(t, repo, byID["obsgen-check"])
	assert.Equal(t, cli.ExitDrift, code)
}

// TestTheGitHubActionInstallsAPinnedObsgenAndChecks: a composite action
// whose inputs reach its scripts through the environment only (never
// spliced into a script, where an input could inject shell), that installs
// the pinned module version and runs the check.
func TestTheGitHubActionInstallsAPinnedObsgenAndChecks(t *testing.T) {
	var action struct {
		Name   string `json:"name"`
		Inputs map[string]struct {
			Required bool   `json:"required"`
			Default  string `json:"default"`
		} `json:"inputs"`
		Runs struct {
			Using string `json:"using"`
			Steps []struct {
				Uses             string            `json:"uses"`
				Run              string            `json:"run"`
				Shell            string            `json:"shell"`
				Env              map[string]string `json:"env"`
				WorkingDirectory string            `json:"working-directory"`
			} `json:"steps"`
		} `json:"runs"`
	}
	require.NoError(t, yaml.Unmarshal(read(t, "action.yml"), &action))
	assert.Equal(t, "composite", action.Runs.Using)
	assert.True(t, action.Inputs["version"].Required)
	var install, check string
	for _, s := range action.Runs.Steps {
		if s.Run == "" {
			continue
		}
		assert.Equal(t, "bash", s.Shell, "composite run steps need a shell")
		assert.NotContains(t, s.Run, "${{", "inputs reach scripts through env only")
		switch {
		case strings.Contains(s.Run, "go install"):
			install = s.Run
			assert.Equal(t, "${{ inputs.version }}", s.Env["OBSGEN_INSTALL_VERSION"])
		case strings.Contains(s.Run, "obsgen generate --check"):
			check = s.Run
			assert.Equal(t, "${{ inputs.args }}", s.Env["OBSGEN_CHECK_ARGS"])
		}
	}
	assert.Contains(t, install, `go install "obsgen.dev/obsgen/cmd/obsgen@${OBSGEN_INSTALL_VERSION}"`)
	require.NotEmpty(t, check)
	for _, line := range strings.Split(check, "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "obsgen ") {
			line = strings.ReplaceAll(line, "$OBSGEN_CHECK_ARGS", "")
			repo := gitopsRepo(t)
			code, _ := obsgen(t, repo, "obsgen generate")
			require.Equal(t, cli.ExitOK, code)
			code, out := obsgen(t, repo, line)
			assert.Equal(t, cli.ExitOK, code, "%s: %s", line, out)
		}
	}
}

// TestTheGitLabTemplateChecks: the hidden job installs the version the
// variable pins, refuses to run without one, and runs the check.
func TestTheGitLabTemplateChecks(t *testing.T) {
	var tmpl map[string]struct {
		Image     string            `json:"image"`
		Variables map[string]string `json:"variables"`
		Script    []string          `json:"script"`
	}
	require.NoError(t, yaml.Unmarshal(read(t, "ci/gitlab/obsgen.gitlab-ci.yml"), &tmpl))
	job, ok := tmpl[".obsgen-check"]
	require.True(t, ok)
	assert.Contains(t, job.Variables, "OBSGEN_VERSION")
	script := strings.Join(job.Script, "\n")
	assert.Contains(t, script, `test -n "$OBSGEN_VERSION"`)
	assert.Contains(t, script, `go install "obsgen.dev/obsgen/cmd/obsgen@${OBSGEN_VERSION}"`)
	assert.Contains(t, script, "obsgen generate --check")
	assert.Regexp(t, `^golang:1\.\d+`, job.Image)
}

// TestTheReleaseBuildStampsTheVersion: the GoReleaser configuration builds
// obsgen and obsgen-verify for Linux and macOS on amd64 and arm64 without
// cgo, with checksums and a distroless image; and its ldflags, built here
// with the template's values filled in, make `obsgen version --short`
// report the tag, which is what each output's manifest records.
func TestTheReleaseBuildStampsTheVersion(t *testing.T) {
	var cfg struct {
		Version int `json:"version"`
		Builds  []struct {
			ID      string   `json:"id"`
			Main    string   `json:"main"`
			Env     []string `json:"env"`
			Ldflags []string `json:"ldflags"`
			Goos    []string `json:"goos"`
			Goarch  []string `json:"goarch"`
		} `json:"builds"`
		Checksum struct {
			Algorithm string `json:"algorithm"`
		} `json:"checksum"`
		DockersV2 []struct {
			Dockerfile string   `json:"dockerfile"`
			Platforms  []string `json:"platforms"`
		} `json:"dockers_v2"`
	}
	require.NoError(t, yaml.Unmarshal(read(t, ".goreleaser.yaml"), &cfg))
	assert.Equal(t, 2, cfg.Version)
	mains := map[string]bool{}
	for _, b := range cfg.Builds {
		mains[b.Main] = true
		assert.Contains(t, b.Env, "CGO_ENABLED=0", b.ID)
		assert.ElementsMatch(t, []string{"linux", "darwin"}, b.Goos, b.ID)
		assert.ElementsMatch(t, []string{"amd64", "arm64"}, b.Goarch, b.ID)
	}
	assert.True(t, mains["./cmd/obsgen"] && mains["./cmd/obsgen-verify"], "%v", mains)
	assert.Equal(t, "sha256", cfg.Checksum.Algorithm)
	require.Len(t, cfg.DockersV2, 1)
	dockerfile := string(read(t, cfg.DockersV2[0].Dockerfile))
	assert.Contains(t, dockerfile, "FROM gcr.io/distroless/static")
	assert.Contains(t, dockerfile, "COPY ${TARGETPLATFORM}/obsgen")

	if testing.Short() {
		t.Skip("builds obsgen")
	}
	ldflags := strings.NewReplacer("{{ .Tag }}", "v9.8.7", "{{ .FullCommit }}", "0123456789abcdef").Replace(cfg.Builds[0].Ldflags[0])
	bin := filepath.Join(t.TempDir(), "obsgen")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", bin, "./cmd/obsgen")
	build.Dir = repoRoot
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	got, err := exec.Command(bin, "version", "--short").Output()
	require.NoError(t, err)
	assert.Equal(t, "v9.8.7\n", string(got))
	long, err := exec.Command(bin, "version").Output()
	require.NoError(t, err)
	assert.Contains(t, string(long), "commit: 0123456789abcdef")
}
