package promcheck

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/promslog"
	promconfig "github.com/prometheus/prometheus/config"
	_ "github.com/prometheus/prometheus/discovery/install" // every service discovery, as prometheus registers them
	"github.com/prometheus/prometheus/discovery/kubernetes"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// yamlNames lists the YAML keys of a struct type, descending into inline
// structs but those of skip.
func yamlNames(t reflect.Type, skip ...reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case name == "-" || !f.IsExported():
		case strings.Contains(opts, "inline"):
			if !slices.Contains(skip, f.Type) {
				out = append(out, yamlNames(f.Type, skip...)...)
			}
		case name != "":
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

var httpClient = reflect.TypeFor[commoncfg.HTTPClientConfig]()

// TestSettingsAreThoseOfPrometheus: the keys a template may add beside
// what obsgen writes are exactly those of Prometheus' own types, so an
// upgrade that adds or renames one shows here.
func TestSettingsAreThoseOfPrometheus(t *testing.T) {
	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	assert.Equal(t, yamlNames(reflect.TypeFor[promconfig.Config]()), sorted(topLevelSettings), "top level")
	assert.Equal(t, yamlNames(reflect.TypeFor[promconfig.GlobalConfig]()), sorted(globalSettings), "global")
	assert.Equal(t, yamlNames(reflect.TypeFor[promconfig.RemoteWriteConfig](), httpClient), sorted(remoteWriteSettings), "remote_write")
	assert.Equal(t, yamlNames(reflect.TypeFor[kubernetes.SDConfig](), httpClient), sorted(kubernetesSDSettings), "kubernetes_sd_configs")
	own := func(t reflect.Type) []string { return sorted(append(yamlNames(t, httpClient), discoveries...)) }
	assert.Equal(t, own(reflect.TypeFor[promconfig.ScrapeConfig]()), sorted(scrapeSettings), "scrape config")
	assert.Equal(t, own(reflect.TypeFor[promconfig.AlertmanagerConfig]()), sorted(alertmanagerSettings), "alertmanager config")
	assert.Equal(t, yamlNames(reflect.TypeFor[promconfig.QueueConfig]()), yamlNames(reflect.TypeFor[queueConfig]()), "queue_config")
}

// TestEveryDiscoveryIsOneOfPrometheus: each discovery key is registered
// by Prometheus (a scrape config with an empty list of it loads).
func TestEveryDiscoveryIsOneOfPrometheus(t *testing.T) {
	for _, d := range discoveries {
		_, err := promconfig.Load("scrape_configs:\n- job_name: x\n  "+d+": []\n", promslog.NewNopLogger())
		require.NoError(t, err, d)
	}
	_, err := promconfig.Load("scrape_configs:\n- job_name: x\n  nothing_sd_configs: []\n", promslog.NewNopLogger())
	require.Error(t, err, "an unknown discovery fails")
}
