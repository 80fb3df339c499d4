// Package operator generates the Prometheus Operator flavour under
// operator/: a Prometheus resource and, for every scrape job of the plan, the
// resource that expresses it with the raw job's relabeling:
//
//   - ServiceMonitor: kubernetes-apiservers, istiod (Service endpoints);
//   - PodMonitor: kube-state-metrics, node-exporter, ztunnel, envoy-stats;
//   - ScrapeConfig: the annotation-driven jobs and plaintext team-services;
//   - additionalScrapeConfigs (a Secret the Prometheus resource references):
//     jobs that read files in the Prometheus container, which only raw
//     configuration can: the service-account token of kubelet and cadvisor,
//     and the Istio certificates of istio-certs (PodMonitor and ScrapeConfig
//     take TLS material from Secrets only; the certificates are written at
//     run time by the cert-writing sidecar).
package operator

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/config"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
)

// Paths and names of the operator flavour.
const (
	PrometheusPath = "operator/prometheus.yaml"
	AdditionalPath = "operator/additional-scrape-configs.yaml"
	AdditionalKey  = "additional-scrape-configs.yaml"
	ProfileLabel   = "obsgen.dev/profile"
)

// AdditionalSecret names the Secret that holds the additional scrape configs.
func AdditionalSecret(p *plan.Plan) string {
	return p.Monitoring.Prometheus.Name + "-additional-scrape-configs"
}

// Generate writes the operator flavour.
func Generate(p *plan.Plan, r *render.Engine) ([]output.File, error) {
	if !p.Monitoring.OperatorFlavour {
		return nil, nil
	}
	raw, err := loadRawJobs(p, r)
	if err != nil {
		return nil, err
	}
	selector := map[string]string{ProfileLabel: p.Name}
	b := builder{p: p, meta: func(job string) metav1.ObjectMeta {
		name := p.Monitoring.Prometheus.Name
		if job != "" {
			name += "-" + job
		}
		return metav1.ObjectMeta{Name: name, Namespace: p.Monitoring.Namespace,
			Labels: map[string]string{ProfileLabel: p.Name, "app.kubernetes.io/managed-by": "obsgen"}}
	}}
	var files []output.File
	var additional []string
	for _, j := range p.Jobs {
		obj := b.resourceFor(j, raw)
		if obj == nil {
			additional = append(additional, j.Name)
			continue
		}
		f, err := manifest(resourcePath(obj, j.Name), obj)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	var secretRef *corev1.SecretKeySelector
	if len(additional) > 0 {
		f, err := additionalFile(raw, additional)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		secretRef = &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: AdditionalSecret(p)}, Key: AdditionalKey}
	}
	f, err := manifest(PrometheusPath, b.prometheusResource(selector, secretRef))
	if err != nil {
		return nil, err
	}
	files = append(files, f)
	slices.SortFunc(files, func(a, b output.File) int { return cmp.Compare(a.Path, b.Path) })
	return files, nil
}

// resourceFor returns the resource that expresses job j, or nil when only
// additionalScrapeConfigs can.
func (b builder) resourceFor(j plan.Job, raw *rawJobs) any {
	rj := raw.parsed[j.Name]
	switch j.Kind {
	case plan.JobAPIServers:
		return b.serviceMonitor(j, rj, map[string]string{"component": "apiserver", "provider": "kubernetes"}, "https")
	case plan.JobIstiod:
		return b.serviceMonitor(j, rj, map[string]string{"app": "istiod"}, "http-monitoring")
	case plan.JobKubeStateMetrics, plan.JobNodeExporter, plan.JobZtunnel:
		return b.podMonitor(j, rj, "")
	case plan.JobEnvoyStats:
		return b.podMonitor(j, rj, "http-envoy-prom")
	case plan.JobPods, plan.JobIstioMerged:
		return b.scrapeConfig(j, rj)
	case plan.JobTeamServices:
		if !j.Endpoint.IstioTLS {
			return b.scrapeConfig(j, rj)
		}
	}
	return nil // kubelet, cadvisor, kubernetes-pods-istio-secure, TLS team-services
}

func resourcePath(obj any, job string) string {
	kind := map[string]string{"*v1.ServiceMonitor": "servicemonitor", "*v1.PodMonitor": "podmonitor",
		"*v1alpha1.ScrapeConfig": "scrapeconfig"}[fmt.Sprintf("%T", obj)]
	return fmt.Sprintf("operator/%s-%s.yaml", kind, job)
}

// manifest serializes a resource without the empty fields Kubernetes types
// carry (creationTimestamp: null, status: {}), then decodes it strictly into
// its own type again, so only valid resources are written.
func manifest(path string, obj any) (output.File, error) {
	j, err := json.Marshal(obj)
	if err != nil {
		return output.File{}, fmt.Errorf("%s: %w", path, err)
	}
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil {
		return output.File{}, fmt.Errorf("%s: %w", path, err)
	}
	delete(m, "status")
	if meta, ok := m["metadata"].(map[string]any); ok {
		delete(meta, "creationTimestamp")
	}
	dropEmpty(m)
	data, err := yaml.Marshal(m)
	if err != nil {
		return output.File{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := yaml.UnmarshalStrict(data, obj); err != nil {
		return output.File{}, fmt.Errorf("%s does not decode into %T: %w", path, obj, err)
	}
	return output.Manifest(path, data), nil
}

// dropEmpty removes empty objects that Go structs without omitempty leave
// behind (resources: {}, rules: {alert: {}}), keeping an empty selector,
// which means "everything".
func dropEmpty(m map[string]any) {
	for k, v := range m {
		sub, ok := v.(map[string]any)
		if !ok {
			if list, isList := v.([]any); isList {
				for _, item := range list {
					if im, isMap := item.(map[string]any); isMap {
						dropEmpty(im)
					}
				}
			}
			continue
		}
		dropEmpty(sub)
		if len(sub) == 0 && k != "selector" {
			delete(m, k)
		}
	}
}

func additionalFile(raw *rawJobs, jobs []string) (output.File, error) {
	data, err := raw.additionalYAML(jobs)
	if err != nil {
		return output.File{}, err
	}
	// Prove the list loads as scrape configs before it reaches the writer.
	var wrapped []byte
	for line := range strings.Lines(string(data)) {
		wrapped = append(wrapped, "  "+line...)
	}
	if _, err := config.Load("scrape_configs:\n"+string(wrapped), promslog.NewNopLogger()); err != nil {
		return output.File{}, fmt.Errorf("%s does not load in Prometheus: %w", AdditionalPath, err)
	}
	header := "# Scrape jobs that read files in the Prometheus container (service-account\n" +
		"# token, Istio certificates), which no operator resource can express. The\n" +
		"# Prometheus resource references them as additionalScrapeConfigs.\n"
	return output.YAML(AdditionalPath, append([]byte(header), data...)), nil
}
