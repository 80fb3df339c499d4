package hugeheap

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buddyinfo is /proc/buddyinfo of a 24 GiB virtual machine: free blocks of
// order 0 to 10 per zone.
const buddyinfo = `Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3 
Node 0, zone    DMA32      4      1      2      2      2      2      1      4      4      2    752 
Node 0, zone   Normal  13292   6515   3534   2632   2658   2514   1668   1341    904    511    989 
`

func TestFreeHugePagesCountsBlocksOfOrderNineAndUp(t *testing.T) {
	n, err := FreeHugePages(buddyinfo)
	require.NoError(t, err)
	// Order 9 is one huge page, order 10 two; order 8 (904 in Normal) is
	// half of one and does not count.
	assert.Equal(t, (1+3*2)+(2+752*2)+(511+989*2), n)

	for _, bad := range []string{"", "Node 0, zone DMA\n", "Node 0, zone DMA 1 x 2\n", "Node 0, zone DMA 1 -2\n"} {
		_, err := FreeHugePages(bad)
		assert.Error(t, err, "%q", bad)
	}
}

func TestDecideMarksOnlyWhereTheProgramMustAsk(t *testing.T) {
	ok := System{Enabled: "always [madvise] never\n", PageSize: 4096, HugePageSize: HugePage, BuddyInfo: buddyinfo}
	const wanted = 208 << 20
	cases := []struct {
		name   string
		mutate func(*System)
		wanted int
		want   int
		reason string
	}{
		{"madvise mode, free huge pages", nil, wanted, wanted, "madvise"},
		{"always", func(s *System) { s.Enabled = "[always] madvise never" }, wanted, 0, `"always"`},
		{"never", func(s *System) { s.Enabled = "always madvise [never]" }, wanted, 0, `"never"`},
		{"no THP in the kernel", func(s *System) { s.Enabled = "" }, wanted, 0, "not available"},
		{"arm64 with pages of 64 KiB", func(s *System) { s.PageSize, s.HugePageSize = 64<<10, 512<<20 }, wanted, 0, "not 4 KiB and 2 MiB"},
		{"arm64 with pages of 16 KiB", func(s *System) { s.PageSize, s.HugePageSize = 16<<10, 32<<20 }, wanted, 0, "not 4 KiB and 2 MiB"},
		{"GODEBUG disablethp=1", func(s *System) { s.GODEBUG = "gctrace=0,disablethp=1" }, wanted, 0, "disablethp"},
		{"GODEBUG disablethp set back to 0", func(s *System) { s.GODEBUG = "disablethp=1,disablethp=0" }, wanted, wanted, "madvise"},
		{"twice the region free", func(s *System) {
			s.BuddyInfo = "Node 0, zone   Normal  0 0 0 0 0 0 0 0 0 0 100\n"
		}, 100 * HugePage, 100 * HugePage, "200 free"},
		{"fewer: half the free ones", func(s *System) {
			s.BuddyInfo = "Node 0, zone   Normal  0 0 0 0 0 0 0 0 0 1 99\n"
		}, 100 * HugePage, 99 * HugePage, "199 free"},
		{"too few free huge pages for the least region", func(s *System) {
			s.BuddyInfo = "Node 0, zone   Normal  13292   6515   3534   2632   2658   2514   1668   1341    904    11    10\n"
		}, wanted, 0, "compaction"},
		{"unreadable buddyinfo", func(s *System) { s.BuddyInfo = "garbage" }, wanted, 0, "no zones"},
	}
	for _, c := range cases {
		sys := ok
		if c.mutate != nil {
			c.mutate(&sys)
		}
		got, why := decide(sys, c.wanted)
		assert.Equal(t, c.want, got, c.name)
		assert.Contains(t, why, c.reason, c.name)
	}
}
