package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/cli"
	"obsgen.dev/obsgen/internal/testtools"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	t.Chdir(t.TempDir()) // no .obsgen.yaml of the repository's
	var out, errOut bytes.Buffer
	code := cli.VerifyMain(context.Background(), args, &out, &errOut, check)
	return code, out.String(), errOut.String()
}

// profilesDir is resolved before any test changes the working directory.
var profilesDir = func() string {
	p, err := filepath.Abs(filepath.Join("..", "..", "profiles"))
	if err != nil {
		panic(err)
	}
	return p
}()

func profile(_ *testing.T, name string) string { return filepath.Join(profilesDir, name) }

func TestTheExamplesVerify(t *testing.T) {
	code, out, errOut := run(t, profile(t, "strict-deny.yaml"), profile(t, "calico-global-deny.yaml"), profile(t, "ambient.yaml"))
	require.Equal(t, cli.ExitOK, code, errOut)
	for _, line := range []string{
		"strict-deny.yaml: prometheus/prometheus.yml loads in Prometheus\n",
		"strict-deny.yaml: operator/additional-scrape-configs.yaml loads in Prometheus as scrape configs\n",
		"strict-deny.yaml: prometheus/federation/global-scrape-config.yml loads in Prometheus as scrape configs\n",
		"strict-deny.yaml: alertmanager/alertmanager.yml loads in Alertmanager\n",
		"strict-deny.yaml: network: 110/110 required connections allowed, 51/51 forbidden connections denied (np-guard netpol-analyzer and Istio's mTLS and authorization); obsgen's evaluator agrees on 161 of 161 checks\n",
		"calico-global-deny.yaml: prometheus/prometheus-shard-1.yml loads in Prometheus\n",
		"calico-global-deny.yaml: prometheus/prometheus.yml (unsharded, the operator flavour's source) loads in Prometheus\n",
		"ambient.yaml: prometheus/prometheus.yml loads in Prometheus in agent mode\n",
	} {
		assert.Contains(t, out, line)
	}
}

// TestWhatOnlyTheUpstreamLoadersCatch: a setting obsgen does not write,
// with a value Prometheus refuses, passes generate's check; obsgen-verify
// finds it, names the profile and the file, and exits 1.
func TestWhatOnlyTheUpstreamLoadersCatch(t *testing.T) {
	dir := testtools.Override(t, "prometheus/_scrape-configs.tmpl", "    honor_labels: true\n", "    honor_labels: true\n    sample_limit: many\n")
	code, _, errOut := run(t, "--templates", dir, profile(t, "strict-deny.yaml"))
	require.Equal(t, cli.ExitFailed, code, errOut)
	assert.Regexp(t, `strict-deny.yaml: prometheus/prometheus.yml does not load in Prometheus: yaml: unmarshal errors: line \d+: cannot unmarshal !!str `+"`many`"+` into uint\n`, errOut)
	assert.True(t, strings.HasSuffix(errOut, "obsgen-verify: 1 problem(s) found\n"), errOut)

	dir = testtools.Override(t, "alertmanager/_receivers.tmpl", "\n{{- define \"am.receiver\" }}\n  - name: {{ yq .Name }}\n",
		"\n{{- define \"am.receiver\" }}\n  - name: {{ yq .Name }}\n    victorops_configs:\n      - api_key_file: /etc/k\n")
	code, _, errOut = run(t, "--templates", dir, profile(t, "strict-deny.yaml"))
	require.Equal(t, cli.ExitFailed, code, errOut)
	assert.Contains(t, errOut, "strict-deny.yaml: alertmanager/alertmanager.yml does not load in Alertmanager: missing Routing key in VictorOps config")
}

// TestVerifyFailsLikeValidate: the profile problems, the template errors
// and the command line errors of obsgen-verify are obsgen validate's.
func TestVerifyFailsLikeValidate(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("apiVersion: obsgen.dev/v1alpha1\nkind: Profile\nmetadata:\n  name: x\nmesh:\n  mtls: strict\n"), 0o644))
	code, out, errOut := run(t, bad)
	assert.Equal(t, cli.ExitFailed, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "bad.yaml:6:9: mesh.mtls: must be one of STRICT, PERMISSIVE, DISABLE")
	assert.Contains(t, errOut, "obsgen-verify: 1 problem(s) found; nothing was written\n")

	code, _, errOut = run(t)
	assert.Equal(t, cli.ExitUsage, code)
	assert.Contains(t, errOut, "obsgen-verify: no profile given")

	code, _, errOut = run(t, "--out", "x", profile(t, "strict-deny.yaml"))
	assert.Equal(t, cli.ExitUsage, code)
	assert.Contains(t, errOut, "obsgen-verify: unknown flag: --out")

	code, _, errOut = run(t, filepath.Join(t.TempDir(), "missing.yaml"))
	assert.Equal(t, cli.ExitUsage, code)
	assert.Contains(t, errOut, "obsgen-verify: read profile:")
}

// TestIstioctlJudgesTheIstioObjects: with istioctl, every Istio object of
// the profile passes istioctl validate and istioctl analyze offline; an
// istioctl that does not exist is a command-line error, and `none` skips
// the check without a note.
func TestIstioctlJudgesTheIstioObjects(t *testing.T) {
	istioctl := testtools.Find(t, "istioctl")
	code, out, errOut := run(t, "--istioctl", istioctl, profile(t, "admin-network-policy.yaml"))
	require.Equal(t, cli.ExitOK, code, errOut)
	for _, line := range []string{
		"admin-network-policy.yaml: istio/authorizationpolicies.yaml passes istioctl validate\n",
		"admin-network-policy.yaml: istio/secure-metrics-istiooperator.yaml passes istioctl validate\n",
		"admin-network-policy.yaml: 2 Istio object files pass istioctl analyze --use-kube=false\n",
	} {
		assert.Contains(t, out, line)
	}

	code, _, errOut = run(t, "--istioctl", filepath.Join(t.TempDir(), "istioctl"), profile(t, "admin-network-policy.yaml"))
	assert.Equal(t, cli.ExitUsage, code)
	assert.Contains(t, errOut, "--istioctl")

	code, out, errOut = run(t, "--istioctl", "none", profile(t, "admin-network-policy.yaml"))
	require.Equal(t, cli.ExitOK, code, errOut)
	assert.NotContains(t, out, "istioctl")
	assert.NotContains(t, errOut, "istioctl")
}
