package profile_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/profile"
)

// A profile over the size limit is refused before parsing, at the line
// and column where the limit falls, so a 9 MB file fails at once.
func TestAProfileOverTheSizeLimitIsRefusedWithAPosition(t *testing.T) {
	line := []byte("# " + string(bytes.Repeat([]byte("x"), 97)) + "\n") // 100 bytes
	data := bytes.Repeat(line, profile.MaxSize/100+1)

	_, err := profile.Load("big.yaml", data)

	require.Error(t, err)
	// Byte MaxSize (0-based) is on line MaxSize/100+1, column MaxSize%100+1.
	assert.Equal(t, "big.yaml:83887:9: profile is larger than 8388608 bytes; hint: split it, or check that the right file was given", err.Error())
}
