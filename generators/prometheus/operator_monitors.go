package prometheus

import (
	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"obsgen.dev/obsgen/internal/plan"
)

// builder turns one job into a resource. It sees the raw job it mirrors.
type builder struct {
	p    *plan.Plan
	meta func(name string) metav1.ObjectMeta
}

func (b builder) serviceMonitor(j plan.Job, raw *Job, selector map[string]string, port string) *monitoringv1.ServiceMonitor {
	ep := monitoringv1.Endpoint{
		Port: port, Path: raw.MetricsPath, Scheme: scheme(raw.Scheme),
		RelabelConfigs: append(Relabelings(raw.RelabelConfigs), renameJob(j.Name)),
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

// podMonitor selects pods by label and namespace (all namespaces when the
// job names none) on a named port or a port number.
func (b builder) podMonitor(j plan.Job, raw *Job, portName string) *monitoringv1.PodMonitor {
	ep := monitoringv1.PodMetricsEndpoint{
		Path: raw.MetricsPath, Scheme: scheme(raw.Scheme), HonorLabels: raw.HonorLabels,
		RelabelConfigs:       append(Relabelings(raw.RelabelConfigs), renameJob(j.Name)),
		MetricRelabelConfigs: Relabelings(raw.MetricRelabelConfigs),
	}
	if portName != "" {
		ep.Port = &portName
	} else {
		port := int32(j.Endpoint.Port)
		ep.PortNumber = &port
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
		JobName:             &name,
		KubernetesSDConfigs: []monitoringv1alpha1.KubernetesSDConfig{sd},
		RelabelConfigs:      Relabelings(raw.RelabelConfigs),
		Scheme:              scheme(raw.Scheme),
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

func scheme(s string) *monitoringv1.Scheme {
	switch s {
	case "https":
		v := monitoringv1.SchemeHTTPS
		return &v
	}
	v := monitoringv1.SchemeHTTP // expressible allows only http besides
	return &v
}
