package plan

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
)

// Component defaults that depend on which component a field describes; the
// scalar defaults live in the `default=` jsonschema tags of the v1alpha1
// types, so the JSON Schema and the plan read the same values.
const (
	defaultAlertmanagerPort     = 9093
	defaultGrafanaPort          = 3000
	defaultKubeStateMetricsPort = 8080
	defaultNodeExporterPort     = 9100
	// The operator's TLS web port, which serves its admission webhook
	// (kube-prometheus-stack: prometheusOperator.tls.internalPort 10250).
	defaultPrometheusOperatorPort = 10250
	defaultServicePath            = "/metrics"
)

// DefaultExcludedNamespaces are the namespaces a Calico global deny leaves
// alone unless the profile names others: Kubernetes' and Calico's own.
var DefaultExcludedNamespaces = []string{SystemNamespace, "calico-system", "calico-apiserver", "tigera-operator"}

// AlertmanagerOperatedService is the Service the Prometheus Operator
// creates for every Alertmanager it runs.
const AlertmanagerOperatedService = "alertmanager-operated"

// AlertmanagerWorkload names the Alertmanager StatefulSet the raw
// flavour's pod patch targets, and prefixes the Secret that holds
// alertmanager.yaml (alertmanager-config).
const AlertmanagerWorkload = "alertmanager"

// AlertmanagerWorkload is the constant of that name, for templates.
func (p *Plan) AlertmanagerWorkload() string { return AlertmanagerWorkload }

// WithDefaults returns a deep copy of p with every unset field given its
// documented default. It is the one place defaults are decided; validation
// checks its result and Resolve builds the plan from it.
func WithDefaults(in *v1alpha1.Profile) *v1alpha1.Profile {
	p := deepCopy(in)
	applyTagDefaults(reflect.ValueOf(p).Elem())
	if pr := &p.Monitoring.Prometheus; in.Monitoring.Prometheus.ScrapeTimeout == "" {
		// As in Prometheus, the default timeout is at most the interval.
		interval, ierr := model.ParseDuration(pr.ScrapeInterval)
		timeout, terr := model.ParseDuration(pr.ScrapeTimeout)
		if ierr == nil && terr == nil && interval < timeout {
			pr.ScrapeTimeout = pr.ScrapeInterval
		}
	}
	if p.Cluster.Name == "" {
		p.Cluster.Name = p.Metadata.Name
	}
	m := &p.Monitoring
	if len(m.Flavours) == 0 {
		m.Flavours = []v1alpha1.Flavour{v1alpha1.FlavourPrometheus}
	}
	m.Prometheus.PodLabels = orLabels(m.Prometheus.PodLabels, "app.kubernetes.io/name", OperatorPodName(p))
	// The operator flavour's Prometheus finds Alertmanager through a
	// Service of this name. The Prometheus Operator gives every
	// Alertmanager it runs the headless Service alertmanager-operated
	// (port web 9093, selecting app.kubernetes.io/name=alertmanager:
	// prometheus-operator pkg/alertmanager/statefulset.go,
	// makeStatefulSetService), whatever the install; kube-prometheus-stack's
	// own is <release>-alertmanager, kube-prometheus' alertmanager-main:
	// none is named alertmanager.
	if m.Alertmanager.Service == "" {
		m.Alertmanager.Service = AlertmanagerOperatedService
	}
	defaultComponent(&m.Alertmanager, m.Namespace, "alertmanager", defaultAlertmanagerPort)
	defaultComponent(&m.Grafana, m.Namespace, "grafana", defaultGrafanaPort)
	defaultComponent(&m.KubeStateMetrics, m.Namespace, "kube-state-metrics", defaultKubeStateMetricsPort)
	// kube-prometheus-stack's node-exporter serves plaintext on 9100 and
	// carries its chart's name (prometheus-community/helm-charts charts/
	// prometheus-node-exporter/templates/_helpers.tpl, selectorLabels).
	// kube-prometheus' own (app.kubernetes.io/name=node-exporter) listens
	// on 127.0.0.1:9100 behind kube-rbac-proxy's HTTPS (kube-prometheus
	// jsonnet/kube-prometheus/components/node-exporter.libsonnet), which a
	// plaintext job cannot scrape whatever its labels.
	m.NodeExporter.PodLabels = orLabels(m.NodeExporter.PodLabels, "app.kubernetes.io/name", "prometheus-node-exporter")
	defaultComponent(&m.NodeExporter, m.Namespace, "node-exporter", defaultNodeExporterPort)
	// kube-prometheus-stack, whose port the default is, names the
	// operator's pods <chart>-prometheus-operator and gives them
	// app.kubernetes.io/component: prometheus-operator
	// (prometheus-community/helm-charts charts/kube-prometheus-stack/
	// templates/prometheus-operator/_prometheus-operator.tpl; its webhook
	// jobs are prometheus-operator-webhook): the component label holds
	// whatever the release is called.
	m.PrometheusOperator.PodLabels = orLabels(m.PrometheusOperator.PodLabels, "app.kubernetes.io/component", "prometheus-operator")
	defaultComponent(&m.PrometheusOperator, m.Namespace, "prometheus-operator", defaultPrometheusOperatorPort)
	for i := range p.Mesh.Gateways {
		if g := &p.Mesh.Gateways[i]; g.Namespace == "" {
			g.Namespace = p.Mesh.IstioNamespace
		}
	}
	p.Network.DNS.PodLabels = orLabels(p.Network.DNS.PodLabels, "k8s-app", "kube-dns")
	if g := &p.Network.Calico.GlobalDeny; len(g.ExcludedNamespaces) == 0 {
		g.ExcludedNamespaces = slices.Clone(DefaultExcludedNamespaces)
	}
	for i := range p.Teams {
		defaultTeam(&p.Teams[i])
	}
	defaultDashboards(p)
	defaultKialiTracing(p)
	return p
}

// OperatorPodName is the app.kubernetes.io/name the Prometheus Operator
// gives the pods it runs for the profile: "prometheus-agent" for a
// PrometheusAgent (pkg/prometheus/agent/operator.go), else "prometheus";
// it overwrites the pod metadata's value, so obsgen's selectors must use
// it. Without the operator flavour it is only the default.
func OperatorPodName(p *v1alpha1.Profile) string {
	if p.Monitoring.Prometheus.Mode == v1alpha1.ModeAgent && slices.Contains(p.Monitoring.Flavours, v1alpha1.FlavourOperator) {
		return "prometheus-agent"
	}
	return "prometheus"
}

func defaultComponent(c *v1alpha1.Component, namespace, name string, port int) {
	if c.Namespace == "" {
		c.Namespace = namespace
	}
	c.PodLabels = orLabels(c.PodLabels, "app.kubernetes.io/name", name)
	if c.Port == 0 {
		c.Port = port
	}
	if c.Service == "" {
		c.Service = name
	}
}

func defaultTeam(t *v1alpha1.Team) {
	if t.Alerting.Receiver == "" {
		t.Alerting.Receiver = t.Name
	}
	for i := range t.Services {
		if t.Services[i].Path == "" {
			t.Services[i].Path = defaultServicePath
		}
	}
}

func orLabels(m map[string]string, key, value string) map[string]string {
	if len(m) > 0 {
		return m
	}
	return map[string]string{key: value}
}

// applyTagDefaults sets every zero scalar field that carries a `default=`
// in its jsonschema tag, recursing into structs and slices of structs.
func applyTagDefaults(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Field(i)
			if def, ok := tagDefault(v.Type().Field(i)); ok {
				setDefault(f, def)
			}
			applyTagDefaults(f)
		}
	case reflect.Slice:
		for i := range v.Len() {
			applyTagDefaults(v.Index(i))
		}
	case reflect.Pointer:
		if !v.IsNil() && v.Elem().Kind() == reflect.Struct {
			applyTagDefaults(v.Elem())
		}
	}
}

// tagDefault reads `default=X` from a field's jsonschema tag.
func tagDefault(f reflect.StructField) (string, bool) {
	for part := range strings.SplitSeq(f.Tag.Get("jsonschema"), ",") {
		if v, ok := strings.CutPrefix(part, "default="); ok {
			return v, true
		}
	}
	return "", false
}

func setDefault(f reflect.Value, def string) {
	if f.Kind() == reflect.Pointer {
		if !f.IsNil() {
			return
		}
		f.Set(reflect.New(f.Type().Elem()))
		f = f.Elem()
	} else if !f.IsZero() {
		return
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(def)
	case reflect.Int:
		f.SetInt(int64(mustAtoi(def)))
	case reflect.Bool:
		f.SetBool(def == "true")
	case reflect.Float64:
		v, err := strconv.ParseFloat(def, 64)
		if err != nil {
			panic(fmt.Sprintf("plan: bad default %q: %v", def, err))
		}
		f.SetFloat(v)
	default:
		panic(fmt.Sprintf("plan: default tag on unsupported kind %s", f.Kind()))
	}
}

func mustAtoi(s string) int {
	i, err := strconv.Atoi(s)
	if err != nil {
		panic(fmt.Sprintf("plan: bad default %q: %v", s, err))
	}
	return i
}

// deepCopy copies the parts of a profile WithDefaults writes to, so the
// caller's profile is never changed.
func deepCopy(in *v1alpha1.Profile) *v1alpha1.Profile {
	p := *in
	if in.Mesh.MetricsMerging != nil {
		b := *in.Mesh.MetricsMerging
		p.Mesh.MetricsMerging = &b
	}
	m := &p.Monitoring
	m.Flavours = append([]v1alpha1.Flavour(nil), in.Monitoring.Flavours...)
	m.Prometheus.PodLabels = maps.Clone(in.Monitoring.Prometheus.PodLabels)
	for _, c := range []*v1alpha1.Component{&m.Alertmanager, &m.Grafana, &m.KubeStateMetrics, &m.NodeExporter, &m.PrometheusOperator} {
		c.PodLabels = maps.Clone(c.PodLabels)
	}
	p.Network.DNS.PodLabels = maps.Clone(in.Network.DNS.PodLabels)
	p.Mesh.Gateways = slices.Clone(in.Mesh.Gateways)
	p.Teams = make([]v1alpha1.Team, len(in.Teams))
	for i, t := range in.Teams {
		t.Services = append([]v1alpha1.Service(nil), t.Services...)
		p.Teams[i] = t
	}
	if len(in.Teams) == 0 {
		p.Teams = nil
	}
	copyDashboards(&p.Dashboards)
	copyKialiTracing(&p, in)
	return &p
}
