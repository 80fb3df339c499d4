//go:build obsgenprof

package main

// Built with -tags obsgenprof, obsgen writes a CPU profile to
// $OBSGEN_CPUPROFILE and a heap profile at exit to $OBSGEN_MEMPROFILE:
// how the whole-process figures in the README are broken down.
// $OBSGEN_TRACE receives an execution trace (go tool trace), which shows
// the steps' critical path, and $OBSGEN_PEAKPROFILE the heap profile taken
// when the live heap was largest (what a large profile's peak holds).

import (
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"runtime/trace"
	"time"
)

func init() {
	if path := os.Getenv("OBSGEN_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			atExit = append(atExit, func() { pprof.StopCPUProfile(); f.Close() })
		}
	}
	if path := os.Getenv("OBSGEN_TRACE"); path != "" {
		f, err := os.Create(path)
		if err == nil && trace.Start(f) == nil {
			atExit = append(atExit, func() { trace.Stop(); f.Close() })
		}
	}
	if path := os.Getenv("OBSGEN_PEAKPROFILE"); path != "" {
		go watchPeak(path)
	}
	if path := os.Getenv("OBSGEN_MEMPROFILE"); path != "" {
		atExit = append(atExit, func() {
			if f, err := os.Create(path); err == nil {
				runtime.GC()
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		})
	}
}

// watchPeak writes the heap profile to path each time the live heap (as of
// the last collection) grows by a tenth over the largest seen.
func watchPeak(path string) {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var peak uint64
	for range time.Tick(10 * time.Millisecond) {
		metrics.Read(sample)
		if live := sample[0].Value.Uint64(); live > peak+peak/10 {
			peak = live
			if f, err := os.Create(path); err == nil {
				_ = pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}
	}
}
