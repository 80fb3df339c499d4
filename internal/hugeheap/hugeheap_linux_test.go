//go:build linux

package hugeheap

import (
	"bufio"
	"errors"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

const markChild = "OBSGEN_HUGEHEAP_MARK_CHILD"

// TestMarkTouchesNoPageAndFlagsTheRegion: the marked region is heap no
// object used, so marking it leaves every page of it out of memory (none
// was cleared), even when the heap ends in a free hole still in memory,
// where a region allocated first would start; the kernel records the
// advice on the memory (VmFlags hg in /proc/self/smaps), and Release takes
// it off. It runs in a process of its own: mark sizes its allocations from
// the heap's free memory, which earlier tests leave behind. Three
// processes: the hole is where the heap ends in about half of them.
func TestMarkTouchesNoPageAndFlagsTheRegion(t *testing.T) {
	if !inChild(t, markChild, 3) {
		return
	}
	const region = 64 << 20
	// With the collector and the memory limit off, the runtime gives no
	// free memory back to the system: the hole stays in memory, where
	// the runtime would clear it for a new object.
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(math.MaxInt64)
	resident := make([]byte, region/os.Getpagesize()+1) // before mark: nothing allocates after it
	hole := make([]byte, 16<<20)
	for i := range hole {
		hole[i] = 1
	}
	holeAt := uintptr(unsafe.Pointer(unsafe.SliceData(hole)))
	runtime.KeepAlive(hole)
	hole = nil
	runtime.GC()

	lo, hi, err := mark(region)
	if errors.Is(err, unix.EINVAL) {
		t.Skip("the kernel has no transparent huge pages")
	}
	require.NoError(t, err)
	require.Less(t, lo, hi)
	require.GreaterOrEqual(t, hi-lo, uintptr(region-2*HugePage))
	assert.Less(t, holeAt, lo, "the region starts past the hole")
	_, _, errno := syscall.Syscall(syscall.SYS_MINCORE, lo, hi-lo, uintptr(unsafe.Pointer(&resident[0])))
	require.Zero(t, errno)
	touched := 0
	for _, v := range resident[:(hi-lo)/uintptr(os.Getpagesize())] {
		touched += int(v & 1)
	}
	assert.Zero(t, touched, "pages of the marked region in memory after marking")

	flags, err := vmFlags(lo)
	require.NoError(t, err)
	assert.Contains(t, flags, "hg", "VmFlags of the mapping at %#x", lo)

	release(lo, hi)
	flags, err = vmFlags(lo)
	require.NoError(t, err)
	assert.NotContains(t, flags, "hg", "VmFlags after release")
	assert.Contains(t, flags, "nh", "VmFlags after release")
}

// vmFlags returns the VmFlags of the mapping that holds addr.
func vmFlags(addr uintptr) ([]string, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	in := false
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := s.Text()
		if rng, _, ok := strings.Cut(line, " "); ok && strings.Contains(rng, "-") && !strings.HasSuffix(rng, ":") {
			a, b, _ := strings.Cut(rng, "-")
			start, err1 := strconv.ParseUint(a, 16, 64)
			end, err2 := strconv.ParseUint(b, 16, 64)
			in = err1 == nil && err2 == nil && uint64(addr) >= start && uint64(addr) < end
			continue
		}
		if flags, ok := strings.CutPrefix(line, "VmFlags:"); ok && in {
			return strings.Fields(flags), nil
		}
	}
	return nil, errors.New("no mapping holds the address")
}

const settingsChild = "OBSGEN_HUGEHEAP_SETTINGS_CHILD"

// TestMarkRestoresTheCollectorSettings: mark turns the collector and the
// memory limit off while it allocates, and leaves both as it found them
// (internal/memlimit's limit, a user's GOGC). In a process of its own, so
// the settings changed here change no other test.
func TestMarkRestoresTheCollectorSettings(t *testing.T) {
	if !inChild(t, settingsChild, 1) {
		return
	}
	debug.SetGCPercent(150)
	debug.SetMemoryLimit(300 << 20)
	_, _, err := mark(64 << 20)
	if errors.Is(err, unix.EINVAL) {
		t.Skip("the kernel has no transparent huge pages")
	}
	require.NoError(t, err)
	assert.Equal(t, 150, debug.SetGCPercent(150), "GC percent after mark")
	assert.Equal(t, int64(300<<20), debug.SetMemoryLimit(-1), "memory limit after mark")
}

// inChild tells whether the test runs in a child process (env set). In
// the parent it runs the test in n child processes, one after the other,
// fails when one fails and skips when one skips, and returns false.
func inChild(t *testing.T, env string, n int) bool {
	t.Helper()
	if os.Getenv(env) != "" {
		return true
	}
	for range n {
		cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), env+"=1")
		out, err := cmd.CombinedOutput()
		if strings.Contains(string(out), "--- SKIP") {
			t.Skipf("%s", out)
		}
		require.NoError(t, err, "%s", out)
	}
	return false
}
