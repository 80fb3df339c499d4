package verify

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"

	"obsgen.dev/obsgen/internal/reach"
)

// TestDisagreementsAreReported: a check the analyzer and obsgen's
// evaluator answer differently is a problem that names the connection
// and both answers.
func TestDisagreementsAreReported(t *testing.T) {
	pod := &reach.Pod{Name: "monitoring/pod-1", Namespace: "monitoring", Role: "prometheus", IP: netip.MustParseAddr("100.64.0.2")}
	check := reach.Check{Flow: "prometheus-scrapes-kubelet", From: reach.Endpoint{Pod: pod},
		To: reach.Endpoint{Addr: netip.MustParseAddr("10.0.0.1")}, Protocol: "TCP", Port: 10250, Want: true, Got: true}
	ref := &reach.Result{Checks: []reach.Check{check, check}}
	denied := check
	denied.Got = false
	ours := &reach.Result{Checks: []reach.Check{check, denied}}
	assert.Equal(t, []string{"network: monitoring/prometheus -> 10.0.0.1 TCP/10250 (prometheus-scrapes-kubelet): " +
		"np-guard netpol-analyzer says allowed, obsgen's evaluator denied"}, disagreements(ref, ours))
	assert.Empty(t, disagreements(ref, ref))
	assert.Len(t, disagreements(ref, &reach.Result{}), 1, "different checks")
}
