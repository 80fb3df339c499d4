//go:build linux

package hugeheap

import (
	"os"
	"runtime"
	"runtime/metrics"
	"unsafe"

	"golang.org/x/sys/unix"
)

func advise(region int) Decision {
	enabled, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil {
		return Decision{Reason: "transparent huge pages are not available: " + err.Error()}
	}
	buddy, err := os.ReadFile("/proc/buddyinfo")
	if err != nil {
		return Decision{Reason: err.Error()}
	}
	ok, why := decide(System{Enabled: string(enabled), BuddyInfo: string(buddy), GODEBUG: os.Getenv("GODEBUG")}, region)
	if !ok {
		return Decision{Reason: why}
	}
	lo, hi, err := mark(region)
	if err != nil {
		return Decision{Reason: "madvise: " + err.Error()}
	}
	return Decision{Advised: true, Reason: why, Lo: lo, Hi: hi}
}

// mark makes the runtime map region bytes of heap that no object has used,
// marks them MADV_HUGEPAGE and gives them back to the heap, which hands
// them out from the next allocations on. It returns the marked range.
//
// The memory is a []byte the runtime maps fresh and does not clear, since
// fresh memory is zero (mheap.allocNeedsZero); marking it touches no page.
// Were it to start in a free hole of the heap's used part, the runtime
// would clear all of it, touching every page, so an absorber comes first:
// one allocation larger than all the heap's free memory cannot fit in a
// hole, so it takes whatever free run ends the used part (clearing at most
// the free memory, a few MiB at start-up), and the region, allocated
// next, starts on memory never used (the page allocator is address-ordered
// first-fit; runtime/mpagealloc.go).
func mark(region int) (lo, hi uintptr, err error) {
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
	// Above the largest small-object size (32 KiB), so it takes whole
	// pages of its own.
	absorber := make([]byte, max(free+8<<10, 64<<10))
	b := make([]byte, region)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo = (start + HugePage - 1) &^ (HugePage - 1)
	hi = (start + uintptr(len(b))) &^ (HugePage - 1)
	if lo < hi {
		err = unix.Madvise(b[lo-start:hi-start], unix.MADV_HUGEPAGE)
	}
	runtime.KeepAlive(absorber)
	runtime.KeepAlive(b)
	runtime.GC() // frees both before the run allocates
	return lo, hi, err
}
