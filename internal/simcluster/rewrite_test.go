package simcluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery/kubernetes"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/testtools"
)

var testRewrite = RewriteOptions{
	APIServer: "http://127.0.0.1:1234", ScrapeInterval: "1s", ScrapeTimeout: "1s",
	PathPrefixes: map[string]string{ServiceAccountPath: "/tmp/sa/", PromCertsPath: "/tmp/certs/"},
}

// TestRewriteAdaptsTheGeneratedConfigs rewrites every committed Prometheus
// configuration under out/ and loads the result with Prometheus' own config
// package.
func TestRewriteAdaptsTheGeneratedConfigs(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testtools.RepoRoot(t), "out", "*", "prometheus", "*.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(filepath.Dir(filepath.Dir(file)))+"/"+filepath.Base(file), func(t *testing.T) {
			src, err := os.ReadFile(file)
			require.NoError(t, err)
			assertRewritten(t, string(src))
		})
	}
}

func assertRewritten(t *testing.T, src string) {
	t.Helper()
	out, err := Rewrite(src, testRewrite)
	require.NoError(t, err)
	assert.NotContains(t, out, ServiceAccountPath)
	assert.NotContains(t, out, PromCertsPath)
	before, err := config.Load(src, promslog.NewNopLogger())
	require.NoError(t, err)
	cfg, err := config.Load(out, promslog.NewNopLogger())
	require.NoError(t, err, out)
	assert.Equal(t, model.Duration(time.Second), cfg.GlobalConfig.ScrapeInterval)
	assert.Equal(t, model.Duration(time.Second), cfg.GlobalConfig.ScrapeTimeout)
	assert.Equal(t, before.GlobalConfig.ExternalLabels, cfg.GlobalConfig.ExternalLabels, "the rest is kept")
	require.Len(t, cfg.ScrapeConfigs, len(before.ScrapeConfigs))
	for _, sc := range cfg.ScrapeConfigs {
		assert.Equal(t, model.Duration(time.Second), sc.ScrapeInterval, sc.JobName)
		for _, sd := range sc.ServiceDiscoveryConfigs {
			if k, ok := sd.(*kubernetes.SDConfig); ok {
				assert.Equal(t, testRewrite.APIServer, k.APIServer.String(), sc.JobName)
			}
		}
		for _, f := range []string{sc.HTTPClientConfig.TLSConfig.CAFile, sc.HTTPClientConfig.TLSConfig.CertFile} {
			assert.True(t, f == "" || strings.HasPrefix(f, "/tmp/"), "%s: %s", sc.JobName, f)
		}
	}
	for _, am := range cfg.AlertingConfig.AlertmanagerConfigs {
		for _, sd := range am.ServiceDiscoveryConfigs {
			if k, ok := sd.(*kubernetes.SDConfig); ok {
				assert.Equal(t, testRewrite.APIServer, k.APIServer.String(), "alerting discovery too")
			}
		}
	}
}

func TestRewriteEditsTheYAMLTree(t *testing.T) {
	in := `
scrape_configs:
  - job_name: a
    scrape_interval: 1m
    kubernetes_sd_configs:
      - role: node
        kubeconfig_file: /home/x/.kube/config
    authorization:
      credentials_file: "/var/run/secrets/kubernetes.io/serviceaccount/token"
    tls_config: {ca_file: /etc/prom-certs/root-cert.pem, cert_file: /etc/prom-certs-other/x.pem}
  - job_name: b
    static_configs: [{targets: ["x:1"]}]
`
	out, err := Rewrite(in, testRewrite)
	require.NoError(t, err)
	want := `global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: a
    scrape_interval: 1s
    kubernetes_sd_configs:
      - role: node
        api_server: http://127.0.0.1:1234
    authorization:
      credentials_file: "/tmp/sa/token"
    tls_config: {ca_file: /tmp/certs/root-cert.pem, cert_file: /etc/prom-certs-other/x.pem}
  - job_name: b
    static_configs: [{targets: ["x:1"]}]
`
	assert.Equal(t, want, out)
}

func TestRewriteRejectsNonMappings(t *testing.T) {
	for _, in := range []string{"", "- a\n- b\n", "global: [1]\n", "a: [\n"} {
		_, err := Rewrite(in, testRewrite)
		assert.Error(t, err, "%q", in)
	}
}
