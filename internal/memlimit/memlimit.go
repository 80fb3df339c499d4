// Package memlimit gives obsgen's process a soft memory limit that steps
// aside for large runs.
//
// A run holds everything it generates until the writer commits it (a
// hundred megabytes at a thousand teams, see the README), and with the
// default GOGC=100 the garbage collector lets the heap grow to twice what
// is live: about 300 MiB of memory for 150 MiB live. A soft limit
// (runtime/debug.SetMemoryLimit) makes the collector run more often as the
// heap nears it instead. Where what is live comes close to the limit itself,
// holding it would make the collector run back to back (the runtime caps it
// at half the CPU, https://go.dev/doc/gc-guide#Memory_limit), so the limit
// is lifted and GOGC alone governs, as without this package.
package memlimit

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// Default is the soft limit obsgen sets.
const Default = 208 << 20

// liftAt is the share of the limit that, once live after a collection,
// lifts it.
const liftAt = 0.85

// Apply sets limit as the soft memory limit unless GOMEMLIMIT or GOGC is
// set (the user's choice of how the collector runs wins), and lifts it
// after a collection that leaves more than 85% of it live, as the runtime
// counts live bytes (/gc/heap/live:bytes).
func Apply(limit int64) {
	if os.Getenv("GOMEMLIMIT") != "" || os.Getenv("GOGC") != "" || limit <= 0 {
		return
	}
	debug.SetMemoryLimit(limit)
	watch(limit, func() int64 { return debug.SetMemoryLimit(-1) }, func() { debug.SetMemoryLimit(math.MaxInt64) })
}

// Lift tells whether a limit should be lifted with live bytes left after
// a collection.
func Lift(limit int64, live uint64) bool {
	return float64(live) > liftAt*float64(limit)
}

// watch calls lift after each collection that leaves Lift true while the
// limit in force (current) is still limit: once, unless something puts
// the limit back afterwards (code that turns the limit off for a while
// and restores what it found would undo a lift made in between); the next
// collection lifts again. It re-arms a
// cleanup on a fresh object at every collection: the runtime runs it once
// the object is found unreachable, which is after a collection.
func watch(limit int64, current func() int64, lift func()) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var arm func()
	arm = func() {
		runtime.AddCleanup(new([16]byte), func(struct{}) {
			metrics.Read(sample)
			if current() == limit && sample[0].Value.Kind() == metrics.KindUint64 && Lift(limit, sample[0].Value.Uint64()) {
				lift()
			}
			arm()
		}, struct{}{})
	}
	arm()
}
