package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestObsgenLinksNoHeavyCheck keeps the checks that need most of a binary
// (Prometheus' loader and its service discoveries, Alertmanager's loader
// and its notifiers, np-guard's netpol-analyzer and client-go) in
// obsgen-verify, and obsgen's import graph small.
func TestObsgenLinksNoHeavyCheck(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	require.NoError(t, err)
	deps := strings.Fields(string(out))
	for _, heavy := range []string{
		"github.com/prometheus/prometheus/config",
		"github.com/prometheus/prometheus/discovery",
		"github.com/prometheus/alertmanager/config",
		"github.com/prometheus/alertmanager/notify",
		"github.com/np-guard/netpol-analyzer/pkg/netpol/eval",
		"k8s.io/client-go/kubernetes",
		"github.com/aws/aws-sdk-go-v2/aws",
		"google.golang.org/api/option",
		"github.com/Azure/azure-sdk-for-go/sdk/azcore",
	} {
		assert.NotContains(t, deps, heavy)
	}
	assert.LessOrEqual(t, len(deps), 700, "packages linked into obsgen")
	t.Logf("obsgen links %d packages", len(deps))
}
