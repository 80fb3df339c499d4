package output

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSameContentReadsInChunks: a comparison read a chunk at a time tells
// equal files from files that differ anywhere, at a chunk's edge too, and
// from files of another size.
func TestSameContentReadsInChunks(t *testing.T) {
	dir := t.TempDir()
	tr, err := openTree(dir)
	require.NoError(t, err)
	defer tr.close()
	sizes := []int{0, 1, compareChunk - 1, compareChunk, compareChunk + 1, 3*compareChunk + 17}
	for _, size := range sizes {
		data := bytes.Repeat([]byte("obsgen\n"), size/7+1)[:size]
		require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), data, 0o644))
		same, err := tr.sameContent("f", data)
		require.NoError(t, err)
		assert.True(t, same, "size %d", size)
		for _, other := range [][]byte{append(bytes.Clone(data), 'x'), data[:max(size-1, 0)]} {
			if len(other) == size {
				continue
			}
			same, err := tr.sameContent("f", other)
			require.NoError(t, err)
			assert.False(t, same, "size %d against %d bytes", size, len(other))
		}
		for _, at := range []int{0, compareChunk - 1, compareChunk, size - 1} {
			if at < 0 || at >= size {
				continue
			}
			other := bytes.Clone(data)
			other[at] ^= 1
			same, err := tr.sameContent("f", other)
			require.NoError(t, err)
			assert.False(t, same, "size %d, byte %d differs", size, at)
		}
	}
}

// TestSameContentSeesAFileThatChangedSize: the comparison reads past the
// data, so a file that grew after its size was checked is not the same,
// and one that shrank is not either.
func TestSameContentSeesAFileThatChangedSize(t *testing.T) {
	dir := t.TempDir()
	tr, err := openTree(dir)
	require.NoError(t, err)
	defer tr.close()
	for _, size := range []int{10, compareChunk, 2 * compareChunk} {
		data := bytes.Repeat([]byte{'x'}, size)
		grown := append(bytes.Clone(data), 'y')
		for name, content := range map[string][]byte{"grown": grown, "shrunk": data[:size-1]} {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), content, 0o644))
			f, err := os.Open(filepath.Join(dir, "f"))
			require.NoError(t, err)
			same, err := tr.sameRead(f, data)
			_ = f.Close()
			require.NoError(t, err)
			assert.False(t, same, "%s, size %d", name, size)
		}
	}
}
