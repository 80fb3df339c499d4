package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/profile"
)

// run calls Main in dir and returns exit code, stdout and stderr.
func run(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	t.Chdir(dir)
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, &out, &errOut)
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

// exampleProfile is the bundled example, which generate writes without a
// profile only in a clone of obsgen.
var exampleProfile = filepath.Join(profilesDir, "default-permissive.yaml")

func repoProfile(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join(profilesDir, name)
}

func TestGenerateWithoutArgumentsUsesTheBundledDefaultInObsgensClone(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := run(t, dir, "generate")
	assert.Equal(t, ExitUsage, code, "outside obsgen's clone, generate asks for a profile")
	assert.Contains(t, errOut, "no profile given")
	assert.NoDirExists(t, filepath.Join(dir, "out"))

	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module obsgen.dev/obsgen\n\ngo 1.26\n"), 0o644))
	code, out, errOut := run(t, dir, "generate")
	require.Equal(t, ExitOK, code, errOut)
	assert.Regexp(t, regexp.QuoteMeta(filepath.Join("out", "default-permissive"))+`: [1-9]\d* written, 0 unchanged, 0 pruned`, out)
	assert.FileExists(t, filepath.Join(dir, "out", "default-permissive", "prometheus", "prometheus.yml"))

	// The clone's other examples are not the example's orphans.
	code, _, errOut = run(t, dir, "generate", "--out", "out", repoProfile(t, "strict-deny.yaml"))
	require.Equal(t, ExitOK, code, errOut)
	code, out, errOut = run(t, dir, "generate")
	require.Equal(t, ExitOK, code)
	assert.Regexp(t, `: 0 written, [1-9]\d* unchanged, 0 pruned`, out, "a second run rewrites nothing")
	assert.NotContains(t, errOut, "orphan")
	assert.NotContains(t, errOut, "no given profile produces")
}

func TestCheckExitsThreeWithADiffWhenStale(t *testing.T) {
	dir := t.TempDir()
	strict := repoProfile(t, "strict-deny.yaml")
	code, _, errOut := run(t, dir, "generate", "--out", "gen", strict)
	require.Equal(t, ExitOK, code, errOut)

	code, out, _ := run(t, dir, "generate", "--check", "--out", "gen", strict)
	assert.Equal(t, ExitOK, code, "fresh output is not stale")
	assert.Empty(t, out)

	cfg := filepath.Join(dir, "gen", "strict-deny", "prometheus", "prometheus.yml")
	data, err := os.ReadFile(cfg)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cfg, bytes.Replace(data, []byte("scrape_interval: 30s"), []byte("scrape_interval: 1m"), 1), 0o644))
	require.NoError(t, os.Remove(filepath.Join(dir, "gen", "strict-deny", "kustomization.yaml")))

	code, out, errOut = run(t, dir, "generate", "--check", "--out", "gen", strict)
	assert.Equal(t, ExitDrift, code)
	assert.Contains(t, out, "-  scrape_interval: 1m\n+  scrape_interval: 30s\n")
	assert.Contains(t, out, "+ new   "+filepath.Join("gen", "strict-deny", "kustomization.yaml"))
	assert.Contains(t, errOut, "stale")
	after, _ := os.ReadFile(cfg)
	assert.Contains(t, string(after), "scrape_interval: 1m", "--check writes nothing")
}

func TestInvalidProfilesReportEveryProblemAndWriteNothing(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte(`apiVersion: obsgen.dev/v1alpha1
kind: Profile
metadata:
  name: bad
mesh:
  mtls: strict
teams:
  - name: a
    namespace: [a]
    services:
      - {name: s, namespace: a, port: 70000}
`), 0o644))
	for _, cmd := range []string{"generate", "validate"} {
		code, _, errOut := run(t, dir, cmd, repoProfile(t, "ambient.yaml"), "bad.yaml")
		assert.Equal(t, ExitFailed, code)
		assert.Equal(t, `bad.yaml:6:9: mesh.mtls: must be one of STRICT, PERMISSIVE, DISABLE (got "strict"); hint: did you mean "STRICT"?
bad.yaml:9:5: teams[0].namespace: unknown field; hint: did you mean "namespaces"?
bad.yaml:11:30: teams[0].services[0].namespace: no team owns namespace "a"; hint: add it to teams[0].namespaces
bad.yaml:11:39: teams[0].services[0].port: must be 1..65535 (got 70000)
obsgen: 4 problem(s) found; nothing was written
`, errOut)
		assert.NoDirExists(t, filepath.Join(dir, "out"), "a bad profile stops every profile from being written")
	}
}

func TestValidateReportsTheStrategyAndTheProof(t *testing.T) {
	code, out, errOut := run(t, t.TempDir(), "validate", repoProfile(t, "strict-deny.yaml"))
	require.Equal(t, ExitOK, code, errOut)
	assert.Regexp(t, `strict-deny.yaml: ok: scrape strategy istio-certs, 10 scrape jobs, \d+ files\n`, out)
	assert.Regexp(t, `strict-deny.yaml: network: 110/110 required connections allowed, 51/51 forbidden connections denied \(Kubernetes NetworkPolicy semantics \(obsgen's compiled evaluator; obsgen-verify proves the policies again with np-guard netpol-analyzer\) and Istio.s mTLS and authorization\)\n$`, out)

	code, out, errOut = run(t, t.TempDir(), "validate", repoProfile(t, "admin-network-policy.yaml"))
	require.Equal(t, ExitOK, code, errOut)
	assert.Regexp(t, `admin-network-policy.yaml: network: 95/95 required connections allowed, 27/27 forbidden connections denied \(AdminNetworkPolicy semantics \(obsgen's evaluator of AdminNetworkPolicies, NetworkPolicies and the BaselineAdminNetworkPolicy; obsgen-verify proves the policies again with np-guard netpol-analyzer\) and Istio.s mTLS and authorization\)\n$`, out)
}

func TestTwoProfilesWithOneNameAreRejected(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(repoProfile(t, "ambient.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "copy.yaml"), data, 0o644))
	code, _, errOut := run(t, dir, "generate", repoProfile(t, "ambient.yaml"), "copy.yaml")
	assert.Equal(t, ExitFailed, code)
	assert.Contains(t, errOut, `copy.yaml:8:9: metadata.name: "ambient" is also the name of`)
}

func TestSettingsComeFromFlagsThenEnvThenFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".obsgen.yaml"), []byte("out: from-file\n"), 0o644))
	code, _, errOut := run(t, dir, "generate", exampleProfile)
	require.Equal(t, ExitOK, code, errOut)
	assert.DirExists(t, filepath.Join(dir, "from-file", "default-permissive"))

	t.Setenv("OBSGEN_OUT", "from-env")
	code, _, _ = run(t, dir, "generate", exampleProfile)
	require.Equal(t, ExitOK, code)
	assert.DirExists(t, filepath.Join(dir, "from-env", "default-permissive"))

	code, _, _ = run(t, dir, "generate", "--out", "from-flag", exampleProfile)
	require.Equal(t, ExitOK, code)
	assert.DirExists(t, filepath.Join(dir, "from-flag", "default-permissive"))
}

func TestUnknownSettingsAndFlagsAreUsageErrors(t *testing.T) {
	dir := t.TempDir()
	code, _, errOut := run(t, dir, "generate", "--nope")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, "unknown flag: --nope")

	require.NoError(t, os.WriteFile(filepath.Join(dir, ".obsgen.yaml"), []byte("outt: x\n"), 0o644))
	code, _, errOut = run(t, dir, "generate")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, `unknown setting "outt"`)
}

func TestInitPrintsAValidProfileForEveryCombination(t *testing.T) {
	for _, mode := range v1alpha1.MTLSMode("").Values() {
		for _, stance := range v1alpha1.NetworkStance("").Values() {
			for _, plane := range v1alpha1.DataPlane("").Values() {
				code, out, errOut := run(t, t.TempDir(), "init", "--mtls", mode, "--network", stance, "--data-plane", plane)
				require.Equal(t, ExitOK, code, "%s %s %s: %s", mode, stance, plane, errOut)
				l, err := profile.Load("init.yaml", []byte(out))
				require.NoError(t, err)
				assert.Empty(t, l.Warnings, "%s %s %s: the starter profile warns", mode, stance, plane)
				assert.Equal(t, v1alpha1.MTLSMode(mode), l.Profile.Mesh.MTLS)
				assert.Equal(t, v1alpha1.NetworkStance(stance), l.Profile.Network.Stance)
			}
		}
	}
	code, _, errOut := run(t, t.TempDir(), "init", "--network", "deny-all")
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errOut, `--network "deny-all": must be one of open, default-deny, global-deny`)
}

func TestTemplatesDumpAndOverride(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := run(t, dir, "templates", "dump", "tmpl")
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, filepath.Join("tmpl", "prometheus", "prometheus.yml.tmpl"))

	code, _, errOut = run(t, dir, "templates", "dump", "tmpl")
	assert.Equal(t, ExitFailed, code, "dump never overwrites")
	assert.Contains(t, errOut, "exists")

	kust := filepath.Join(dir, "tmpl", "kustomization.yaml.tmpl")
	require.NoError(t, os.WriteFile(kust, []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n# overridden {{ .Plan.Nme }}\n"), 0o644))
	code, _, errOut = run(t, dir, "generate", "--templates", "tmpl", exampleProfile)
	assert.Equal(t, ExitFailed, code)
	assert.Contains(t, errOut, filepath.Join("tmpl", "kustomization.yaml.tmpl")+":3:21: ")
	assert.Contains(t, errOut, "Nme")
	assert.NoDirExists(t, filepath.Join(dir, "out"))

	require.NoError(t, os.WriteFile(kust, []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n# overridden for {{ .Plan.Name }}\n"), 0o644))
	t.Setenv("OBSGEN_TEMPLATES", "tmpl")
	code, _, errOut = run(t, dir, "generate", exampleProfile)
	require.Equal(t, ExitOK, code, errOut)
	got, err := os.ReadFile(filepath.Join(dir, "out", "default-permissive", "kustomization.yaml"))
	require.NoError(t, err)
	assert.Contains(t, string(got), "# overridden for default-permissive")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "tmpl", "typo.yaml.tmpl"), []byte("x"), 0o644))
	code, _, errOut = run(t, dir, "generate", exampleProfile)
	assert.Equal(t, ExitFailed, code)
	assert.Contains(t, errOut, "has no built-in template of that name")
}

func TestSchemaAndExplain(t *testing.T) {
	code, out, _ := run(t, t.TempDir(), "schema")
	require.Equal(t, ExitOK, code)
	assert.True(t, strings.HasPrefix(out, "{\n  \"$schema\""))

	code, out, errOut := run(t, t.TempDir(), "explain", "scrape", repoProfile(t, "strict-deny.yaml"))
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "Scrape strategy istio-certs: metrics merging is off and mTLS is STRICT")
	assert.Contains(t, out, "\npayments/checkout\n  scrapes https on port 8080, path /metrics with Istio certificates\n")
	assert.Contains(t, out, "\nenvoy-stats\n  scrapes http on port 15090, path /stats/prometheus\n")

	code, out, errOut = run(t, t.TempDir(), "explain", "scrape", repoProfile(t, "admin-network-policy.yaml"))
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "Scrape strategy secure-port: mTLS is STRICT, metrics merging is on and Istio 1.31 has mTLS metrics listeners")
	assert.Contains(t, out, "\nWhat the cluster needs for it:\n  - Istio 1.31 or later on every proxy")
	assert.Contains(t, out, "istio/secure-metrics-values.yaml")
	assert.Contains(t, out, "\nistio-merged\n  scrapes https on port 15092, path /stats/prometheus with Istio certificates\n")
	assert.NotContains(t, out, "\nenvoy-stats\n", ":15090 answers localhost only")

	code, out, errOut = run(t, t.TempDir(), "explain", "scrape", repoProfile(t, "calico-global-deny.yaml"))
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "\nistio-gateways\n  scrapes http on port 15020, path /stats/prometheus\n")
	assert.Contains(t, out, "\n  gateway=egress: pods istio=egressgateway in namespace istio-egress\n")
	assert.Contains(t, out, "scrape-gateway-egress")

	code, out, errOut = run(t, t.TempDir(), "explain", "scrape", repoProfile(t, "ambient.yaml"))
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "\nistio-waypoints\n  scrapes http on port 15020, path /stats/prometheus\n")
	assert.Contains(t, out, "\n  waypoint=waypoint: pods gateway.networking.k8s.io/gateway-name=waypoint in namespace media\n    flows: hbone-in-media, hbone-out-media, scrape-waypoint-media-waypoint\n")
}

// warnedProfile loads, but routes its team's alerts and the Watchdog to
// receivers it never defines.
const warnedProfile = `apiVersion: obsgen.dev/v1alpha1
kind: Profile
metadata:
  name: warned
alerting:
  receivers:
    - name: platform
      slack: {channel: "#platform"}
teams:
  - name: web
    namespaces: [web]
`

const warnedOutput = `warned.yaml:6:3: warning: alerting.watchdog.receiver: receiver "watchdog" (the default) is not defined in alerting.receivers: ` +
	`the Watchdog alert (the dead man's switch) goes nowhere, so nothing notices when alerting stops; hint: define it in alerting.receivers ` +
	`with an integration for a heartbeat service, such as {name: watchdog, webhook: {sendResolved: false}} with the service's URL in the Secret key watchdog.webhook-url
warned.yaml:10:5: warning: teams[0].alerting.receiver: receiver "web" (the team's name) is not defined in alerting.receivers: ` +
	`the alerts of team web reach nobody; hint: define it in alerting.receivers with slack, pagerduty, opsgenie, webhook, email or msteams, ` +
	`or route to a receiver defined there
`

// Warnings go to stderr and change nothing else: validate passes and
// generate writes.
func TestWarningsArePrintedWithoutFailing(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "warned.yaml"), []byte(warnedProfile), 0o644))
	for _, cmd := range []string{"validate", "generate"} {
		code, out, errOut := run(t, dir, cmd, "warned.yaml")
		assert.Equal(t, ExitOK, code, cmd)
		assert.Equal(t, warnedOutput+"obsgen: 2 warning(s); --strict makes them errors\n", errOut, cmd)
		assert.NotContains(t, out, "warning", "%s: warnings go to stderr", cmd)
	}
	assert.FileExists(t, filepath.Join(dir, "out", "warned", "alertmanager", "alertmanager.yml"))
}

// --strict (or OBSGEN_STRICT, or strict: in the settings file) makes the
// same warnings fail both commands with a validation error's exit code,
// and nothing is written.
func TestStrictTurnsWarningsIntoAFailure(t *testing.T) {
	tests := map[string]struct {
		args     []string
		env      string
		settings string
	}{
		"validate --strict":         {args: []string{"validate", "--strict", "warned.yaml"}},
		"generate --strict":         {args: []string{"generate", "--strict", "warned.yaml"}},
		"generate --check --strict": {args: []string{"generate", "--check", "--strict", "warned.yaml"}},
		"OBSGEN_STRICT=true":        {args: []string{"generate", "warned.yaml"}, env: "true"},
		"strict: true in settings":  {args: []string{"validate", "warned.yaml"}, settings: "strict: true\n"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "warned.yaml"), []byte(warnedProfile), 0o644))
			if tc.settings != "" {
				require.NoError(t, os.WriteFile(filepath.Join(dir, ".obsgen.yaml"), []byte(tc.settings), 0o644))
			}
			if tc.env != "" {
				t.Setenv("OBSGEN_STRICT", tc.env)
			}

			code, out, errOut := run(t, dir, tc.args...)

			assert.Equal(t, ExitFailed, code)
			assert.Equal(t, warnedOutput+"obsgen: 2 warning(s) found with --strict; nothing was written\n", errOut)
			assert.Empty(t, out)
			assert.NoDirExists(t, filepath.Join(dir, "out"))
		})
	}
}

// A profile without warnings passes --strict.
func TestStrictPassesAProfileWithoutWarnings(t *testing.T) {
	code, _, errOut := run(t, t.TempDir(), "validate", "--strict", repoProfile(t, "strict-deny.yaml"))
	assert.Equal(t, ExitOK, code, errOut)
	assert.Empty(t, errOut)
}

func TestExplainRulesTellsWhereEachGroupRuns(t *testing.T) {
	code, out, errOut := run(t, t.TempDir(), "explain", "rules", repoProfile(t, "calico-global-deny.yaml"))
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "each shard holds part of the series, and the Mimir ruler reads the store")
	assert.Regexp(t, `\nobsgen-kubernetes-workloads +prometheus +10 +0\n`, out, "single-series alerts on every shard")
	assert.Regexp(t, `\nobsgen-slo-orders-order-api +Mimir ruler +2 +18\n`, out, "objectives on the ruler")
	assert.NotRegexp(t, `\nobsgen-slo-\S+ +prometheus`, out)

	code, out, errOut = run(t, t.TempDir(), "explain", "rules", repoProfile(t, "ambient.yaml"))
	require.Equal(t, ExitOK, code, errOut)
	assert.Contains(t, out, "The agent evaluates nothing")
	assert.Contains(t, out, `reporter="waypoint"`)
	assert.NotRegexp(t, `\n\S+ +prometheus +`, out, "an agent evaluates no group")
}

func TestAWrongNumberOfArgumentsIsAUsageError(t *testing.T) {
	for _, args := range [][]string{{"validate"}, {"explain", "scrape"}, {"schema", "extra"}, {"init", "extra"}, {"templates", "dump"}} {
		code, _, errOut := run(t, t.TempDir(), args...)
		assert.Equal(t, ExitUsage, code, "%v: %s", args, errOut)
		assert.Regexp(t, `^obsgen: (accepts|requires|unknown command|no profile given).*\n$`, errOut, "%v", args)
	}
}
