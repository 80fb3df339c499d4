package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/pipeline"
	"obsgen.dev/obsgen/internal/plan"
)

// Istio holds the tools of the Istio checks: istioctl (validate, and
// analyze offline when Analyze is empty) and, optionally, istio-analyze
// (tools/istioctl/analyze), which runs the same analyzers with the
// synthetic cluster's namespaces and pods, as a live cluster would give
// them to `istioctl analyze`.
type Istio struct {
	Istioctl string
	Analyze  string
}

// IstioMessage is one analyzer message, as `istioctl analyze -o json`
// prints it.
type IstioMessage struct {
	Code      string `json:"code"`
	Level     string `json:"level"`
	Message   string `json:"message"`
	Origin    string `json:"origin"`
	Reference string `json:"reference"`
}

func (m IstioMessage) String() string {
	return fmt.Sprintf("%s %s [%s] %s", m.Level, m.Code, m.Origin, m.Message)
}

// key identifies a message without the file position, which differs
// between runs over different file sets.
func (m IstioMessage) key() string { return m.Code + "|" + m.Origin + "|" + m.Message }

// IstioFiles are the generated files that hold Istio objects (an apiVersion
// of a *.istio.io group), the install overlay included.
func IstioFiles(res *pipeline.Result) []output.File {
	var out []output.File
	for _, f := range res.Files {
		if !strings.HasSuffix(f.Path, ".yaml") {
			continue
		}
		dec := yaml.NewDecoder(bytes.NewReader(f.Data))
		for {
			var doc struct {
				APIVersion string `yaml:"apiVersion"`
			}
			if err := dec.Decode(&doc); err != nil {
				break
			}
			if group, _, ok := strings.Cut(doc.APIVersion, "/"); ok && strings.HasSuffix(group, ".istio.io") {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// Check validates every Istio object obsgen wrote with istioctl validate,
// then analyzes them with Istio's analyzers next to a synthetic cluster
// built from the plan and what it does not describe (an unowned meshed
// namespace, the mesh's own pods). A message counts against obsgen only
// when the same analysis without obsgen's objects does not give it, and
// only at Warning or Error: the synthetic cluster's own remarks are not
// obsgen's doing.
func (t Istio) Check(ctx context.Context, res *pipeline.Result) (Report, error) {
	var r Report
	files := IstioFiles(res)
	if len(files) == 0 {
		return r, nil
	}
	dir, err := os.MkdirTemp("", "obsgen-istio-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	var paths []string
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return r, err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return r, err
		}
		paths = append(paths, p)
		out, err := run(ctx, t.Istioctl, "validate", "-f", p)
		if err != nil {
			r.Problems = append(r.Problems, fmt.Sprintf("%s fails istioctl validate: %s", f.Path, oneLineText(out+" "+err.Error())))
			continue
		}
		r.Checked = append(r.Checked, f.Path+" passes istioctl validate")
	}
	// The install overlay is no cluster object: validate only.
	objects := slices.DeleteFunc(slices.Clone(paths), func(p string) bool { return strings.HasSuffix(p, "istiooperator.yaml") })
	if len(objects) == 0 {
		return r, nil
	}
	if t.Analyze == "" {
		msgs, err := t.analyzeOffline(ctx, objects)
		if err != nil {
			return r, err
		}
		r.add(msgs, nil, "istioctl analyze --use-kube=false", len(objects))
		return r, nil
	}
	world := filepath.Join(dir, "cluster.yaml")
	if err := os.WriteFile(world, SyntheticCluster(res.Plan), 0o644); err != nil {
		return r, err
	}
	base, err := t.analyze(ctx, res.Plan, world)
	if err != nil {
		return r, err
	}
	all, err := t.analyze(ctx, res.Plan, append([]string{world}, objects...)...)
	if err != nil {
		return r, err
	}
	// The Prometheus pods carry obsgen's labels and annotations: their
	// messages are obsgen's even though the cluster alone shows them.
	ours := fmt.Sprintf("Pod %s/%s-", res.Plan.Monitoring.Namespace, res.Plan.Monitoring.Prometheus.Name)
	base = slices.DeleteFunc(base, func(m IstioMessage) bool { return strings.HasPrefix(m.Origin, ours) })
	r.add(all, base, "Istio's analyzers with a synthetic cluster", len(objects))
	return r, nil
}

// add reports the messages at Warning or above that base does not have.
func (r *Report) add(msgs, base []IstioMessage, by string, files int) {
	seen := map[string]bool{}
	for _, m := range base {
		seen[m.key()] = true
	}
	found := 0
	for _, m := range msgs {
		if seen[m.key()] || (m.Level != "Error" && m.Level != "Warning") {
			continue
		}
		found++
		r.Problems = append(r.Problems, "Istio analysis: "+m.String())
	}
	if found == 0 {
		r.Checked = append(r.Checked, fmt.Sprintf("%d Istio object files pass %s", files, by))
	}
}

func (t Istio) analyze(ctx context.Context, p *plan.Plan, files ...string) ([]IstioMessage, error) {
	out, err := run(ctx, t.Analyze, append([]string{"-istio-namespace", p.Mesh.IstioNamespace}, files...)...)
	if err != nil {
		return nil, fmt.Errorf("istio-analyze: %v: %s", err, out)
	}
	return parseMessages(out)
}

// analyzeOffline runs istioctl analyze on the files alone (it leaves pods
// and namespaces in files out, so selectors go unchecked), every namespace.
func (t Istio) analyzeOffline(ctx context.Context, files []string) ([]IstioMessage, error) {
	out, err := run(ctx, t.Istioctl, append([]string{"analyze", "--use-kube=false", "--all-namespaces", "-o", "json", "--failure-threshold", "Error"}, files...)...)
	msgs, perr := parseMessages(out)
	if perr != nil {
		if err != nil {
			return nil, fmt.Errorf("istioctl analyze: %v: %s", err, out)
		}
		return nil, perr
	}
	return msgs, nil
}

// parseMessages reads the JSON list that starts the output.
func parseMessages(out string) ([]IstioMessage, error) {
	start := strings.Index(out, "[")
	if start < 0 {
		return nil, fmt.Errorf("no analysis in the output: %s", oneLineText(out))
	}
	var msgs []IstioMessage
	dec := json.NewDecoder(strings.NewReader(out[start:]))
	if err := dec.Decode(&msgs); err != nil {
		return nil, fmt.Errorf("read the analysis: %w", err)
	}
	return msgs, nil
}

func run(ctx context.Context, tool string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			return "", err
		}
		return stdout.String() + stderr.String(), err
	}
	return stdout.String(), nil
}

// oneLineText joins a tool's output on one line.
func oneLineText(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// SyntheticCluster is a cluster for the analyzers: the namespaces the
// profile names, labelled as the data plane enrolls them, one pod per team
// service, the monitoring stack, istiod (and ztunnel), the declared
// gateways and waypoints, and what the profile does not describe: a
// meshed namespace no team owns with a pod of its own, and an unmeshed
// one.
func SyntheticCluster(p *plan.Plan) []byte {
	w := &synthetic{p: p, namespaces: map[string]map[string]string{}}
	mesh := map[string]string{"istio-injection": "enabled"}
	if p.Mesh.Ambient {
		mesh = map[string]string{"istio.io/dataplane-mode": "ambient"}
	}
	w.namespace(p.Mesh.IstioNamespace, nil)
	for _, ns := range p.TeamNamespaces() {
		w.namespace(ns, mesh)
	}
	m := p.Monitoring
	// In the mesh, the monitoring namespace is labelled for injection or,
	// in ambient, may be enrolled as a whole (monitoring.inMesh): the
	// synthetic cluster enrolls it, so the stack's pods are meshed.
	monLabels := map[string]string(nil)
	if m.InMesh {
		monLabels = mesh
	}
	w.namespace(m.Namespace, monLabels)
	w.namespace("obsgen-unowned", mesh)
	w.namespace("obsgen-outside", nil)

	w.pod(p.Mesh.IstioNamespace, "istiod-1", plan.IstiodLabels.Map(), nil, false)
	if p.Mesh.Ambient {
		w.pod(p.Mesh.IstioNamespace, "ztunnel-1", plan.ZtunnelLabels.Map(), nil, false)
	}
	for _, s := range p.ServiceTargets {
		labels := s.Selector.Map()
		if len(labels) == 0 {
			labels = map[string]string{"app": s.Name}
		}
		w.pod(s.Namespace, s.Name+"-1", labels, nil, w.sidecar(s.Namespace, nil))
	}
	promLabels := m.Prometheus.PodLabels.Map()
	maps.Copy(promLabels, m.Prometheus.MeshPodLabels.Map())
	for i := range max(p.Scrape.Shards, 1) {
		w.pod(m.Namespace, fmt.Sprintf("%s-%d", m.Prometheus.Name, i), promLabels, m.Prometheus.PodAnnotations.Map(), w.sidecar(m.Namespace, promLabels))
	}
	components := map[string]plan.Component{"alertmanager": m.Alertmanager, "grafana": m.Grafana,
		"kube-state-metrics": m.KubeStateMetrics, "node-exporter": m.NodeExporter, "prometheus-operator": m.PrometheusOperator}
	if k := p.Kiali; k != nil {
		components["kiali"] = plan.Component{Namespace: k.Namespace, PodLabels: k.PodLabels}
	}
	if t := p.Tracing; t != nil {
		components["tracing-collector"] = t.Collector
	}
	for name, c := range components {
		if c.Namespace == "" || len(c.PodLabels) == 0 {
			continue
		}
		w.namespace(c.Namespace, nil)
		w.pod(c.Namespace, name+"-1", c.PodLabels.Map(), nil, w.sidecar(c.Namespace, c.PodLabels.Map()))
	}
	for _, g := range p.Mesh.Gateways {
		w.namespace(g.Namespace, nil)
		w.pod(g.Namespace, g.Name+"-gateway-1", g.PodLabels.Map(), map[string]string{"inject.istio.io/templates": "gateway"}, true)
	}
	for _, wp := range p.Mesh.Waypoints {
		w.namespace(wp.Namespace, mesh)
		labels := wp.PodLabels.Map()
		labels["istio.io/dataplane-mode"] = "none"
		w.pod(wp.Namespace, wp.Name+"-1", labels, nil, false)
	}
	w.pod("obsgen-unowned", "app-1", map[string]string{"app": "unowned"}, nil, p.Mesh.Sidecar)
	w.pod("obsgen-outside", "app-1", map[string]string{"app": "outside"}, nil, false)
	return w.yaml()
}

type synthetic struct {
	p          *plan.Plan
	namespaces map[string]map[string]string
	docs       []map[string]any
}

func (w *synthetic) namespace(name string, labels map[string]string) {
	if name == "" {
		return
	}
	if _, ok := w.namespaces[name]; ok && labels == nil {
		return
	}
	w.namespaces[name] = labels
}

// sidecar tells whether a pod of ns with labels runs a sidecar: the
// injector's label first, then the namespace's.
func (w *synthetic) sidecar(ns string, labels map[string]string) bool {
	if !w.p.Mesh.Sidecar {
		return false
	}
	if v, ok := labels[plan.SidecarInjectLabel]; ok {
		return v == "true"
	}
	return w.namespaces[ns]["istio-injection"] == "enabled"
}

// enrolled tells whether an ambient pod of ns with labels is redirected
// to ztunnel: its label istio.io/dataplane-mode, else its namespace's.
func (w *synthetic) enrolled(ns string, labels map[string]string) bool {
	if !w.p.Mesh.Ambient {
		return false
	}
	if v, ok := labels["istio.io/dataplane-mode"]; ok {
		return v == "ambient"
	}
	return w.namespaces[ns]["istio.io/dataplane-mode"] == "ambient"
}

func (w *synthetic) pod(ns, name string, labels, annotations map[string]string, sidecar bool) {
	w.namespace(ns, nil)
	containers := []map[string]any{{"name": "app", "image": "registry.example/app:1"}}
	meta := map[string]any{"name": name, "namespace": ns, "labels": labels}
	ann := maps.Clone(annotations)
	if sidecar {
		containers = append(containers, map[string]any{"name": "istio-proxy", "image": "docker.io/istio/proxyv2:" + w.p.Mesh.Version})
		if ann == nil {
			ann = map[string]string{}
		}
		ann["sidecar.istio.io/status"] = `{"containers":["istio-proxy"]}`
	}
	if w.enrolled(ns, labels) {
		// istio-cni marks each pod it redirects to ztunnel
		// (annotation.AmbientRedirection); the analyzers count such pods
		// as in the mesh (pkg/config/analysis/analyzers/util/in_mesh.go).
		if ann == nil {
			ann = map[string]string{}
		}
		ann["ambient.istio.io/redirection"] = "enabled"
	}
	if len(ann) > 0 {
		meta["annotations"] = ann
	}
	w.docs = append(w.docs, map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": meta,
		"spec": map[string]any{"containers": containers}, "status": map[string]any{"phase": "Running"}})
}

func (w *synthetic) yaml() []byte {
	var b bytes.Buffer
	for _, name := range slices.Sorted(maps.Keys(w.namespaces)) {
		meta := map[string]any{"name": name}
		if l := w.namespaces[name]; len(l) > 0 {
			meta["labels"] = l
		}
		writeDoc(&b, map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": meta})
	}
	for _, d := range w.docs {
		writeDoc(&b, d)
	}
	return b.Bytes()
}

func writeDoc(b *bytes.Buffer, doc map[string]any) {
	data, err := yaml.Marshal(doc)
	if err != nil {
		panic(err) // maps of strings always marshal
	}
	b.WriteString("---\n")
	b.Write(data)
}
