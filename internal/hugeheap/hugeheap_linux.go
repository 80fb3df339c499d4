//go:build linux

package hugeheap

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

const thp = "/sys/kernel/mm/transparent_hugepage/"

func advise(wanted int) Decision {
	enabled, err := os.ReadFile(thp + "enabled")
	if err != nil {
		return Decision{Reason: "transparent huge pages are not available: " + err.Error()}
	}
	huge, err := os.ReadFile(thp + "hpage_pmd_size")
	if err != nil {
		return Decision{Reason: err.Error()}
	}
	hugeSize, err := strconv.Atoi(strings.TrimSpace(string(huge)))
	if err != nil {
		return Decision{Reason: thp + "hpage_pmd_size: " + err.Error()}
	}
	buddy, err := os.ReadFile("/proc/buddyinfo")
	if err != nil {
		return Decision{Reason: err.Error()}
	}
	sys := System{Enabled: string(enabled), PageSize: os.Getpagesize(), HugePageSize: hugeSize,
		BuddyInfo: string(buddy), GODEBUG: os.Getenv("GODEBUG")}
	region, why := decide(sys, wanted)
	if region == 0 {
		return Decision{Reason: why}
	}
	lo, hi, err := mark(region)
	if err != nil {
		return Decision{Reason: err.Error()}
	}
	return Decision{Advised: true, Reason: why, Lo: lo, Hi: hi}
}

// errHoles refuses a region that could land in a hole of the heap.
var errHoles = errors.New("the heap has as much free memory as the region: it could land where the runtime clears it page by page")

// mark makes the runtime map region bytes of heap that no object has used,
// marks them MADV_HUGEPAGE and gives them back to the heap, which hands
// them out from the next allocations on (its page allocator is
// address-ordered first-fit: runtime/mpagealloc.go). It returns the
// marked range.
//
// The region is a []byte on memory the runtime maps fresh and does not
// clear, since fresh memory is zero (mheap.allocNeedsZero); marking it
// touches no page. Two things keep it off memory the heap used before,
// which the runtime would clear page by page:
//   - the region is larger than all the heap's free memory, so it fits in
//     no hole of it (mark refuses otherwise);
//   - an absorber as large as that free memory comes first and takes the
//     free run that ends the heap, which may start on used memory, so the
//     region starts after it, on memory never used (clearing at most the
//     absorber, a few MiB at start-up).
//
// No collection may run while the region is live: one would count it as
// live heap, and internal/memlimit lifts the soft memory limit when a
// collection leaves more than 85% of it live. So mark lets any collection
// under way finish, allocates with the collector and the memory limit off,
// restores both as it found them, and collects once more after letting
// go. A lift internal/memlimit makes meanwhile (from a cleanup after the
// first collection) is undone by the restore; memlimit lifts again after
// the next collection.
func mark(region int) (lo, hi uintptr, err error) {
	runtime.GC()
	free := freeHeap()
	if uint64(region) <= free {
		return 0, 0, errHoles
	}
	gcPercent := debug.SetGCPercent(-1)
	limit := debug.SetMemoryLimit(math.MaxInt64)
	// Above the largest small-object size (32 KiB), so it takes whole
	// pages of its own.
	absorber := make([]byte, max(free+8<<10, 64<<10))
	b := make([]byte, region)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	end := uintptr(unsafe.Pointer(unsafe.SliceData(absorber))) + uintptr(len(absorber))
	lo = (start + HugePage - 1) &^ (HugePage - 1)
	hi = (start + uintptr(len(b))) &^ (HugePage - 1)
	switch {
	case start < end:
		err = fmt.Errorf("the region landed below the absorber (%#x < %#x): the runtime may have cleared it", start, end)
	case lo < hi:
		if err = unix.Madvise(b[lo-start:hi-start], unix.MADV_HUGEPAGE); err != nil {
			err = fmt.Errorf("madvise: %w", err)
		}
	}
	runtime.KeepAlive(absorber)
	runtime.KeepAlive(b)
	debug.SetMemoryLimit(limit)
	debug.SetGCPercent(gcPercent)
	runtime.GC() // frees both before the run allocates
	return lo, hi, err
}

// freeHeap is the heap's free memory, in RAM or given back to the system.
func freeHeap() uint64 {
	sample := []metrics.Sample{
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
	}
	metrics.Read(sample)
	var free uint64
	for _, s := range sample {
		if s.Value.Kind() == metrics.KindUint64 {
			free += s.Value.Uint64()
		}
	}
	return free
}

// release marks [lo, hi) MADV_NOHUGEPAGE: no fault maps a huge page there
// any more, and khugepaged does not gather its pages into one.
func release(lo, hi uintptr) {
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, lo, hi-lo, unix.MADV_NOHUGEPAGE)
}
