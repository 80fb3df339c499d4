package e2e

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/diag"
	"obsgen.dev/obsgen/internal/pipeline"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/internal/testtools"
	"obsgen.dev/obsgen/templates"
)

// variant is one generated prometheus.yml.
type variant struct {
	name   string
	config []byte
}

// strategyVariants generates prometheus.yml for every example profile under
// every strategy, mTLS mode and metrics-merging setting that validates
// (invalid combinations are validation errors, tested elsewhere), and
// without a mesh.
func strategyVariants(t *testing.T) (map[string]variant, map[string]int) {
	t.Helper()
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	out := map[string]variant{}
	perStrategy := map[string]int{}
	for _, ex := range examples(t) {
		for _, mesh := range []v1alpha1.MeshProvider{v1alpha1.MeshIstio, v1alpha1.MeshNone} {
			for _, s := range v1alpha1.ScrapeStrategy("").Values() {
				for _, mode := range v1alpha1.MTLSMode("").Values() {
					for _, merging := range []bool{true, false} {
						p := *ex.result.Loaded.Profile
						p.Mesh.Provider, p.Mesh.ScrapeStrategy, p.Mesh.MTLS, p.Mesh.MetricsMerging = mesh, v1alpha1.ScrapeStrategy(s), v1alpha1.MTLSMode(mode), &merging
						p.Monitoring.Flavours = []v1alpha1.Flavour{v1alpha1.FlavourPrometheus}
						data, err := yaml.Marshal(&p)
						require.NoError(t, err)
						res, err := pipeline.Run(ex.file, data, engine)
						var diags diag.List
						if errors.As(err, &diags) {
							continue // a combination validation rejects
						}
						require.NoError(t, err)
						cfg := res.Files[0].Data
						key := fmt.Sprintf("%x", sha256.Sum256(cfg))
						perStrategy[string(res.Plan.Scrape.Strategy)]++
						out[key] = variant{name: strings.Join([]string{res.Plan.Name, string(mesh), s, mode}, "/"), config: cfg}
					}
				}
			}
		}
	}
	return out, perStrategy
}

// TestPromtoolAcceptsEveryVariant runs the real promtool, built from the same
// Prometheus module obsgen links, on every generated configuration: once on
// the exact bytes (--syntax-only: the service-account token and Istio
// certificates exist only inside a cluster), and once in full with those
// absolute paths pointed at files that exist, so the full check (files,
// rule globs, lint) runs too.
func TestPromtoolAcceptsEveryVariant(t *testing.T) {
	promtool := testtools.Find(t, "promtool")
	variants, perStrategy := strategyVariants(t)
	for _, s := range []string{"merged", "istio-certs", "permissive-port", "direct"} {
		assert.Positive(t, perStrategy[s], "no valid variant exercised strategy %s", s)
	}
	dir := t.TempDir()
	secrets := fakeClusterFiles(t, dir)
	var exact, full []string
	for key, v := range variants {
		name := filepath.Join(dir, sanitize(v.name)+"-"+key[:8])
		require.NoError(t, os.MkdirAll(name, 0o755))
		exact = append(exact, writeFile(t, filepath.Join(name, "prometheus.yml"), v.config))
		full = append(full, writeFile(t, filepath.Join(name, "prometheus-local.yml"), []byte(secrets.Replace(string(v.config)))))
	}
	t.Logf("%d distinct configurations", len(variants))
	runPromtool(t, promtool, append([]string{"check", "config", "--syntax-only"}, exact...))
	runPromtool(t, promtool, append([]string{"check", "config"}, full...))
}

func runPromtool(t *testing.T, promtool string, args []string) {
	t.Helper()
	out, err := exec.Command(promtool, args...).CombinedOutput()
	require.NoError(t, err, "promtool %s:\n%s", args[:2], out)
	assert.NotContains(t, string(out), "FAILED")
	assert.Equal(t, len(args)-countFlags(args)-2, strings.Count(string(out), "SUCCESS"), string(out))
}

func countFlags(args []string) int {
	n := 0
	for _, a := range args {
		if strings.HasPrefix(a, "--") {
			n++
		}
	}
	return n
}

// fakeClusterFiles creates the in-cluster files the config names and returns
// a replacer that points the config at them.
func fakeClusterFiles(t *testing.T, dir string) *strings.Replacer {
	t.Helper()
	sa := filepath.Join(dir, "serviceaccount")
	certs := filepath.Join(dir, "prom-certs") + "/"
	require.NoError(t, os.MkdirAll(sa, 0o755))
	require.NoError(t, os.MkdirAll(certs, 0o755))
	for _, f := range []string{filepath.Join(sa, "token"), filepath.Join(sa, "ca.crt"),
		certs + "root-cert.pem", certs + "cert-chain.pem", certs + "key.pem", // the cert-writing sidecar's
		certs + "ca.crt", certs + "tls.crt", certs + "tls.key"} { // a cert-manager Secret's
		writeFile(t, f, []byte("placeholder\n"))
	}
	return strings.NewReplacer("/var/run/secrets/kubernetes.io/serviceaccount", sa, "/etc/prom-certs/", certs)
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	require.NoError(t, os.WriteFile(name, data, 0o644))
	return name
}

func sanitize(s string) string { return strings.NewReplacer("/", "_", " ", "_").Replace(s) }

// TestPromtoolAcceptsEveryRuleFile runs the real promtool check rules on
// every rule file the example profiles generate.
func TestPromtoolAcceptsEveryRuleFile(t *testing.T) {
	promtool := testtools.Find(t, "promtool")
	dir := t.TempDir()
	var files []string
	for _, ex := range examples(t) {
		for _, f := range ex.result.Files {
			if strings.HasPrefix(f.Path, "prometheus/rules/") {
				files = append(files, writeFile(t, filepath.Join(dir, ex.result.Plan.Name+"-"+filepath.Base(f.Path)), f.Data))
			}
		}
	}
	require.NotEmpty(t, files, "the examples generate rule files")
	runPromtool(t, promtool, append([]string{"check", "rules"}, files...))
}
