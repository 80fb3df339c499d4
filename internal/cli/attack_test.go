package cli

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/output"
)

// With two profiles, a hand-written file in the second one's folder stops
// both: the first profile's files are not written either.
func TestGenerateWritesEveryProfileOrNone(t *testing.T) {
	dir := t.TempDir()
	blocked := filepath.Join(dir, "out", "strict-deny", "kustomization.yaml")
	require.NoError(t, os.MkdirAll(filepath.Dir(blocked), 0o755))
	require.NoError(t, os.WriteFile(blocked, []byte("mine\n"), 0o644))

	code, _, errOut := run(t, dir, "generate", repoProfile(t, "ambient.yaml"), repoProfile(t, "strict-deny.yaml"))

	assert.Equal(t, ExitFailed, code)
	assert.Contains(t, errOut, filepath.Join("out", "strict-deny", "kustomization.yaml")+" exists and was not written by obsgen")
	assert.NoDirExists(t, filepath.Join(dir, "out", "ambient"), "the first profile is not written")
}

func TestGenerateAndCheckRefuseALinkedOutputFolder(t *testing.T) {
	dir := t.TempDir()
	elsewhere := filepath.Join(dir, "elsewhere")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "out"), 0o755))
	require.NoError(t, os.MkdirAll(elsewhere, 0o755))
	require.NoError(t, os.Symlink(elsewhere, filepath.Join(dir, "out", "default-permissive")))

	for _, args := range [][]string{{"generate", exampleProfile}, {"generate", "--check", exampleProfile}} {
		code, _, errOut := run(t, dir, args...)
		assert.Equal(t, ExitFailed, code, args)
		assert.Contains(t, errOut, filepath.Join("out", "default-permissive")+" is a symbolic link", args)
	}
	entries, err := os.ReadDir(elsewhere)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing is written through the link")
}

func TestGenerateRefusesWhileAnotherRunHoldsTheLock(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "out"), 0o755))
	// Another run holds an exclusive flock on the lock file.
	lock, err := os.OpenFile(filepath.Join(dir, "out", output.LockName), os.O_RDWR|os.O_CREATE, 0o644)
	require.NoError(t, err)
	defer lock.Close()
	require.NoError(t, syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))

	code, _, errOut := run(t, dir, "generate", exampleProfile)

	assert.Equal(t, ExitFailed, code)
	assert.Contains(t, errOut, "obsgen: another obsgen run is writing to out")
	assert.NoDirExists(t, filepath.Join(dir, "out", "default-permissive"))
}

// An endless or huge profile (a device, a pipe) is read only up to the size
// limit, and reported as an invalid profile (exit 1), not a crash.
func TestAnEndlessProfileIsCutAtTheSizeLimit(t *testing.T) {
	tests := map[string]struct {
		profile func(t *testing.T, dir string) string
	}{
		"the zero device": {
			profile: func(*testing.T, string) string { return "/dev/zero" },
		},
		"a named pipe fed without end": {
			profile: func(t *testing.T, dir string) string {
				fifo := filepath.Join(dir, "profile.yaml")
				require.NoError(t, syscall.Mkfifo(fifo, 0o644))
				go feedForever(fifo)
				return fifo
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			file := tc.profile(t, dir)

			code, _, errOut := run(t, dir, "generate", file)

			assert.Equal(t, ExitFailed, code)
			assert.Contains(t, errOut, file+":1:")
			assert.Contains(t, errOut, "profile is larger than 8388608 bytes")
			assert.NoDirExists(t, filepath.Join(dir, "out"))
		})
	}
}

// feedForever writes to the pipe until the reader closes it.
func feedForever(fifo string) {
	f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		return
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = 'a'
	}
	for {
		if _, err := f.Write(chunk); err != nil {
			return // the reader stopped at the limit and closed its end
		}
	}
}

func TestAProfileThatCannotBeOpenedIsAUsageError(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := run(t, dir, "generate", "missing.yaml")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "missing.yaml")

	code, _, errOut = run(t, dir, "generate", dir)
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "is a folder; name a profile file")
}
