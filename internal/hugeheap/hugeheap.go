// Package hugeheap asks Linux to back the heap of a large run with
// transparent huge pages (THP), where the system leaves that to each
// program.
//
// A run of a thousand teams touches about 180 MiB of fresh heap, some
// 46,000 pages of 4 KiB, each first touched through a page fault. On the
// virtual machines obsgen's CI and its users' pipelines run on, a fault
// costs far more than the page it maps: 13 µs on the 2-core reference
// machine (a fault per page of 160 MiB takes 0.5 s; the same memory
// populated in one madvise(MADV_POPULATE_WRITE) call takes 26 ms, and in
// 2 MiB huge pages 11 ms). That was a third of the process's CPU time.
//
// Linux maps 2 MiB pages on a fault where THP is enabled for the memory:
// always, or, in the "madvise" mode most distributions ship, only in
// regions a program marked with madvise(MADV_HUGEPAGE)
// (Documentation/admin-guide/mm/transhuge.rst). The Go runtime marks no
// heap memory since Go 1.21.4: marking it made long-running servers stall
// in the kernel's compaction when free memory was fragmented and hold
// memory they no longer used (golang/go#61718, #64332; #64342 for what the runtime
// still does). Neither
// harms a run of obsgen, which lasts seconds and whose heap is dense, as
// long as free huge pages are at hand; so Advise marks a region of the
// heap the run is about to use, and only:
//
//   - on Linux, with THP in the madvise mode (under "always" the kernel
//     already does it, under "never" nothing would);
//   - unless GODEBUG has disablethp=1, Go's own switch to keep the heap
//     off huge pages;
//   - when /proc/buddyinfo shows twice the region's huge pages free, so a
//     fault takes a free page and does not wait for compaction.
//
// The advice covers heap the run has not touched yet; it changes no byte
// of memory and nothing the program computes.
package hugeheap

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// HugePage is the size of a transparent huge page on x86-64 and arm64
// with 4 KiB base pages (/sys/kernel/mm/transparent_hugepage/hpage_pmd_size).
const HugePage = 2 << 20

// Region is how much heap Advise marks: a run that needs more than
// obsgen's soft memory limit (internal/memlimit) is rare, and memory
// never touched costs nothing, marked or not.
const Region = 208 << 20

// Decision is what Advise did, and why.
type Decision struct {
	Advised bool
	Reason  string
	// Lo and Hi bound the marked memory, when Advised.
	Lo, Hi uintptr
}

var (
	once     sync.Once
	decision Decision
)

// Advise marks Region bytes of the heap the run is about to use for huge
// pages, when the system's settings call for it (see the package
// documentation), once per process, and tells what it did.
func Advise() Decision {
	once.Do(func() { decision = advise(Region) })
	return decision
}

// System is what decide reads of the system.
type System struct {
	// Enabled is /sys/kernel/mm/transparent_hugepage/enabled, such as
	// "always [madvise] never".
	Enabled string
	// BuddyInfo is /proc/buddyinfo.
	BuddyInfo string
	// GODEBUG is the environment variable.
	GODEBUG string
}

// decide tells whether to mark region bytes for huge pages on sys.
func decide(sys System, region int) (bool, string) {
	mode := selected(sys.Enabled)
	switch {
	case mode == "":
		return false, "transparent huge pages are not available"
	case mode != "madvise":
		return false, fmt.Sprintf("transparent huge pages are %q for every program", mode)
	case disablesTHP(sys.GODEBUG):
		return false, "GODEBUG has disablethp=1"
	}
	free, err := FreeHugePages(sys.BuddyInfo)
	if err != nil {
		return false, err.Error()
	}
	need := 2 * (region / HugePage)
	if free < need {
		return false, fmt.Sprintf("%d free huge pages, fewer than %d: faults would wait for compaction", free, need)
	}
	return true, fmt.Sprintf("transparent huge pages on madvise, %d free", free)
}

// selected is the bracketed choice of a sysfs setting such as
// "always [madvise] never", "" for none.
func selected(setting string) string {
	_, rest, ok := strings.Cut(setting, "[")
	if !ok {
		return ""
	}
	mode, _, ok := strings.Cut(rest, "]")
	if !ok {
		return ""
	}
	return mode
}

// disablesTHP tells whether a GODEBUG value sets disablethp to anything
// but 0; the last setting of a name wins, as in the runtime.
func disablesTHP(godebug string) bool {
	off := false
	for _, kv := range strings.Split(godebug, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k == "disablethp" {
			off = v != "0"
		}
	}
	return off
}

// FreeHugePages counts, in /proc/buddyinfo, the free blocks of memory of
// a huge page or more, in huge pages: each line is a zone with the number
// of free blocks of 2^0, 2^1, ... base pages, and a block of order 9 (512
// pages of 4 KiB) is a huge page (mm/page_alloc.c, frag_show_print).
func FreeHugePages(buddyinfo string) (int, error) {
	const hugeOrder = 9
	total, zones := 0, 0
	s := bufio.NewScanner(strings.NewReader(buddyinfo))
	for s.Scan() {
		// Node 0, zone   Normal  13292   6515 ...
		_, counts, ok := strings.Cut(s.Text(), "zone")
		if !ok {
			continue
		}
		fields := strings.Fields(counts)
		if len(fields) < 2 {
			return 0, fmt.Errorf("/proc/buddyinfo: a zone without counts: %q", s.Text())
		}
		for order, f := range fields[1:] {
			n, err := strconv.Atoi(f)
			if err != nil || n < 0 {
				return 0, fmt.Errorf("/proc/buddyinfo: %q is not a count of free blocks", f)
			}
			if order >= hugeOrder {
				total += n << (order - hugeOrder)
			}
		}
		zones++
	}
	if zones == 0 {
		return 0, fmt.Errorf("/proc/buddyinfo: no zones")
	}
	return total, nil
}
