// Package operator generates the Prometheus Operator flavour under
// operator/: a Prometheus resource and, for every scrape job of the plan, the
// resource that expresses it with the raw job's relabeling:
//
//   - ServiceMonitor: kubernetes-apiservers, istiod (Service endpoints);
//   - PodMonitor: kube-state-metrics, node-exporter, ztunnel, envoy-stats,
//     prometheus and alertmanager;
//   - ScrapeConfig: the annotation-driven jobs, plaintext team-services and
//     the gateway and waypoint jobs (a PodMonitor's one selector cannot
//     name each gateway's labels in its namespace, and its portNumber keeps
//     only declared container ports, which a gateway's 15020 is not);
//   - additionalScrapeConfigs (a Secret the Prometheus resource references):
//     jobs that read files in the Prometheus container, which only raw
//     configuration can: the service-account token of kubelet and cadvisor,
//     and the Istio certificates of istio-certs (PodMonitor and ScrapeConfig
//     take TLS material from Secrets only; the certificates are written at
//     run time by the cert-writing sidecar).
package operator

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	yaml3 "go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
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

// AdditionalJobs names the plan's jobs that only raw configuration can
// express; they go into additionalScrapeConfigs.
func AdditionalJobs(p *plan.Plan) []string {
	var out []string
	for _, j := range p.Jobs {
		if needsFiles(j) {
			out = append(out, j.Name)
		}
	}
	return out
}

// needsFiles tells whether a job reads files in the Prometheus container:
// the service-account token (kubelet, cadvisor) or Istio certificates.
func needsFiles(j plan.Job) bool {
	return j.Kind == plan.JobKubelet || j.Kind == plan.JobCAdvisor || j.Endpoint.IstioTLS
}

// Generate builds the operator flavour from the jobs of the unsharded raw
// configuration (see ParseJobs) and the YAML of the jobs AdditionalJobs
// names (additional).
func Generate(p *plan.Plan, jobs map[string]*Job, additional []byte) ([]output.File, error) {
	selector := map[string]string{ProfileLabel: p.Name}
	b := builder{p: p, meta: func(job string) metav1.ObjectMeta { return Meta(p, job) }}
	var objects []object
	for _, j := range p.Jobs {
		if !needsFiles(j) {
			obj := b.resourceFor(j, jobs[j.Name])
			objects = append(objects, object{path: resourcePath(obj, j.Name), obj: obj})
		}
	}
	var secretRef *corev1.SecretKeySelector
	if len(additional) > 0 {
		secretRef = &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: AdditionalSecret(p)}, Key: AdditionalKey}
	}
	objects = append(objects, object{path: PrometheusPath, obj: b.prometheusResource(selector, secretRef)})
	files, err := manifests(objects)
	if err != nil {
		return nil, err
	}
	if len(additional) > 0 {
		files = append(files, additionalFile(additional))
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
	case plan.JobPods, plan.JobIstioMerged, plan.JobTeamServices, plan.JobGateways, plan.JobWaypoints:
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

// manifests serializes the objects concurrently (each is independent and
// the slowest step for large profiles), keeping their order.
func manifests(objects []object) ([]output.File, error) {
	files := make([]output.File, len(objects))
	errs := make([]error, len(objects))
	var wg sync.WaitGroup
	for i, o := range objects {
		wg.Go(func() { files[i], errs[i] = Manifest(o.path, o.obj) })
	}
	wg.Wait()
	return files, errors.Join(errs...)
}

// Meta names an operator resource <prometheus>-<suffix> (just <prometheus>
// for an empty suffix) in the monitoring namespace, with the profile label
// the Prometheus resource selects by.
func Meta(p *plan.Plan, suffix string) metav1.ObjectMeta {
	name := p.Monitoring.Prometheus.Name
	if suffix != "" {
		name += "-" + suffix
	}
	return metav1.ObjectMeta{Name: name, Namespace: p.Monitoring.Namespace,
		Labels: map[string]string{ProfileLabel: p.Name, "app.kubernetes.io/managed-by": "obsgen"}}
}

// Annotations that tell reviewers why an object exists: the reason in
// words, or the plan's flow IDs a policy allows (reports/connectivity.md
// explains each flow).
const (
	WhyAnnotation   = "obsgen.dev/why"
	FlowsAnnotation = "obsgen.dev/flows"
)

// Manifest serializes a resource without the empty fields Kubernetes types
// carry (creationTimestamp: null, status: {}), and decodes what is left
// strictly into its own type again, so dropping empty fields can never
// write a resource its type rejects. The check decodes JSON, a few times
// cheaper than YAML; internal/e2e decodes every written YAML document
// strictly by its kind.
func Manifest(path string, obj any) (output.File, error) {
	return Documents(path, []any{obj})
}

// document is obj as the map Manifest writes.
func document(path string, obj any) (map[string]any, error) {
	j, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	delete(m, "status")
	if meta, ok := m["metadata"].(map[string]any); ok {
		delete(meta, "creationTimestamp")
	}
	dropEmpty(m)
	if err := decodeStrict(m, obj); err != nil {
		return nil, fmt.Errorf("%s does not decode into %T: %w", path, obj, err)
	}
	return m, nil
}

// decodeStrict decodes m into a new value of obj's type, rejecting unknown
// fields.
func decodeStrict(m map[string]any, obj any) error {
	j, err := json.Marshal(m)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	t := reflect.TypeOf(obj)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return dec.Decode(reflect.New(t).Interface())
}

// Documents writes objects as one multi-document YAML file, each decoded
// strictly into its own type first (see Manifest).
func Documents[T any](path string, objs []T) (output.File, error) {
	var buf bytes.Buffer
	enc := yaml3.NewEncoder(&buf)
	enc.SetIndent(2)
	for _, obj := range objs {
		m, err := document(path, obj)
		if err != nil {
			return output.File{}, err
		}
		if err := enc.Encode(m); err != nil {
			return output.File{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := enc.Close(); err != nil {
		return output.File{}, fmt.Errorf("%s: %w", path, err)
	}
	return output.Manifest(path, buf.Bytes()), nil
}

// dropEmpty removes empty objects that Go structs without omitempty leave
// behind (resources: {}, rules: {alert: {}}), keeping empty selectors
// (selector, podSelector, namespaceSelector, and an AdminNetworkPolicy
// peer's namespaces): they mean "everything".
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
		if len(sub) == 0 && !strings.HasSuffix(strings.ToLower(k), "selector") && k != "namespaces" {
			delete(m, k)
		}
	}
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
