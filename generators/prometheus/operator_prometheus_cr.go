package prometheus

import (
	"maps"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"obsgen.dev/obsgen/internal/plan"
)

// prometheusResource is the Prometheus the monitors are for: it selects them
// (and later the PrometheusRules) by the profile label, carries the pod
// wiring of the scrape strategy, the shards and remote write, and points at
// Alertmanager. In agent mode it is a PrometheusAgent: no rules, no
// alerting.
func (b builder) prometheusResource(selector map[string]string, additional *corev1.SecretKeySelector) any {
	m := b.p.Monitoring
	pr := m.Prometheus
	sel := &metav1.LabelSelector{MatchLabels: selector}
	common := monitoringv1.CommonPrometheusFields{
		PodMetadata: &monitoringv1.EmbeddedObjectMetadata{
			Labels:      append(append(plan.Labels{}, pr.PodLabels...), pr.MeshPodLabels...).Map(),
			Annotations: pr.PodAnnotations.Map(),
		},
		ServiceAccountName:      pr.ServiceAccount,
		ServiceMonitorSelector:  sel,
		PodMonitorSelector:      sel,
		ScrapeConfigSelector:    sel,
		ProbeSelector:           sel,
		ScrapeInterval:          monitoringv1.Duration(b.p.Scrape.Interval),
		ScrapeTimeout:           monitoringv1.Duration(b.p.Scrape.Timeout),
		ExternalLabels:          b.p.ExternalLabels.Map(),
		AdditionalScrapeConfigs: additional,
		RemoteWrite:             remoteWrites(pr.RemoteWrite),
	}
	// The operator adds the external labels prometheus="<ns>/<name>" and
	// prometheus_replica="<pod>" unless they are named "" (promcfg.go;
	// the fields' documentation): every series and alert would then differ
	// from the raw flavour's, and a series would change identity with its
	// pod in the remote store.
	none := ""
	common.PrometheusExternalLabelName, common.ReplicaExternalLabelName = &none, &none
	if b.p.Scrape.Shards > 1 {
		shards := int32(b.p.Scrape.Shards)
		common.Shards = &shards
		// The raw shards' `shard` external label. The operator's config
		// reloader expands $(SHARD) in the configuration it writes for each
		// shard, as it does in the operator's own sharding relabelings and
		// $(POD_NAME) in prometheus_replica (pkg/prometheus/promcfg.go;
		// pkg/operator/config_reloader.go ShardEnvVar).
		common.ExternalLabels = maps.Clone(common.ExternalLabels)
		common.ExternalLabels[plan.ShardLabel] = "$(SHARD)"
	}
	if s := pr.Storage; s != nil {
		// One ReadWriteOnce claim per pod (Documentation/platform/storage.md;
		// the operator fills in ReadWriteOnce when no access mode is given,
		// pkg/prometheus/server/statefulset.go). Validation parsed the size.
		claim := corev1.PersistentVolumeClaimSpec{
			AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(s.Size)}},
		}
		if s.StorageClassName != "" {
			claim.StorageClassName = &s.StorageClassName
		}
		common.Storage = &monitoringv1.StorageSpec{VolumeClaimTemplate: monitoringv1.EmbeddedPersistentVolumeClaim{Spec: claim}}
		// A new volume is root's; Prometheus' image runs as nobody (65534)
		// and the operator sets no security context of its own, so without
		// fsGroup Prometheus cannot write its data (permission denied on
		// queries.active; prometheus-operator#541, #3459). The values are
		// the operator's own example (Documentation/platform/storage.md).
		nobody, nonRoot := int64(65534), true
		common.SecurityContext = &corev1.PodSecurityContext{FSGroup: &nobody, RunAsUser: &nobody, RunAsNonRoot: &nonRoot}
	}
	if pr.CertsVolume != "" {
		source := corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}
		if pr.CertsSecret != "" {
			source = corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: pr.CertsSecret}}
		}
		common.Volumes = []corev1.Volume{{Name: pr.CertsVolume, VolumeSource: source}}
		common.VolumeMounts = []corev1.VolumeMount{{Name: pr.CertsVolume, MountPath: b.p.Scrape.TLS.MountPath, ReadOnly: true}}
	}
	if b.usesIstioScrapeClass() {
		// The files the cert-writing sidecar writes; Istio workload
		// certificates name a SPIFFE identity, not the pod IP, so the server
		// name goes unchecked, as in the raw jobs (and in the operator's
		// Documentation/developer/scrapeclass.md Istio example).
		tls := b.p.Scrape.TLS
		skip := true
		common.ScrapeClasses = []monitoringv1.ScrapeClass{{Name: IstioScrapeClass, TLSConfig: &monitoringv1.TLSConfig{
			SafeTLSConfig:  monitoringv1.SafeTLSConfig{InsecureSkipVerify: &skip},
			TLSFilesConfig: monitoringv1.TLSFilesConfig{CAFile: tls.CAFile, CertFile: tls.CertFile, KeyFile: tls.KeyFile},
		}}}
	}
	if pr.Agent {
		return &monitoringv1alpha1.PrometheusAgent{
			TypeMeta:   metav1.TypeMeta{APIVersion: monitoringv1alpha1.SchemeGroupVersion.String(), Kind: monitoringv1alpha1.PrometheusAgentsKind},
			ObjectMeta: b.meta(""),
			Spec:       monitoringv1alpha1.PrometheusAgentSpec{CommonPrometheusFields: common},
		}
	}
	am := m.Alertmanager
	return &monitoringv1.Prometheus{
		TypeMeta:   metav1.TypeMeta{APIVersion: monitoringv1.SchemeGroupVersion.String(), Kind: monitoringv1.PrometheusesKind},
		ObjectMeta: b.meta(""),
		Spec: monitoringv1.PrometheusSpec{
			CommonPrometheusFields: common,
			// Long enough for the longest range the rules read (plan.Retention):
			// the operator's default is 24h (pkg/prometheus/common.go).
			Retention:          monitoringv1.Duration(pr.Retention),
			EvaluationInterval: monitoringv1.Duration(b.p.Scrape.EvaluationInterval),
			RuleSelector:       ruleSelector(sel),
			Alerting: &monitoringv1.AlertingSpec{Alertmanagers: []monitoringv1.AlertmanagerEndpoints{{
				Namespace: &am.Namespace, Name: am.Service, Port: intstr.FromInt32(int32(am.Port)),
				AlertRelabelConfigs: b.alertRelabelings,
			}}},
		},
	}
}

// prometheusService is the Service <prometheus.name> in front of the
// Prometheus pods, which the data source, Kiali and the federation target
// default to (http://<prometheus.name>.<namespace>.svc:9090). The operator
// creates only the headless governing Service prometheus-operated
// (pkg/prometheus/server/statefulset.go governingServiceName), so without
// this one those defaults resolve to nothing on a cluster that runs the
// operator flavour alone. The selector and port follow the operator's
// Documentation/platform/exposing-prometheus-and-alertmanager.md: every
// Prometheus pod carries prometheus: <name> (makeSelectorLabels in
// pkg/prometheus/server/operator.go, a StatefulSet selector label, so it
// never changes) and its container port web is 9090
// (pkg/prometheus/common.go BuildStatefulSetService, DefaultPortName).
//
// None for an agent, which answers no queries, or for shards: each holds
// part of the series, so a Service across them would answer at random
// (validation requires the data source URL and the federation targets
// then); and none when neither the data source nor a federation target
// names it, so a Service of that name the platform runs is left alone.
// The port says appProtocol http, so Istio does not sniff the protocol
// of a port whose name has no protocol prefix (istio.io docs/ops/
// configuration/traffic-management/protocol-selection).
func (b builder) prometheusService() *corev1.Service {
	pr := b.p.Monitoring.Prometheus
	if pr.Agent || b.p.Scrape.Shards > 1 || !b.p.UsesPrometheusService() {
		return nil
	}
	http := "http"
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: b.meta(""),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: map[string]string{"prometheus": pr.Name},
			Ports: []corev1.ServicePort{{Name: "web", Port: plan.PrometheusPort, Protocol: corev1.ProtocolTCP,
				TargetPort: intstr.FromString("web"), AppProtocol: &http}},
		},
	}
}

// usesIstioScrapeClass tells whether a ScrapeConfig names the Istio scrape
// class.
func (b builder) usesIstioScrapeClass() bool {
	for _, j := range b.p.Jobs {
		if j.Endpoint.IstioTLS && !needsFiles(b.p, j) {
			return true
		}
	}
	return false
}

func remoteWrites(in []plan.RemoteWrite) []monitoringv1.RemoteWriteSpec {
	var out []monitoringv1.RemoteWriteSpec
	for _, rw := range in {
		spec := monitoringv1.RemoteWriteSpec{URL: monitoringv1.URL(rw.URL), Name: &rw.Name, Headers: rw.Headers.Map()}
		if rw.Capacity+rw.MinShards+rw.MaxShards+rw.MaxSamplesPerSend > 0 || rw.BatchSendDeadline != "" {
			spec.QueueConfig = &monitoringv1.QueueConfig{Capacity: rw.Capacity, MinShards: rw.MinShards,
				MaxShards: rw.MaxShards, MaxSamplesPerSend: rw.MaxSamplesPerSend}
			if rw.BatchSendDeadline != "" {
				d := monitoringv1.Duration(rw.BatchSendDeadline)
				spec.QueueConfig.BatchSendDeadline = &d
			}
		}
		out = append(out, spec)
	}
	return out
}

// ruleSelector selects the profile's PrometheusRules meant for Prometheus:
// those for a Thanos Ruler carry the same profile label and another
// evaluator label.
func ruleSelector(sel *metav1.LabelSelector) *metav1.LabelSelector {
	out := sel.DeepCopy()
	out.MatchLabels[plan.EvaluatorLabel] = plan.EvaluatorPrometheus
	return out
}
