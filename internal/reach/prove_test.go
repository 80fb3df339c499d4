package reach

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
)

type panicky struct{}

func (panicky) Name() string { return "a model that panics" }
func (panicky) Allowed(Endpoint, Endpoint, string, int) (bool, error) {
	panic("index out of range")
}

// TestAPanicInAModelBecomesAnError: a dependency's panic (the analyzer's,
// say) never escapes the proof; it says which connection was being
// checked.
func TestAPanicInAModelBecomesAnError(t *testing.T) {
	p := plan.Resolve(&v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind, Metadata: v1alpha1.Metadata{Name: "m"},
		Cluster: v1alpha1.Cluster{APIServerCIDRs: []string{"10.0.0.1/32"}, NodeCIDRs: []string{"10.1.0.0/16"}},
		Network: v1alpha1.Network{Stance: v1alpha1.StanceDefaultDeny}})
	c, err := NewCluster(p)
	require.NoError(t, err)
	_, err = Prove(c, panicky{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "a model that panics evaluating")
	assert.Contains(t, err.Error(), "index out of range")
}

// TestAddrPlusStepsAsNextDoes: pods are numbered by arithmetic rather than
// one Next at a time; both must give every pod the same address.
func TestAddrPlusStepsAsNextDoes(t *testing.T) {
	for _, start := range []string{"100.64.0.0", "10.254.255.250", "fd00:64::", "fd00:64::ffff:ffff:ffff:fffe"} {
		want := netip.MustParseAddr(start)
		for n := range 300 {
			require.Equal(t, want, addrPlus(netip.MustParseAddr(start), n), "%s + %d", start, n)
			want = want.Next()
		}
	}
}
