//go:build obsgenprof

package main

// Built with -tags obsgenprof, obsgen writes a CPU profile to
// $OBSGEN_CPUPROFILE and a heap profile at exit to $OBSGEN_MEMPROFILE:
// how the whole-process figures in the README are broken down.

import (
	"os"
	"runtime"
	"runtime/pprof"
)

func init() {
	if path := os.Getenv("OBSGEN_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			atExit = append(atExit, func() { pprof.StopCPUProfile(); f.Close() })
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
