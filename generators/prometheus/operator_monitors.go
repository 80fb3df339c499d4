package prometheus

import (
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"obsgen.dev/obsgen/internal/plan"
)

// builder turns one job into a resource. It sees the raw job it mirrors.
type builder struct {
	p    *plan.Plan
	meta func(name string) metav1.ObjectMeta
	// alertRelabelings are the raw configuration's alert_relabel_configs.
	alertRelabelings []monitoringv1.RelabelConfig
}

func (b builder) serviceMonitor(j plan.Job, raw *Job, selector map[string]string, port string) *monitoringv1.ServiceMonitor {
	ep := monitoringv1.Endpoint{
		Port: port, Path: raw.MetricsPath, Scheme: monitorScheme(raw.Scheme), HonorLabels: raw.HonorLabels,
		RelabelConfigs: fromDiscovery(withJob(j.Name, raw.RelabelConfigs)),
	}
	if len(raw.MetricRelabelConfigs) > 0 {
		ep.MetricRelabelConfigs = Relabelings(raw.MetricRelabelConfigs)
	}
	if j.Kind == plan.JobAPIServers {
		ep.BearerTokenFile = plan.ServiceAccountTokenFile
		ep.TLSConfig = &monitoringv1.TLSConfig{TLSFilesConfig: monitoringv1.TLSFilesConfig{CAFile: plan.ServiceAccountCAFile}}
	}
	return &monitoringv1.ServiceMonitor{
		TypeMeta:   metav1.TypeMeta{APIVersion: monitoringv1.SchemeGroupVersion.String(), Kind: monitoringv1.ServiceMonitorsKind},
		ObjectMeta: b.meta(j.Name),
		Spec: monitoringv1.ServiceMonitorSpec{
			Selector:          metav1.LabelSelector{MatchLabels: selector},
			NamespaceSelector: monitoringv1.NamespaceSelector{MatchNames: j.Namespaces},
			Endpoints:         []monitoringv1.Endpoint{ep},
		},
	}
}

// fromDiscovery starts a monitor's relabelings from the labels discovery
// gives a target, as a raw job's start. The operator gives every target
// of a monitor labels of its own before the monitor's relabelings
// (pkg/prometheus/promcfg.go, v0.72.0 to v0.93.0:
// generateServiceMonitorConfig: node or pod from the endpoint's target,
// namespace, service, pod, container and endpoint;
// generatePodMonitorConfig: namespace, container, pod and endpoint); a
// raw job sets only some of them, kube-state-metrics none, so the series
// of nodes, deployments and volumes got the exporter's namespace and pod,
// which changed on every exporter rollout. A first labeldrop of those
// labels (the job is named next) makes the copied relabelings give the
// raw job's labels (kube-prometheus' kube-state-metrics ServiceMonitor
// drops pod, service, endpoint and namespace for the same reason). Labels
// a scrape class's relabelings add, which the operator puts before the
// monitor's, are kept; the operator's later relabelings (sharding,
// enforcedNamespaceLabel) come after.
func fromDiscovery(relabelings []monitoringv1.RelabelConfig) []monitoringv1.RelabelConfig {
	return append([]monitoringv1.RelabelConfig{{Action: "labeldrop", Regex: strings.Join(operatorTargetLabels, "|")}}, relabelings...)
}

// operatorTargetLabels are the labels the operator gives monitor targets.
var operatorTargetLabels = []string{"node", "namespace", "service", "pod", "container", "endpoint"}

// podMonitor selects pods by label and namespace (all namespaces when the
// job names none) on a named port or a port number.
func (b builder) podMonitor(j plan.Job, raw *Job, portName string) *monitoringv1.PodMonitor {
	ep := monitoringv1.PodMetricsEndpoint{
		Path: raw.MetricsPath, Scheme: monitorScheme(raw.Scheme), HonorLabels: raw.HonorLabels,
		RelabelConfigs:       fromDiscovery(withJob(j.Name, raw.RelabelConfigs)),
		MetricRelabelConfigs: Relabelings(raw.MetricRelabelConfigs),
	}
	switch {
	case portName != "":
		ep.Port = &portName
	case b.p.Monitoring.PodMonitorPortNumber:
		port := int32(j.Endpoint.Port)
		ep.PortNumber = &port
	default:
		// Before portNumber, the deprecated targetPort keeps the same
		// declared container port (__meta_kubernetes_pod_container_port_number).
		port := intstr.FromInt32(int32(j.Endpoint.Port))
		ep.TargetPort = &port
	}
	ns := monitoringv1.NamespaceSelector{MatchNames: j.Namespaces, Any: len(j.Namespaces) == 0}
	return &monitoringv1.PodMonitor{
		TypeMeta:   metav1.TypeMeta{APIVersion: monitoringv1.SchemeGroupVersion.String(), Kind: monitoringv1.PodMonitorsKind},
		ObjectMeta: b.meta(j.Name),
		Spec: monitoringv1.PodMonitorSpec{
			Selector:            metav1.LabelSelector{MatchLabels: j.Selector.Map()},
			NamespaceSelector:   ns,
			PodMetricsEndpoints: []monitoringv1.PodMetricsEndpoint{ep},
		},
	}
}

// scrapeConfig mirrors an annotation- or relabel-driven pod job exactly: the
// same discovery (in the job's namespaces, or all), relabeling and job name.
func (b builder) scrapeConfig(j plan.Job, raw *Job) *monitoringv1alpha1.ScrapeConfig {
	name := j.Name
	sd := monitoringv1alpha1.KubernetesSDConfig{Role: monitoringv1alpha1.KubernetesRolePod}
	if len(j.Namespaces) > 0 {
		sd.Namespaces = &monitoringv1alpha1.NamespaceDiscovery{Names: j.Namespaces}
	}
	spec := monitoringv1alpha1.ScrapeConfigSpec{
		KubernetesSDConfigs: []monitoringv1alpha1.KubernetesSDConfig{sd},
		RelabelConfigs:      Relabelings(raw.RelabelConfigs),
		Scheme:              scrapeConfigScheme(raw.Scheme),
		HonorLabels:         honorLabels(raw.HonorLabels),
	}
	if b.p.Monitoring.ScrapeConfigJobName {
		spec.JobName = &name
	} else {
		// The operator names the job scrapeConfig/<namespace>/<name>; a
		// first relabeling names it as job_name does in the raw flavour.
		spec.RelabelConfigs = withJob(name, raw.RelabelConfigs)
	}
	if raw.MetricsPath != "/metrics" {
		spec.MetricsPath = &raw.MetricsPath
	}
	if len(raw.MetricRelabelConfigs) > 0 {
		spec.MetricRelabelConfigs = Relabelings(raw.MetricRelabelConfigs)
	}
	if j.Endpoint.IstioTLS {
		class := IstioScrapeClass
		spec.ScrapeClassName = &class
	}
	return &monitoringv1alpha1.ScrapeConfig{
		TypeMeta:   metav1.TypeMeta{APIVersion: monitoringv1alpha1.SchemeGroupVersion.String(), Kind: monitoringv1alpha1.ScrapeConfigsKind},
		ObjectMeta: b.meta(j.Name),
		Spec:       spec,
	}
}

// monitorScheme is the scheme of a ServiceMonitor or PodMonitor endpoint,
// in lower case: their CRDs take only http and https before 0.87, when
// type Scheme added HTTP and HTTPS (CRDs of v0.86.0 and v0.87.0).
func monitorScheme(s string) *monitoringv1.Scheme {
	v := monitoringv1.Scheme("http") // expressible allows only https besides
	if strings.EqualFold(s, "https") {
		v = "https"
	}
	return &v
}

// scrapeConfigScheme is a ScrapeConfig's scheme, in upper case: its CRD
// takes only HTTP and HTTPS before 0.87, and both spellings since.
func scrapeConfigScheme(s string) *monitoringv1.Scheme {
	v := monitoringv1.SchemeHTTP
	if strings.EqualFold(s, "https") {
		v = monitoringv1.SchemeHTTPS
	}
	return &v
}

func honorLabels(honor bool) *bool {
	if !honor {
		return nil
	}
	return &honor
}
