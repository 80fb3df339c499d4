package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/generators/alertmanager"
	"obsgen.dev/obsgen/internal/testtools"
)

// TestAmtoolChecksAndRoutesEveryAlertmanagerConfig runs the real amtool
// (built from the pinned Alertmanager module) on every example's
// alertmanager.yml: check-config accepts it, and `config routes test` sends
// each team's alerts, by severity, to the receiver the profile names, the
// platform team's to its receiver, and an alert without a known team to
// the root receiver.
func TestAmtoolChecksAndRoutesEveryAlertmanagerConfig(t *testing.T) {
	amtool := testtools.Find(t, "amtool")
	checked := 0
	for _, ex := range examples(t) {
		p := ex.result.Plan
		var data []byte
		for _, f := range ex.result.Files {
			if f.Path == alertmanager.Path {
				data = f.Data
			}
		}
		if p.Monitoring.Prometheus.Agent {
			assert.Nil(t, data, "%s: an agent sends no alerts", ex.file)
			continue
		}
		require.NotNil(t, data, ex.file)
		file := filepath.Join(t.TempDir(), "alertmanager.yml")
		require.NoError(t, os.WriteFile(file, data, 0o644))
		out, err := exec.Command(amtool, "check-config", file).CombinedOutput()
		require.NoError(t, err, "%s: amtool check-config:\n%s", ex.file, out)
		assert.Contains(t, string(out), "SUCCESS")
		checked++

		route := func(labels ...string) string {
			out, err := exec.Command(amtool, append([]string{"config", "routes", "test", "--config.file=" + file}, labels...)...).CombinedOutput()
			require.NoError(t, err, "%s: amtool config routes test %v:\n%s", ex.file, labels, out)
			return strings.TrimSpace(string(out))
		}
		for _, team := range p.Teams {
			for _, sev := range []string{"critical", "warning", "info"} {
				want := team.Receiver
				if r, ok := team.SeverityReceivers.Get(sev); ok {
					want = r
				}
				assert.Equal(t, want, route("alertname=KubePodCrashLooping", "team="+team.Name, "severity="+sev), "%s: team %s, %s", ex.file, team.Name, sev)
			}
		}
		assert.Equal(t, p.Alerting.Receiver, route("alertname=IstiodDown", "team="+p.Alerting.PlatformTeam, "severity=critical"), ex.file)
		assert.Equal(t, p.Alerting.Receiver, route("alertname=Custom", "team=unknown-team"), ex.file)
	}
	assert.GreaterOrEqual(t, checked, 3, "examples with an Alertmanager configuration")
}
