package profile_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/diag"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/profile"
)

// knownBugs lists the invalid cases whose .err holds the expected (correct)
// output that the loader does not produce yet. Each is skipped with the bug;
// once the loader is fixed the case fails until it is removed from here.
var knownBugs = map[string]string{}

// TestInvalidProfiles loads every testdata/invalid/<case>.yaml and compares
// the rendered diagnostics with <case>.err byte for byte. UPDATE_GOLDEN=1
// rewrites the .err files (known bugs excepted: theirs are written by hand).
func TestInvalidProfiles(t *testing.T) {
	forEachCase(t, "invalid", func(t *testing.T, name, path string, data []byte) {
		golden := filepath.Join("testdata", "invalid", name+".err")
		if bug, known := knownBugs[name]; known {
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "a known bug's .err holds the expected output, written by hand")
			got := loadOutput(path, data)
			assert.Equal(t, got, loadOutput(path, data), "loading twice gives different output")
			if got == string(want) {
				t.Fatalf("%s is fixed: remove it from knownBugs", name)
			}
			t.Skip("bug: " + bug)
		}
		got := loadError(t, path, data)
		assert.Equal(t, got, loadError(t, path, data), "loading twice gives different output")
		compareGolden(t, golden, got)
	})
}

// forEachCase runs test on every testdata/<dir>/<case>.yaml, with the
// case's name, the path diagnostics name and its bytes.
func forEachCase(t *testing.T, dir string, test func(t *testing.T, name, path string, data []byte)) {
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			test(t, name, "testdata/"+dir+"/"+name+".yaml", data)
		})
	}
}

// TestEveryGoldenHasAProfile catches a .err or .warn left behind by a
// renamed case.
func TestEveryGoldenHasAProfile(t *testing.T) {
	goldens, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.err"))
	require.NoError(t, err)
	warnings, err := filepath.Glob(filepath.Join("testdata", "warnings", "*.warn"))
	require.NoError(t, err)
	goldens = append(goldens, warnings...)
	for _, g := range goldens {
		assert.FileExists(t, strings.TrimSuffix(strings.TrimSuffix(g, ".err"), ".warn")+".yaml")
	}
	for name := range knownBugs {
		assert.FileExists(t, filepath.Join("testdata", "invalid", name+".yaml"), "knownBugs entry without a case")
	}
}

// TestProfileWarnings loads every testdata/warnings/<case>.yaml, which
// must load, and compares its warnings with <case>.warn byte for byte.
// UPDATE_GOLDEN=1 rewrites the .warn files.
func TestProfileWarnings(t *testing.T) {
	forEachCase(t, "warnings", func(t *testing.T, name, path string, data []byte) {
		got := loadWarnings(t, path, data)
		assert.Equal(t, got, loadWarnings(t, path, data), "loading twice gives different output")
		compareGolden(t, filepath.Join("testdata", "warnings", name+".warn"), got)
	})
}

// compareGolden compares got with the golden file, or with UPDATE_GOLDEN=1
// writes it.
func compareGolden(t *testing.T, golden, got string) {
	t.Helper()
	if os.Getenv("UPDATE_GOLDEN") != "" {
		require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run with UPDATE_GOLDEN=1 to create it")
	assert.Equal(t, string(want), got)
}

// loadWarnings loads a profile that must load with warnings, and renders
// them.
func loadWarnings(t *testing.T, file string, data []byte) string {
	t.Helper()
	l, err := profile.Load(file, data)
	require.NoError(t, err)
	require.NotEmpty(t, l.Warnings)
	for _, d := range l.Warnings {
		assert.Equal(t, diag.Warning, d.Severity, "%s", d)
		assert.Equal(t, file, d.File, "diagnostic names another file: %s", d)
	}
	return l.Warnings.Error() + "\n"
}

// TestErrorsHideWarnings: a profile with errors reports only them; its
// warnings follow once it loads.
func TestErrorsHideWarnings(t *testing.T) {
	src := strings.Replace(minimal, "port: 8080", "port: 70000", 1)
	_, err := profile.Load("port.yaml", []byte(src))
	var list diag.List
	require.True(t, errors.As(err, &list), "%v", err)
	assert.Empty(t, list.Warnings())
	l, err := profile.Load("minimal.yaml", []byte(minimal))
	require.NoError(t, err)
	assert.NotEmpty(t, l.Warnings, "no receiver is defined: every route warns")
}

// loadError loads a profile that must fail and renders its diagnostics.
func loadError(t *testing.T, file string, data []byte) string {
	t.Helper()
	l, err := profile.Load(file, data)
	require.Error(t, err)
	assert.Nil(t, l)
	var list diag.List
	require.True(t, errors.As(err, &list), "error is a %T, not a diag.List", err)
	require.NotEmpty(t, list)
	for _, d := range list {
		assert.Equal(t, file, d.File, "diagnostic names another file: %s", d)
		assert.Equal(t, diag.Error, d.Severity, "a warning among errors: %s", d)
	}
	return err.Error() + "\n"
}

// loadOutput renders what Load reports for data: its error plus a newline,
// or "" when it loads.
func loadOutput(file string, data []byte) string {
	if _, err := profile.Load(file, data); err != nil {
		return err.Error() + "\n"
	}
	return ""
}

// TestExampleProfilesLoad loads every example profile.
func TestExampleProfilesLoad(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "profiles", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			require.NoError(t, err)
			l, err := profile.Load(file, data)
			require.NoError(t, err)
			assert.Equal(t, file, l.File)
			assert.Equal(t, v1alpha1.APIVersion, l.Profile.APIVersion)
			assert.NotEmpty(t, l.Positions)
		})
	}
}

const minimal = `apiVersion: obsgen.dev/v1alpha1
kind: Profile
metadata:
  name: shop
teams:
  - name: web
    namespaces: [web]
    services:
      - name: frontend
        namespace: web
        port: 8080
`

// TestLoadKeepsDefaultsOutOfTheProfile: validation checks the profile with
// its defaults, but the defaults are applied to a copy (plan.WithDefaults);
// the returned Profile holds what the file says and nothing more.
func TestLoadKeepsDefaultsOutOfTheProfile(t *testing.T) {
	l, err := profile.Load("minimal.yaml", []byte(minimal))
	require.NoError(t, err)
	p := l.Profile
	assert.Equal(t, v1alpha1.Profile{
		APIVersion: v1alpha1.APIVersion,
		Kind:       v1alpha1.Kind,
		Metadata:   v1alpha1.Metadata{Name: "shop"},
		Teams: []v1alpha1.Team{{
			Name:       "web",
			Namespaces: []string{"web"},
			Services:   []v1alpha1.Service{{Name: "frontend", Namespace: "web", Port: 8080}},
		}},
	}, *p)

	// WithDefaults fills a copy and leaves its input alone.
	again, err := profile.Load("minimal.yaml", []byte(minimal))
	require.NoError(t, err)
	d := plan.WithDefaults(p)
	assert.Equal(t, again.Profile, p, "WithDefaults changed its input")
	assert.Equal(t, v1alpha1.MeshIstio, d.Mesh.Provider)
	assert.Equal(t, v1alpha1.MTLSPermissive, d.Mesh.MTLS)
	require.NotNil(t, d.Mesh.MetricsMerging)
	assert.True(t, *d.Mesh.MetricsMerging)
	assert.Equal(t, "shop", d.Cluster.Name)
	assert.Equal(t, 443, d.Cluster.APIServerPort)
	assert.Equal(t, "monitoring", d.Monitoring.Namespace)
	assert.Equal(t, []v1alpha1.Flavour{v1alpha1.FlavourPrometheus}, d.Monitoring.Flavours)
	assert.Equal(t, "30s", d.Monitoring.Prometheus.ScrapeInterval)
	assert.Equal(t, "web", d.Teams[0].Alerting.Receiver)
	assert.Equal(t, "/metrics", d.Teams[0].Services[0].Path)

	// A profile that sets values keeps them, unmerged with defaults.
	set := strings.Replace(minimal, "metadata:", "monitoring:\n  prometheus:\n    podLabels: {app: prom}\nmetadata:", 1)
	l, err = profile.Load("set.yaml", []byte(set))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"app": "prom"}, l.Profile.Monitoring.Prometheus.PodLabels)
	assert.Empty(t, l.Profile.Monitoring.Alertmanager.PodLabels)
	d = plan.WithDefaults(l.Profile)
	d.Monitoring.Prometheus.PodLabels["x"] = "y"
	assert.Equal(t, map[string]string{"app": "prom"}, l.Profile.Monitoring.Prometheus.PodLabels, "WithDefaults shares a map with its input")
}

// TestPositions: each value's field path maps to the line and column where
// the value starts.
func TestPositions(t *testing.T) {
	src := `apiVersion: obsgen.dev/v1alpha1
kind: Profile
metadata:
  name: shop
mesh: {mtls: STRICT, scrapeStrategy: istio-certs, metricsMerging: false}
teams:
  - name: web
    namespaces: [web, web-admin]
    services:
      - name: frontend
        namespace: web
        selector:
          app.kubernetes.io/name: frontend
        port:   8080
  - name: api
    namespaces:
      - api
    services:
      - {name: gateway, namespace: api, port: 9090}
`
	l, err := profile.Load("pos.yaml", []byte(src))
	require.NoError(t, err)
	for path, want := range map[string]diag.Pos{
		"":                              {Line: 1, Col: 1},
		"metadata":                      {Line: 4, Col: 3},
		"metadata.name":                 {Line: 4, Col: 9},
		"mesh":                          {Line: 5, Col: 7},
		"mesh.mtls":                     {Line: 5, Col: 14},
		"mesh.metricsMerging":           {Line: 5, Col: 67},
		"teams":                         {Line: 7, Col: 3},
		"teams[0]":                      {Line: 7, Col: 5},
		"teams[0].namespaces":           {Line: 8, Col: 17},
		"teams[0].namespaces[1]":        {Line: 8, Col: 23},
		"teams[0].services[0]":          {Line: 10, Col: 9},
		"teams[0].services[0].name":     {Line: 10, Col: 15},
		"teams[0].services[0].port":     {Line: 14, Col: 17},
		"teams[1].namespaces[0]":        {Line: 17, Col: 9},
		"teams[1].services[0]":          {Line: 19, Col: 9},
		"teams[1].services[0].port":     {Line: 19, Col: 47},
		"teams[1].services[0].name":     {Line: 19, Col: 16},
		"teams[0].services[0].selector": {Line: 13, Col: 11},
		`teams[0].services[0].selector["app.kubernetes.io/name"]`: {Line: 13, Col: 35},
	} {
		assert.Equal(t, want, l.Positions[path], path)
	}
	_, unset := l.Positions["teams[0].services[0].path"]
	assert.False(t, unset, "a field the file does not set has no position")
}

// TestDiagnosticsPointAtTheValue checks the position of a validation error
// through Load, for a profile built inline.
func TestDiagnosticsPointAtTheValue(t *testing.T) {
	src := strings.Replace(minimal, "port: 8080", "port: 70000", 1)
	_, err := profile.Load("port.yaml", []byte(src))
	var list diag.List
	require.True(t, errors.As(err, &list), "%v", err)
	require.Len(t, list, 1)
	assert.Equal(t, diag.Diagnostic{
		File: "port.yaml", Pos: diag.Pos{Line: 11, Col: 15}, Path: "teams[0].services[0].port",
		Message: "must be 1..65535 (got 70000)",
	}, list[0])
	assert.Equal(t, "port.yaml:11:15: teams[0].services[0].port: must be 1..65535 (got 70000)", err.Error())
}

// TestScrapeIntervalBelowTheDefaultTimeout: Prometheus lowers its default
// scrape timeout (10s) to a shorter scrape interval, so a profile that only
// sets scrapeInterval: 5s is valid and scrapes with a 5s timeout.
func TestScrapeIntervalBelowTheDefaultTimeout(t *testing.T) {
	src := strings.Replace(minimal, "metadata:", "monitoring:\n  prometheus:\n    scrapeInterval: 5s\nmetadata:", 1)
	l, err := profile.Load("fast.yaml", []byte(src))
	require.NoError(t, err)
	assert.Equal(t, "5s", plan.Resolve(l.Profile).Scrape.Timeout)
}

// TestAliasExpansionIsBounded: YAML aliases let a small file stand for a
// huge profile. yaml.v3 refuses excessive aliasing when it decodes into Go
// values; the loader walks the node tree itself and must bound it too.
func TestAliasExpansionIsBounded(t *testing.T) {
	const n = 200
	namespaces := make([]string, n)
	for i := range namespaces {
		namespaces[i] = fmt.Sprintf("ns%d", i)
	}
	src := "apiVersion: obsgen.dev/v1alpha1\nkind: Profile\nmetadata:\n  name: shop\n" +
		"teams: [&t {name: a, namespaces: [" + strings.Join(namespaces, ", ") + "]}" +
		strings.Repeat(", *t", n) + "]\n"
	_, err := profile.Load("aliases.yaml", []byte(src))
	var list diag.List
	require.True(t, errors.As(err, &list), "%v", err)
	assert.LessOrEqual(t, len(list), 100, "a %d-byte profile yields %d diagnostics", len(src), len(list))
	assert.Contains(t, err.Error(), "too much through YAML aliases")
}

// TestFederationTargetsOnlyClusterNamesWarn: with sources outside the
// cluster, a target warns only when it is a name the cluster's DNS alone
// resolves; a public name of two labels, a longer one or an address does
// not.
func TestFederationTargetsOnlyClusterNamesWarn(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "warnings", "federation-target-in-cluster.yaml"))
	require.NoError(t, err)
	for target, warns := range map[string]bool{
		"prometheus.monitoring.svc.cluster.local:9090": true,
		"prometheus.monitoring:9090":                   true,
		"prometheus:9090":                              true,
		"example.com:9090":                             false,
		"prometheus.eu-1.example.net:443":              false,
		"192.0.2.20:9090":                              false,
		"svc.example.com:9090":                         false,
		"prometheus-0.prometheus-operated.monitoring.svc.cluster.local:9090": true,
	} {
		edited := strings.Replace(string(data), "prometheus.monitoring.svc.cluster.local:9090", target, 1)
		l, err := profile.Load("p.yaml", []byte(edited))
		require.NoError(t, err, target)
		got := strings.Contains(l.Warnings.Error(), "federation.targets[0]")
		assert.Equal(t, warns, got, "%s: %s", target, l.Warnings.Error())
	}
}
