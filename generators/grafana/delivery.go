package grafana

import (
	"fmt"
	"maps"
	"path"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"obsgen.dev/obsgen/internal/manifest"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
)

// Grafana's sidecar (kiwigrid k8s-sidecar, as the Grafana Helm chart runs
// it) loads ConfigMaps with the dashboard label, into the folder the
// annotation names (with the chart's sidecar.dashboards.folderAnnotation
// set to it and provider.foldersFromFilesStructure on).
const (
	DashboardLabel   = "grafana_dashboard"
	DatasourceLabel  = "grafana_datasource"
	FolderAnnotation = "grafana_folder"
)

// ProvisionPath is where Grafana reads the dashboards when they are
// mounted for file provisioning (grafana/dashboards/ of the output).
func ProvisionPath(p *plan.Plan) string { return "/var/lib/grafana/dashboards/" + p.Name }

// Grafana's provisioning files (grafana.com/docs, "Provision Grafana").
type (
	providersFile struct {
		APIVersion int        `yaml:"apiVersion"`
		Providers  []provider `yaml:"providers"`
	}
	provider struct {
		Name                  string          `yaml:"name"`
		OrgID                 int             `yaml:"orgId"`
		Type                  string          `yaml:"type"`
		DisableDeletion       bool            `yaml:"disableDeletion"`
		AllowUIUpdates        bool            `yaml:"allowUiUpdates"`
		UpdateIntervalSeconds int             `yaml:"updateIntervalSeconds"`
		Options               providerOptions `yaml:"options"`
	}
	providerOptions struct {
		Path                      string `yaml:"path"`
		FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
	}
	datasourcesFile struct {
		APIVersion  int          `yaml:"apiVersion"`
		Datasources []datasource `yaml:"datasources"`
	}
	datasource struct {
		Name      string         `yaml:"name"`
		Type      string         `yaml:"type"`
		UID       string         `yaml:"uid"`
		Access    string         `yaml:"access"`
		URL       string         `yaml:"url"`
		IsDefault bool           `yaml:"isDefault"`
		Editable  bool           `yaml:"editable"`
		JSONData  datasourceJSON `yaml:"jsonData"`
		// SecureJSONData holds the headers' values (httpHeaderValue<n>).
		SecureJSONData map[string]string `yaml:"secureJsonData,omitempty"`
	}
	datasourceJSON struct {
		HTTPMethod string `yaml:"httpMethod" json:"httpMethod"`
		// TimeInterval is the scrape interval: Grafana's $__rate_interval
		// is at least four of it.
		TimeInterval string `yaml:"timeInterval" json:"timeInterval"`
		// Headers are the headers' names (httpHeaderName<n>).
		Headers map[string]string `yaml:",inline" json:"-"`
	}
)

// datasourceHeaders splits the data source's headers as Grafana's
// provisioning takes them: the n-th header's name in jsonData
// httpHeaderName<n>, its value in secureJsonData httpHeaderValue<n>
// (grafana.com/docs, "Provision Grafana", "Custom HTTP headers for data
// sources").
func datasourceHeaders(headers plan.Labels) (names, values map[string]string) {
	if len(headers) == 0 {
		return nil, nil
	}
	names, values = map[string]string{}, map[string]string{}
	for i, h := range headers {
		n := strconv.Itoa(i + 1)
		names["httpHeaderName"+n], values["httpHeaderValue"+n] = h.Name, h.Value
	}
	return names, values
}

// datasourceJSONOf is the data source's jsonData.
func datasourceJSONOf(p *plan.Plan) datasourceJSON {
	names, _ := datasourceHeaders(p.Dashboards.Datasource.Headers)
	return datasourceJSON{HTTPMethod: "POST", TimeInterval: p.Scrape.Interval, Headers: names}
}

// provisioning writes the dashboard provider (folders from the directory
// structure) and the data source the dashboards default to.
func provisioning(p *plan.Plan) ([]output.File, error) {
	providers := providersFile{APIVersion: 1, Providers: []provider{{
		Name: "obsgen-" + p.Name, OrgID: 1, Type: "file", UpdateIntervalSeconds: 60,
		Options: providerOptions{Path: ProvisionPath(p), FoldersFromFilesStructure: true},
	}}}
	ds := p.Dashboards.Datasource
	_, secure := datasourceHeaders(ds.Headers)
	sources := datasourcesFile{APIVersion: 1, Datasources: []datasource{{
		Name: ds.Name, Type: "prometheus", UID: ds.UID, Access: "proxy", URL: ds.URL,
		JSONData: datasourceJSONOf(p), SecureJSONData: secure,
	}}}
	var files []output.File
	for _, f := range []struct {
		path string
		v    any
	}{{ProvidersPath, providers}, {DatasourcePath, sources}} {
		data, err := render.YAML(f.v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.path, err)
		}
		files = append(files, output.YAML(f.path, data))
	}
	return files, nil
}

// shipConfigMaps ships the files Grafana's sidecar loads in ConfigMaps of
// their own: each dashboard labelled and annotated with its folder, and the
// data source.
func shipConfigMaps(p *plan.Plan, files []output.File) {
	for i, f := range files {
		switch {
		case strings.HasPrefix(f.Path, DashboardsDir) && strings.HasSuffix(f.Path, ".json"):
			folder := path.Base(path.Dir(f.Path))
			files[i].Ship = output.Ship{As: output.ShipConfigMap, Name: configMapName(f.Path), Namespace: p.Dashboards.Namespace,
				Key:         path.Base(f.Path),
				Labels:      []output.Pair{{Name: DashboardLabel, Value: "1"}},
				Annotations: []output.Pair{{Name: FolderAnnotation, Value: folder}}}
		case f.Path == DatasourcePath:
			files[i].Ship = output.Ship{As: output.ShipConfigMap, Name: "grafana-datasource-" + p.Name, Namespace: p.Dashboards.Namespace,
				Key: "obsgen-" + p.Name + ".yaml", Labels: []output.Pair{{Name: DatasourceLabel, Value: "1"}}}
		}
	}
}

// configMapName names a dashboard's ConfigMap after its file, unique in a
// profile (<team>-baseline, mesh-overview, ...).
func configMapName(file string) string {
	return "grafana-dashboard-" + strings.TrimSuffix(path.Base(file), ".json")
}

// GrafanaDashboard is grafana-operator's resource (apiVersion
// grafana.integreatly.org/v1beta1), with the fields obsgen sets; the
// module that defines it is not a dependency of obsgen.
type GrafanaDashboard struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              GrafanaDashboardSpec `json:"spec"`
}

// GrafanaDashboardSpec is the part of the spec obsgen writes.
type GrafanaDashboardSpec struct {
	InstanceSelector *metav1.LabelSelector        `json:"instanceSelector"`
	FolderTitle      string                       `json:"folder,omitempty"`
	CustomUID        string                       `json:"uid,omitempty"`
	ConfigMapRef     *corev1.ConfigMapKeySelector `json:"configMapRef,omitempty"`
}

// GrafanaDatasource is grafana-operator's data source resource (apiVersion
// grafana.integreatly.org/v1beta1), with the fields obsgen sets, as
// grafana-operator v5.16.0 defines them (api/v1beta1/
// grafanadatasource_types.go: spec.uid, spec.instanceSelector,
// spec.datasource with jsonData and secureJsonData as free-form objects).
type GrafanaDatasource struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              GrafanaDatasourceSpec `json:"spec"`
}

// GrafanaDatasourceSpec is the part of the spec obsgen writes. spec.uid
// (v5.16.0) replaces the deprecated spec.datasource.uid.
type GrafanaDatasourceSpec struct {
	InstanceSelector *metav1.LabelSelector     `json:"instanceSelector"`
	CustomUID        string                    `json:"uid,omitempty"`
	Datasource       GrafanaDatasourceInternal `json:"datasource"`
}

// GrafanaDatasourceInternal is the data source as Grafana's API takes it.
type GrafanaDatasourceInternal struct {
	Name           string            `json:"name"`
	Type           string            `json:"type"`
	URL            string            `json:"url"`
	Access         string            `json:"access"`
	JSONData       map[string]string `json:"jsonData,omitempty"`
	SecureJSONData map[string]string `json:"secureJsonData,omitempty"`
}

// operatorDatasource is the provisioned data source as a
// GrafanaDatasource: the same name, UID, URL, settings and headers,
// imported by the Grafana instances the GrafanaDashboards select.
func operatorDatasource(p *plan.Plan) (output.File, error) {
	ds := p.Dashboards.Datasource
	jsonData := map[string]string{"httpMethod": "POST", "timeInterval": p.Scrape.Interval}
	names, secure := datasourceHeaders(ds.Headers)
	maps.Copy(jsonData, names)
	return manifest.File(OperatorDatasourcePath, GrafanaDatasource{
		TypeMeta: metav1.TypeMeta{APIVersion: "grafana.integreatly.org/v1beta1", Kind: "GrafanaDatasource"},
		ObjectMeta: metav1.ObjectMeta{Name: "obsgen-" + p.Name, Namespace: p.Dashboards.Namespace,
			Labels: map[string]string{manifest.ProfileLabel: p.Name}},
		Spec: GrafanaDatasourceSpec{
			InstanceSelector: &metav1.LabelSelector{MatchLabels: p.Dashboards.Operator.InstanceLabels.Map()},
			CustomUID:        ds.UID,
			Datasource: GrafanaDatasourceInternal{Name: ds.Name, Type: "prometheus", URL: ds.URL, Access: "proxy",
				JSONData: jsonData, SecureJSONData: secure},
		},
	})
}

// operatorResources writes a GrafanaDashboard per dashboard, reading the
// JSON from the dashboard's ConfigMap in the same namespace.
func operatorResources(p *plan.Plan, dashboards []Rendered) (output.File, error) {
	docs := make([]GrafanaDashboard, 0, len(dashboards))
	for _, d := range dashboards {
		docs = append(docs, GrafanaDashboard{
			TypeMeta: metav1.TypeMeta{APIVersion: "grafana.integreatly.org/v1beta1", Kind: "GrafanaDashboard"},
			ObjectMeta: metav1.ObjectMeta{Name: d.Name, Namespace: p.Dashboards.Namespace,
				Labels: map[string]string{manifest.ProfileLabel: p.Name}},
			Spec: GrafanaDashboardSpec{
				InstanceSelector: &metav1.LabelSelector{MatchLabels: p.Dashboards.Operator.InstanceLabels.Map()},
				FolderTitle:      d.Folder, CustomUID: d.UID,
				ConfigMapRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: configMapName(d.Path())},
					Key: path.Base(d.Path())},
			},
		})
	}
	return manifest.Documents(OperatorPath, docs)
}

// index lists the dashboards with their panel counts and previews.
func index(p *plan.Plan, dashboards []Rendered) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Dashboards of %s\n\n", p.Name)
	fmt.Fprintf(&b, "Data source: %s (uid `%s`, %s). Load them with Grafana's sidecar (the `%s` ConfigMaps of the kustomization), "+
		"file provisioning (`%s`, mounted at `%s`) or grafana-operator.\n\n", p.Dashboards.Datasource.Name, p.Dashboards.Datasource.UID,
		p.Dashboards.Datasource.URL, DashboardLabel, ProvidersPath, ProvisionPath(p))
	b.WriteString("| dashboard | folder | uid | panels | layout |\n|---|---|---|---|---|\n")
	total := 0
	for _, d := range dashboards {
		total += d.Panels
		fmt.Fprintf(&b, "| %s | %s | `%s` | %d | [preview](%s) |\n", d.Title, d.Folder, d.UID, d.Panels,
			strings.TrimPrefix(d.PreviewPath(), "reports/"))
	}
	fmt.Fprintf(&b, "\n%d dashboards, %d panels.\n", len(dashboards), total)
	return []byte(b.String())
}
