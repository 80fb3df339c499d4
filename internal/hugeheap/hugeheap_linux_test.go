//go:build linux

package hugeheap

import (
	"bufio"
	"errors"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestMarkTouchesNoPageAndFlagsTheRegion: the marked region is heap no
// object used, so marking it leaves every page of it unmapped (none was
// cleared), even when the heap's used part ends in a free hole, which a
// region allocated first would start in; and the kernel records the
// advice on the memory (VmFlags hg in /proc/self/smaps).
func TestMarkTouchesNoPageAndFlagsTheRegion(t *testing.T) {
	const region = 64 << 20
	resident := make([]byte, region/os.Getpagesize()+1) // before mark: nothing allocates after it
	// A free hole at the top of the heap: a large object, used, then
	// collected.
	hole := make([]byte, 16<<20)
	for i := range hole {
		hole[i] = 1
	}
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
	_, _, errno := syscall.Syscall(syscall.SYS_MINCORE, lo, hi-lo, uintptr(unsafe.Pointer(&resident[0])))
	require.Zero(t, errno)
	touched := 0
	for _, v := range resident[:(hi-lo)/uintptr(os.Getpagesize())] {
		touched += int(v & 1)
	}
	assert.Zero(t, touched, "pages of the marked region in memory after marking")

	flags, err := vmFlags(lo)
	require.NoError(t, err)
	assert.Contains(t, strings.Fields(flags), "hg", "VmFlags of the mapping at %#x", lo)
}

// vmFlags returns the VmFlags of the mapping that holds addr.
func vmFlags(addr uintptr) (string, error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return "", err
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
			return flags, nil
		}
	}
	return "", errors.New("no mapping holds the address")
}
