// The Prometheus Operator flavour, under operator/: a Prometheus resource and, for every scrape job of the plan, the
// resource that expresses it with the raw job's relabeling:
//
//   - ServiceMonitor: kubernetes-apiservers, istiod (Service endpoints);
//   - PodMonitor: kube-state-metrics, node-exporter, ztunnel, envoy-stats,
//     prometheus and alertmanager;
//   - ScrapeConfig: the annotation-driven jobs, plaintext team-services and
//     the gateway and waypoint jobs (a PodMonitor's one selector cannot
//     name each gateway's labels in its namespace, and its portNumber keeps
//     only declared container ports, which a gateway's 15020 is not);
//   - the jobs that present Istio certificates (istio-certs, secure-port):
//     ScrapeConfigs of the scrape class istio-mtls, which the Prometheus
//     resource defines with the certificate files, when the operator's
//     scrape classes carry TLS files (monitoring.operatorVersion 0.74+,
//     prometheus-operator#6573; Documentation/developer/scrapeclass.md
//     shows the same class for Istio). A PodMonitor would not do: its
//     portNumber keeps declared container ports only, and neither the
//     secure merged port nor an annotated application port need be one;
//   - additionalScrapeConfigs (a Secret the Prometheus resource references):
//     jobs that read files in the Prometheus container, which only raw
//     configuration can: the service-account token of kubelet and cadvisor,
//     and, for operators before 0.74, the Istio certificates (PodMonitor and
//     ScrapeConfig take TLS material from Secrets only; the certificates are
//     written at run time by the cert-writing sidecar).
package prometheus

import (
	"cmp"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"obsgen.dev/obsgen/internal/manifest"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/promcheck"
)

// Paths and names of the operator flavour.
const (
	PrometheusPath = "operator/prometheus.yaml"
	// ServicePath holds the Service in front of the Prometheus pods.
	ServicePath    = "operator/service-prometheus.yaml"
	AdditionalPath = "operator/additional-scrape-configs.yaml"
	AdditionalKey  = "additional-scrape-configs.yaml"
	// ProfileLabel is the label the Prometheus resource selects its
	// monitors and rules by.
	ProfileLabel = manifest.ProfileLabel
	// IstioScrapeClass names the scrape class that carries the Istio
	// certificate files.
	IstioScrapeClass = "istio-mtls"
)

// AdditionalSecret names the Secret that holds the additional scrape configs.
func AdditionalSecret(p *plan.Plan) string {
	return p.Monitoring.Prometheus.Name + "-additional-scrape-configs"
}

// AdditionalJobs names the plan's jobs that only raw configuration can
// express; they go into additionalScrapeConfigs.
func AdditionalJobs(p *plan.Plan) []string {
	var out []string
	for _, j := range p.Jobs {
		if needsFiles(p, j) {
			out = append(out, j.Name)
		}
	}
	return out
}

// needsFiles tells whether a job reads files in the Prometheus container
// that no operator resource can name: the service-account token (kubelet,
// cadvisor), or Istio certificates without scrape classes.
func needsFiles(p *plan.Plan, j plan.Job) bool {
	return j.Kind == plan.JobKubelet || j.Kind == plan.JobCAdvisor || j.Endpoint.IstioTLS && !p.Monitoring.ScrapeClasses
}

// operatorResources builds the operator flavour from the jobs of the unsharded raw
// configuration (see ParseJobs) and the YAML of the jobs AdditionalJobs
// names (additional).
func operatorResources(p *plan.Plan, jobs map[string]*Job, additional []byte, alertRelabelings []promcheck.Relabeling) ([]output.File, error) {
	selector := map[string]string{ProfileLabel: p.Name}
	b := builder{p: p, meta: func(job string) metav1.ObjectMeta { return manifest.Meta(p, job) }}
	if len(alertRelabelings) > 0 {
		// The Alertmanager endpoint's alertRelabelings (0.74, #6450), which
		// the operator writes as that endpoint's alert_relabel_configs:
		// with its one endpoint, the same alerts reach Alertmanager.
		if !p.Monitoring.AlertmanagerRelabelings {
			return nil, fmt.Errorf("%s relabels alerts (alert_relabel_configs: teams[].alerting.labels), which a Prometheus resource holds from Prometheus Operator 0.%d on", configTemplate, plan.AlertmanagerRelabelingsMinor)
		}
		b.alertRelabelings = Relabelings(alertRelabelings)
	}
	var objects []object
	for _, j := range p.Jobs {
		if !needsFiles(p, j) {
			if jobs[j.Name] == nil {
				return nil, fmt.Errorf("%s renders no scrape job %q, which the operator flavour's resources copy; a template override must keep every job", configTemplate, j.Name)
			}
			if err := expressible(jobs[j.Name]); err != nil {
				return nil, fmt.Errorf("%s: %w", configTemplate, err)
			}
			obj := b.resourceFor(j, jobs[j.Name])
			objects = append(objects, object{path: resourcePath(obj, j.Name), obj: obj})
		}
	}
	var secretRef *corev1.SecretKeySelector
	if len(additional) > 0 {
		secretRef = &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: AdditionalSecret(p)}, Key: AdditionalKey}
	}
	objects = append(objects, object{path: PrometheusPath, obj: b.prometheusResource(selector, secretRef)})
	if svc := b.prometheusService(); svc != nil {
		objects = append(objects, object{path: ServicePath, obj: svc})
	}
	files, err := manifests(objects)
	if err != nil {
		return nil, err
	}
	rbac, err := manifest.Documents(RBACPath, b.prometheusRBAC())
	if err != nil {
		return nil, err
	}
	files = append(files, rbac)
	if len(additional) > 0 {
		files = append(files, additionalFile(additional).Shipped(output.Ship{As: output.ShipScrapeConfigSecret,
			Name: AdditionalSecret(p), Key: AdditionalKey}))
	}
	slices.SortFunc(files, func(a, b output.File) int { return cmp.Compare(a.Path, b.Path) })
	return files, nil
}

// resourceFor returns the resource that expresses job j, mirroring the raw
// job rj. Jobs that need files are not asked for (see needsFiles).
func (b builder) resourceFor(j plan.Job, rj *Job) any {
	switch j.Kind {
	case plan.JobAPIServers:
		return b.serviceMonitor(j, rj, map[string]string{"component": "apiserver", "provider": "kubernetes"}, "https")
	case plan.JobIstiod:
		return b.serviceMonitor(j, rj, plan.IstiodLabels.Map(), plan.PortNameIstiodMonitoring)
	case plan.JobKubeStateMetrics, plan.JobNodeExporter, plan.JobZtunnel, plan.JobPrometheus, plan.JobAlertmanager:
		return b.podMonitor(j, rj, "")
	case plan.JobEnvoyStats:
		return b.podMonitor(j, rj, plan.PortNameEnvoyProm)
	case plan.JobPods, plan.JobPodsIstioSecure, plan.JobIstioMerged, plan.JobTeamServices, plan.JobGateways, plan.JobWaypoints:
		return b.scrapeConfig(j, rj)
	}
	panic(fmt.Sprintf("operator: no resource for job kind %s", j.Kind))
}

func resourcePath(obj any, job string) string {
	kind := map[string]string{"*v1.ServiceMonitor": "servicemonitor", "*v1.PodMonitor": "podmonitor",
		"*v1alpha1.ScrapeConfig": "scrapeconfig"}[fmt.Sprintf("%T", obj)]
	return fmt.Sprintf("operator/%s-%s.yaml", kind, job)
}

// object is a resource and the path it is written to.
type object struct {
	path string
	obj  any
}

// manifests writes each object to its own file, in order.
func manifests(objects []object) ([]output.File, error) {
	files := make([]output.File, len(objects))
	for i, o := range objects {
		f, err := manifest.File(o.path, o.obj)
		if err != nil {
			return nil, err
		}
		files[i] = f
	}
	return files, nil
}

// additionalFile holds the jobs only raw configuration can express. They are
// rendered by the same template as prometheus.yml; the tests load the list
// as scrape configs.
func additionalFile(data []byte) output.File {
	header := "# Scrape jobs that read files in the Prometheus container (service-account\n" +
		"# token, Istio certificates), which no operator resource can express. The\n" +
		"# Prometheus resource references them as additionalScrapeConfigs.\n"
	return output.YAML(AdditionalPath, append([]byte(header), data...))
}
