package v1alpha1_test

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/profile"
)

// TestPackageExampleIsAValidProfile keeps the example in the package
// comment honest: it must load, and it must set every field.
func TestPackageExampleIsAValidProfile(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	require.NoError(t, err)
	var example []string
	for _, line := range strings.Split(f.Doc.Text(), "\n") {
		if rest, ok := strings.CutPrefix(line, "\t"); ok {
			example = append(example, rest)
		}
	}
	require.NotEmpty(t, example)
	l, err := profile.Load("doc.go example", []byte(strings.Join(example, "\n")))
	require.NoError(t, err)
	assert.Empty(t, l.Warnings, "the example should be a profile to copy, without warnings")
	p := l.Profile
	assert.Equal(t, v1alpha1.MTLSStrict, p.Mesh.MTLS)
	assert.Equal(t, 99.0, p.Teams[0].Services[0].SLOs.Latency.Target)
	for _, path := range []string{"cluster.podCIDR", "mesh.scrapeStrategy", "monitoring.nodeExporter.port",
		"network.dns.podLabels", "teams[0].alerting.severityReceivers", "teams[0].services[0].slos.latency.thresholdMs",
		"monitoring.prometheus.externalLabels", "monitoring.prometheus.evaluationInterval",
		"dashboards.grafanaOperator.instanceLabels", "dashboards.extraRows[0].panels[0].queries[0].legend",
		"alerting.groupBy", "alerting.overrides", "alerting.secret", "alerting.receivers[0].slack.channel",
		"alerting.receivers[1].pagerduty.url", "alerting.receivers[2].opsgenie.apiURL", "alerting.receivers[2].email.requireTLS",
		"alerting.receivers[3].msteams.sendResolved", "alerting.receivers[4].webhook.sendResolved", "alerting.watchdog.repeatInterval"} {
		assert.Contains(t, l.Positions, path, "the example should show %s", path)
	}
}
