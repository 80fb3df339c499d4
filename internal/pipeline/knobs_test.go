package pipeline

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/diag"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/templates"
)

// TestKnobsOnAlertsNotGeneratedWarn: with istio-csr as the CA istiod
// exports no citadel_server_* metrics, so obsgen leaves out the two alerts
// that read them. A profile that still disables or overrides them gets a
// warning at the entry (it tunes nothing); knobs on alerts that are
// generated, and an unknown name (an error of the profile's own), get none.
func TestKnobsOnAlertsNotGeneratedWarn(t *testing.T) {
	data, err := os.ReadFile("../../profiles/strict-deny.yaml")
	require.NoError(t, err)
	knobs := "alerting:\n" +
		"  disable: [KubePodCrashLooping, IstiodCertificateSigningErrors]\n" +
		"  overrides:\n" +
		"    IstioRootCertificateExpiring: {for: 2h}\n" +
		"    TargetDown: {for: 20m}\n"
	require.Equal(t, 1, strings.Count(string(data), "\nalerting:\n"))
	profile := strings.Replace(string(data), "\nalerting:\n", "\n"+knobs, 1)
	lines := strings.Split(profile, "\n")
	lineOf := func(s string) int {
		for i, l := range lines {
			if strings.Contains(l, s) {
				return i + 1
			}
		}
		t.Fatalf("no line holds %q", s)
		return 0
	}

	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	res, err := Run("knobs.yaml", []byte(profile), engine)
	require.NoError(t, err)
	var idle []diag.Diagnostic
	for _, w := range res.Loaded.Warnings {
		if strings.Contains(w.Message, "changes nothing") {
			idle = append(idle, w)
		}
	}
	require.Len(t, idle, 2, "%v", res.Loaded.Warnings)
	assert.Equal(t, "alerting.disable[1]", idle[0].Path)
	assert.Equal(t, lineOf("disable: [KubePodCrashLooping"), idle[0].Pos.Line)
	assert.Contains(t, idle[0].Message, "no IstiodCertificateSigningErrors")
	assert.Equal(t, `alerting.overrides["IstioRootCertificateExpiring"]`, idle[1].Path)
	assert.Equal(t, lineOf("IstioRootCertificateExpiring: {for"), idle[1].Pos.Line)
	assert.Equal(t, "knobs.yaml", idle[1].File)
	assert.Equal(t, diag.Warning, idle[1].Severity)

	// Without istio-csr both alerts exist and the same knobs are quiet.
	withCA := strings.Replace(profile, "  istioCSR:\n    namespace: cert-manager\n", "", 1)
	require.NotEqual(t, profile, withCA)
	res, err = Run("knobs.yaml", []byte(withCA), engine)
	require.NoError(t, err)
	for _, w := range res.Loaded.Warnings {
		assert.NotContains(t, w.Message, "changes nothing")
	}
}
