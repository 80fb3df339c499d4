//go:build obsgenprof

package main

// Built with -tags obsgenprof, obsgen writes a CPU profile to
// $OBSGEN_CPUPROFILE and a heap profile at exit to $OBSGEN_MEMPROFILE:
// how the whole-process figures in the README are broken down.
// $OBSGEN_TRACE receives an execution trace (go tool trace), which shows
// the steps' critical path.

import (
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
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
