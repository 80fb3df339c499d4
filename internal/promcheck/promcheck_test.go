package promcheck

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/testtools"
)

// prometheusAccepts loads a configuration with Prometheus' own loader
// (every discovery registered, see settings_test.go), with the checks of
// prometheus --agent in agent mode.
func prometheusAccepts(t *testing.T, data string, agent bool) error {
	t.Helper()
	if !agent {
		_, err := promconfig.Load(data, promslog.NewNopLogger())
		return err
	}
	file := filepath.Join(t.TempDir(), "prometheus.yml")
	require.NoError(t, os.WriteFile(file, []byte(data), 0o644))
	_, err := promconfig.LoadFile(file, true, promslog.NewNopLogger())
	return err
}

func example(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testtools.RepoRoot(t), "out", path))
	require.NoError(t, err)
	return string(data)
}

// TestTheCheckAgreesWithPrometheus: on the committed configurations and on
// mistakes a template can make, the cheap check accepts what Prometheus'
// loader accepts and refuses what it refuses. The cases where the check
// is knowingly weaker are in TestWhatOnlyPrometheusChecks.
func TestTheCheckAgreesWithPrometheus(t *testing.T) {
	server := example(t, "strict-deny/prometheus/prometheus.yml")
	agent := example(t, "ambient/prometheus/prometheus.yml")
	shard := example(t, "calico-global-deny/prometheus/prometheus-shard-1.yml")
	job := "  - job_name: \"kubelet\"\n"
	relabel := "      - source_labels: [__meta_kubernetes_node_name]\n        target_label: node\n"
	for name, tc := range map[string]struct {
		config string
		agent  bool
		want   string // "" when both accept; else a part of obsgen's message
	}{
		"a raw configuration":   {config: server},
		"an agent":              {config: agent, agent: true},
		"a shard":               {config: shard},
		"an unknown top field":  {config: server + "\nscrape_config: []\n", want: "field scrape_config not found"},
		"an unknown global":     {config: testtools.Edit(t, server, "  scrape_interval:", "  scrape_intervall: 1m\n  scrape_interval:"), want: "scrape_intervall"},
		"an unknown job field":  {config: testtools.Edit(t, server, job, job+"    metric_path: /x\n"), want: "field metric_path not found in a scrape config"},
		"an unknown relabeling": {config: testtools.Edit(t, server, relabel, relabel+"        regx: x\n"), want: "field regx not found"},
		"a bad regular expression": {config: testtools.Edit(t, server, relabel, relabel+"        regex: \"(a\"\n"),
			want: "error parsing regexp"},
		"a bad relabel action": {config: testtools.Edit(t, server, relabel, relabel+"        action: rename\n"), want: `unknown relabel action "rename"`},
		"hashmod without a modulus": {config: testtools.Edit(t, server, relabel, relabel+"      - source_labels: [__address__]\n        target_label: __tmp_hash\n        action: hashmod\n"),
			want: "requires non-zero modulus"},
		"replace without a target": {config: testtools.Edit(t, server, relabel, relabel+"      - source_labels: [__address__]\n        action: replace\n"),
			want: "requires 'target_label'"},
		"keepequal with a regex (even the default)": {config: testtools.Edit(t, server, relabel, relabel+"      - source_labels: [__address__]\n        target_label: x\n        regex: (.*)\n        action: keepequal\n"),
			want: "requires only 'source_labels'"},
		"keepequal without a regex": {config: testtools.Edit(t, server, relabel, relabel+"      - source_labels: [__address__]\n        target_label: x\n        action: keepequal\n")},
		"a null regex":              {config: testtools.Edit(t, server, relabel, relabel+"      - source_labels: [__address__]\n        target_label: x\n        regex: null\n")},
		"a regex that is a number":  {config: testtools.Edit(t, server, relabel, relabel+"      - source_labels: [__address__]\n        target_label: x\n        regex: 0\n")},
		"a null action": {config: testtools.Edit(t, server, relabel, relabel+"      - source_labels: [__address__]\n        target_label: x\n        action: null\n"),
			want: "relabel action cannot be empty"},
		"an action in capitals": {config: testtools.Edit(t, server, relabel, relabel+"      - source_labels: [__address__]\n        target_label: x\n        action: Replace\n")},
		"a null separator":      {config: testtools.Edit(t, server, relabel, relabel+"      - source_labels: [__address__, job]\n        target_label: x\n        separator: null\n")},
		"a null replacement":    {config: testtools.Edit(t, server, relabel, relabel+"      - source_labels: [__address__]\n        target_label: x\n        replacement: null\n")},
		"one bad regex twice": {config: testtools.Edit(t, server, relabel, relabel+"        regex: \"(b\"\n      - regex: \"(b\"\n        action: labeldrop\n"),
			want: "error parsing regexp"},
		"labeldrop with a target": {config: testtools.Edit(t, server, relabel, relabel+"      - regex: x\n        target_label: y\n        action: labeldrop\n"),
			want: "requires only 'regex'"},
		"a job twice": {config: testtools.Edit(t, server, job, job+"    scheme: https\n"+job), want: "multiple scrape configs"},
		"no job name": {config: testtools.Edit(t, server, job, "  - job_name: \"\"\n"), want: "job_name is empty"},
		"a timeout above the interval": {config: testtools.Edit(t, server, "  scrape_timeout: 10s", "  scrape_timeout: 2m"),
			want: "global scrape timeout greater than scrape interval"},
		"a job timeout above the interval": {config: testtools.Edit(t, server, job, job+"    scrape_timeout: 5m\n"), want: "scrape timeout greater than scrape interval"},
		"a bad duration":                   {config: testtools.Edit(t, server, "  scrape_timeout: 10s", "  scrape_timeout: 10 seconds"), want: "unknown unit"},
		"an unknown discovery role": {config: testtools.Edit(t, server, "      - role: node\n", "      - role: nodes\n"),
			want: `unknown Kubernetes SD role "nodes"`},
		"an unknown discovery field": {config: testtools.Edit(t, server, "      - role: node\n", "      - role: node\n        namespace: {}\n"),
			want: "field namespace not found in kubernetes_sd_configs"},
		"both credentials and a file": {config: testtools.Edit(t, server, "      credentials_file: /var/run", "      credentials: x\n      credentials_file: /var/run"),
			want: "at most one of"},
		"a bad rule file pattern": {config: testtools.Edit(t, server, "  - rules/*.yaml", "  - rules/*/*.yaml"), want: "invalid rule file path"},
		"a bad external label":    {config: testtools.Edit(t, server, "  external_labels:\n", "  external_labels:\n    \"\": x\n"), want: "not a valid label name"},
		"a remote write without url": {config: testtools.Edit(t, agent, "    url: \"http://thanos-receive.central.example:19291/api/v1/receive\"\n", ""),
			agent: true, want: "url for remote_write is empty"},
		"a reserved header": {config: testtools.Edit(t, agent, "    url: \"http://", "    headers:\n      User-Agent: x\n    url: \"http://"),
			agent: true, want: "reserved header"},
		"an authorization header": {config: testtools.Edit(t, agent, "    url: \"http://", "    headers:\n      Authorization: x\n    url: \"http://"),
			agent: true, want: "authorization header"},
		"more min than max shards": {config: testtools.Edit(t, agent, "    url: \"http://", "    queue_config:\n      min_shards: 60\n    url: \"http://"),
			agent: true, want: "min_shards must not be greater than max_shards"},
		"an unknown queue field": {config: testtools.Edit(t, agent, "    url: \"http://", "    queue_config:\n      shards: 2\n    url: \"http://"),
			agent: true, want: "field shards not found"},
		"two remote writes of one name": {config: testtools.Edit(t, agent, "remote_write:\n", "remote_write:\n  - name: \"central\"\n    url: http://x/\n"),
			agent: true, want: "multiple remote write configs"},
		"rules in agent mode":       {config: agent + "\nrule_files: [rules/*.yaml]\n", agent: true, want: "rule_files is not allowed in agent mode"},
		"remote read in agent mode": {config: agent + "\nremote_read: [{url: http://x/}]\n", agent: true, want: "remote_read is not allowed in agent mode"},
		"alerting in agent mode": {config: agent + "\nalerting:\n  alertmanagers: [{static_configs: [{targets: [am:9093]}]}]\n", agent: true,
			want: "alerting is not allowed in agent mode"},
		"a URL as a static target": {config: testtools.Edit(t, server, job, "  - job_name: static\n    static_configs:\n      - targets: [\"http://x:9100/\"]\n"+job),
			want: "is not a valid hostname"},
		// What an override may add that obsgen does not write.
		"a sample limit":        {config: testtools.Edit(t, server, job, job+"    sample_limit: 5000\n")},
		"a query log":           {config: testtools.Edit(t, server, "  scrape_interval:", "  query_log_file: /prometheus/query.log\n  scrape_interval:")},
		"a file discovery":      {config: testtools.Edit(t, server, job, "  - job_name: files\n    file_sd_configs:\n      - files: [/etc/targets/*.json]\n"+job)},
		"selectors":             {config: testtools.Edit(t, server, "      - role: node\n", "      - role: node\n        selectors:\n          - role: node\n            label: a=b\n")},
		"basic auth":            {config: testtools.Edit(t, agent, "    url: \"http://", "    basic_auth:\n      username: u\n      password_file: /p\n    url: \"http://"), agent: true},
		"a storage section":     {config: server + "\nstorage:\n  exemplars:\n    max_exemplars: 10\n"},
		"an empty global":       {config: "global: {}\nscrape_configs: []\n"},
		"an empty file":         {config: ""},
		"a remote read section": {config: server + "\nremote_read: [{url: http://x/}]\n"},
	} {
		t.Run(name, func(t *testing.T) {
			upstream := prometheusAccepts(t, tc.config, tc.agent)
			ours := Config([]byte(tc.config), tc.agent)
			if tc.want == "" {
				require.NoError(t, upstream, "Prometheus")
				assert.NoError(t, ours, "promcheck")
				return
			}
			require.Error(t, upstream, "Prometheus")
			require.Error(t, ours, "promcheck (Prometheus says %v)", upstream)
			assert.Contains(t, ours.Error(), tc.want)
		})
	}
}

// TestWhatOnlyPrometheusChecks documents the checks left to obsgen-verify:
// the values of settings obsgen does not write.
func TestWhatOnlyPrometheusChecks(t *testing.T) {
	server := example(t, "strict-deny/prometheus/prometheus.yml")
	job := "  - job_name: \"kubelet\"\n"
	for name, config := range map[string]string{
		"a bad value of a setting obsgen does not write": testtools.Edit(t, server, job, job+"    sample_limit: many\n"),
		"a bad file discovery":                           testtools.Edit(t, server, job, "  - job_name: files\n    file_sd_configs:\n      - filez: []\n"+job),
	} {
		require.Error(t, prometheusAccepts(t, config, false), name)
		assert.NoError(t, Config([]byte(config), false), name)
	}
}

// TestScrapeConfigLists: the operator's additionalScrapeConfigs and the
// federation job are lists of scrape configs.
func TestScrapeConfigLists(t *testing.T) {
	for _, path := range []string{"strict-deny/operator/additional-scrape-configs.yaml", "strict-deny/prometheus/federation/global-scrape-config.yml"} {
		list := example(t, path)
		_, err := promconfig.Load("scrape_configs:\n"+list, promslog.NewNopLogger())
		require.NoError(t, err, path)
		assert.NoError(t, ScrapeConfigs([]byte(list)), path)
	}
	err := ScrapeConfigs([]byte("- job_name: a\n  honour_labels: true\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "honour_labels")
	err = ScrapeConfigs([]byte("- job_name: a\n- job_name: a\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "multiple scrape configs")
}

// relabelFields must be relabel.Config's YAML fields, so the strict decode
// refuses and accepts the same keys.
func TestRelabelFieldsMatchUpstream(t *testing.T) {
	tags := func(typ reflect.Type) map[string]string {
		out := map[string]string{}
		for i := range typ.NumField() {
			if tag := typ.Field(i).Tag.Get("yaml"); tag != "-" {
				out[typ.Field(i).Name] = tag
			}
		}
		return out
	}
	assert.Equal(t, tags(reflect.TypeFor[relabel.Config]()), tags(reflect.TypeFor[relabelFields]()))
}

// TestCheckReturnsTheJobsAsPrometheusLoadsThem: the jobs Check returns
// (what the operator flavour copies) are, with Prometheus' defaults put
// where a setting is left out, what Prometheus' loader reads, on every
// committed configuration and on relabelings that leave out, null or spell
// differently each setting.
func TestCheckReturnsTheJobsAsPrometheusLoadsThem(t *testing.T) {
	server := example(t, "strict-deny/prometheus/prometheus.yml")
	rule := "      - source_labels: [__meta_kubernetes_node_name]\n        target_label: node\n"
	edited := testtools.Edit(t, server, rule, rule+
		"      - source_labels: [__address__, job]\n        target_label: x\n        separator: null\n        replacement: null\n        regex: null\n"+
		"      - source_labels: [__address__]\n        target_label: y\n        separator: \"\"\n        replacement: \"\"\n        regex: \"\"\n        action: Replace\n"+
		"      - source_labels: [__address__]\n        target_label: __tmp_hash\n        modulus: 3\n        action: HashMod\n"+
		"      - regex: 0\n        action: labeldrop\n")
	job := "  - job_name: \"kubelet\"\n"
	edited = testtools.Edit(t, edited, job, "  - job_name: empty\n    scheme: \"\"\n    metrics_path: \"\"\n"+
		"  - job_name: nulls\n    scheme: null\n    metrics_path: null\n"+
		"  - job_name: capitals\n    scheme: HTTPS\n    metrics_path: /x\n"+job)
	configs := map[string]string{"edited": edited}
	for _, path := range []string{"strict-deny/prometheus/prometheus.yml", "ambient/prometheus/prometheus.yml",
		"calico-global-deny/prometheus/prometheus-shard-0.yml", "default-permissive/prometheus/prometheus.yml",
		"admin-network-policy/prometheus/prometheus.yml"} {
		configs[path] = example(t, path)
	}
	d := relabel.DefaultRelabelConfig
	or := func(p *string, def string) string {
		if p == nil {
			return def
		}
		return *p
	}
	for name, data := range configs {
		cfg, err := promconfig.Load(data, promslog.NewNopLogger())
		require.NoError(t, err, name)
		jobs, err := Check([]byte(data), false)
		require.NoError(t, err, name)
		require.Len(t, jobs, len(cfg.ScrapeConfigs), name)
		for i, sc := range cfg.ScrapeConfigs {
			j := jobs[i]
			assert.Equal(t, sc.JobName, j.Name, name)
			assert.Equal(t, sc.MetricsPath, j.MetricsPath, "%s: %s", name, j.Name)
			assert.Equal(t, sc.Scheme, j.Scheme, "%s: %s", name, j.Name)
			assert.Equal(t, sc.HonorLabels, j.HonorLabels, "%s: %s", name, j.Name)
			for k, upstream := range [][]*relabel.Config{sc.RelabelConfigs, sc.MetricRelabelConfigs} {
				ours := [][]Relabeling{j.RelabelConfigs, j.MetricRelabelConfigs}[k]
				require.Len(t, ours, len(upstream), "%s: %s", name, j.Name)
				for r, up := range upstream {
					w := ours[r]
					where := fmt.Sprintf("%s: %s: relabeling %d", name, j.Name, r)
					assert.Equal(t, up.SourceLabels, model.LabelNames(w.SourceLabels), where)
					assert.Equal(t, up.Separator, or(w.Separator, d.Separator), where)
					assert.Equal(t, up.Replacement, or(w.Replacement, d.Replacement), where)
					assert.Equal(t, up.TargetLabel, w.TargetLabel, where)
					assert.Equal(t, up.Modulus, w.Modulus, where)
					assert.Equal(t, string(up.Action), cmp.Or(w.Action, string(d.Action)), where)
					assert.Equal(t, up.Regex.String(), or(w.Regex, d.Regex.String()), where)
				}
			}
		}
	}
}

// TestCheckRegexpFailsWhereRelabelDoes holds checkRegexp, which parses a
// relabeling expression without compiling it, to relabel.NewRegexp, which
// compiles it as Prometheus does: the same expressions fail, with the same
// message. The cases are hand-picked edges, then random strings over the
// expression syntax's characters.
func TestCheckRegexpFailsWhereRelabelDoes(t *testing.T) {
	cases := []string{"", "(.*)", "orders-99", "a)", "(a", "((a)", "[a", "a]", "*a", "a**", "a{2,1}", "a{1001}",
		"a{1000}", "(?P<n>a)", "(?P<n>a)(?P<n>b)", "(?P<>a)", "(?<n>a)", `\8`, `\pL`, `\p{Foo}`, "[[:alpha:]]",
		"[[:foo:]]", "(?i)a", "(?z)a", "x++", "(?s:.)", `\Q*\E`, "a|", "|", "$(1)", "\xff", "é{2}", strings.Repeat("(", 1001) + strings.Repeat(")", 1001),
		strings.Repeat("(a{1000}){1000}", 1), strings.Repeat("a", 20000)}
	r := rand.New(rand.NewPCG(1, 2))
	const alphabet = `ab(){}[]*+?|\^$.:,-0129?PLpdwQE<>ni` + "é\n"
	for range 20000 {
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	failed := 0
	for _, expr := range cases {
		_, want := relabel.NewRegexp(expr)
		got := checkRegexp(expr)
		if want == nil {
			require.NoError(t, got, "%q compiles in Prometheus", expr)
			require.NoError(t, checkRegexp(expr), "%q, remembered", expr)
			continue
		}
		failed++
		require.Error(t, got, "%q fails in Prometheus: %v", expr, want)
		require.Equal(t, want.Error(), got.Error(), "%q", expr)
	}
	// The random strings must exercise both outcomes.
	require.Greater(t, failed, 1000)
	require.Less(t, failed, len(cases)-1000)
}
