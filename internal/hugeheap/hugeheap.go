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
// heap memory since Go 1.21.4 (golang/go#64342): marked memory made
// long-running servers stall in direct reclaim and compaction when free
// memory was fragmented (golang/go#61718), and khugepaged refilled what
// the collector had given back (golang/go#64332). A run of obsgen lasts
// seconds and its heap is dense, so Advise marks the heap a large run is
// about to use, and Release takes the mark off once the run is done (so
// a long-lived `generate --watch` gets no new huge pages between runs;
// those already mapped stay until the heap gives their memory back). It
// does so only:
//
//   - on Linux with pages of 4 KiB and huge pages of 2 MiB, with THP in
//     the madvise mode (under "always" the kernel already does it, under
//     "never" nothing would);
//   - unless GODEBUG has disablethp=1, Go's own switch to keep the heap
//     off huge pages;
//   - on a region no larger than half the huge pages /proc/buddyinfo
//     shows free. A fault then finds a free huge page without compacting
//     memory; the count is a snapshot of the whole machine, not of a
//     container's memory limit, so it makes a stall unlikely, not
//     impossible.
//
// The advice changes no byte of memory and nothing the program computes.
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

// Region is how much heap Advise marks: obsgen's soft memory limit
// (internal/memlimit.Default), which a run of a thousand teams stays
// within. A
// larger run's heap grows past it into pages of 4 KiB: at ten thousand
// teams, marking 2 GiB made the run no faster and its peak 40% larger
// (1.96 against 1.38 GiB), as the collector gives back pieces of huge
// pages. Memory marked but never touched costs nothing.
const Region = 208 << 20

// leastRegion is the smallest region worth marking.
const leastRegion = 32 << 20

// Decision is what Advise did, and why.
type Decision struct {
	Advised bool
	Reason  string
	// Lo and Hi bound the marked memory, when Advised.
	Lo, Hi uintptr
}

var (
	mu       sync.Mutex
	done     bool
	decision Decision
)

// Advise marks Region bytes of the heap the run is about to use for huge
// pages, when the system's settings call for it (see the package
// documentation), and tells what it did. Only the first call of a process
// marks anything: later ones return its decision.
func Advise() Decision {
	mu.Lock()
	defer mu.Unlock()
	if !done {
		done = true
		decision = advise(Region)
	}
	return decision
}

// Release takes the mark off the region Advise marked: its huge pages
// stay until the heap lets go of them, and no new ones are made there.
func Release() {
	mu.Lock()
	defer mu.Unlock()
	if decision.Advised {
		release(decision.Lo, decision.Hi)
		decision.Advised = false
		decision.Reason = "released"
	}
}

// System is what decide reads of the system.
type System struct {
	// Enabled is /sys/kernel/mm/transparent_hugepage/enabled, such as
	// "always [madvise] never".
	Enabled string
	// PageSize is the base page size and HugePageSize
	// /sys/kernel/mm/transparent_hugepage/hpage_pmd_size.
	PageSize, HugePageSize int
	// BuddyInfo is /proc/buddyinfo.
	BuddyInfo string
	// GODEBUG is the environment variable.
	GODEBUG string
}

// decide tells how much of a wanted region to mark for huge pages on sys:
// all of it, or half the free huge pages when fewer than twice the
// region's are free; 0 (and why) for none.
func decide(sys System, wanted int) (int, string) {
	mode := selected(sys.Enabled)
	switch {
	case mode == "":
		return 0, "transparent huge pages are not available"
	case sys.PageSize != 4<<10 || sys.HugePageSize != HugePage:
		return 0, fmt.Sprintf("pages of %d bytes and huge pages of %d, not 4 KiB and 2 MiB", sys.PageSize, sys.HugePageSize)
	case mode != "madvise":
		return 0, fmt.Sprintf("transparent huge pages are %q for every program", mode)
	case disablesTHP(sys.GODEBUG):
		return 0, "GODEBUG has disablethp=1"
	}
	free, err := FreeHugePages(sys.BuddyInfo)
	if err != nil {
		return 0, err.Error()
	}
	region := min(wanted/HugePage, free/2) * HugePage
	if region < leastRegion {
		return 0, fmt.Sprintf("%d free huge pages: faults would wait for compaction", free)
	}
	return region, fmt.Sprintf("transparent huge pages on madvise, %d free; marking %d MiB", free, region>>20)
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
