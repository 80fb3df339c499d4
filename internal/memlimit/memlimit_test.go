package memlimit

import (
	"math"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLiftOnlyWhenLiveNearsTheLimit(t *testing.T) {
	assert.False(t, Lift(200<<20, 150<<20))
	assert.True(t, Lift(200<<20, 180<<20))
	assert.True(t, Lift(200<<20, 1<<30))
}

// The watcher sees every collection and lifts once what is live after one
// passes the share; it does not before, nor again while the limit stays
// lifted, and lifts again when something puts the limit back.
func TestTheWatcherLiftsOnceWhatIsLiveGrows(t *testing.T) {
	var lifted atomic.Int32
	const limit = 64 << 20
	var current atomic.Int64
	current.Store(limit)
	watch(limit, current.Load, func() { lifted.Add(1); current.Store(math.MaxInt64) })
	collect := func() {
		for range 3 {
			runtime.GC()
		}
		time.Sleep(50 * time.Millisecond) // cleanups run on their own goroutine
	}
	collect()
	require.Zero(t, lifted.Load(), "little is live: the limit holds")

	hold := make([][]byte, 0, 64)
	for range 64 {
		hold = append(hold, make([]byte, 1<<20)) // 64 MiB live, above 85% of the limit
	}
	waitFor := func(n int32) {
		deadline := time.Now().Add(5 * time.Second)
		for lifted.Load() < n && time.Now().Before(deadline) {
			runtime.GC()
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(1)
	require.Equal(t, int32(1), lifted.Load(), "lifted")
	collect()
	assert.Equal(t, int32(1), lifted.Load(), "lifted once while the limit stays lifted")

	current.Store(limit) // as code restoring the limit it found would
	waitFor(2)
	runtime.KeepAlive(hold)
	assert.Equal(t, int32(2), lifted.Load(), "lifted again once the limit came back")
}
