package doctor

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"

	"obsgen.dev/obsgen/internal/plan"
)

// Retention flags of the Prometheus server (cmd/prometheus/main.go):
// storage.tsdb.retention.time, its Prometheus 2.x name
// storage.tsdb.retention (removed in 3.0), and storage.tsdb.retention.size.
// With neither time nor size set (or a time of 0), Prometheus keeps 15d.
// From Prometheus 3.11 the configuration file may set the retention too
// (storage.tsdb.retention), and wins; obsgen's prometheus.yml sets none,
// so for the raw flavour the flags tell. The Prometheus Operator writes
// the retention to the configuration file for Prometheus 3.11 and later
// (pkg/prometheus/server/statefulset.go), so its pods' flags may not.
const (
	flagRetentionTime = "storage.tsdb.retention.time"
	flagRetentionOld  = "storage.tsdb.retention"
	flagRetentionSize = "storage.tsdb.retention.size"
)

// operatorPodLabel is on the pods the Prometheus Operator runs for a
// Prometheus resource (pkg/prometheus/common.go "operator.prometheus.io/name").
const operatorPodLabel = "operator.prometheus.io/name"

// checkRetention reports a Prometheus pod that keeps less history than
// the rules it evaluates read: those rules answer from what is left, with
// no error anywhere.
func (d *doctor) checkRetention() {
	pr := d.p.Monitoring.Prometheus
	need := pr.RuleLookback
	if pr.Agent || need == 0 {
		return
	}
	for _, pod := range d.prom {
		if !running(pod) {
			continue
		}
		ctr := prometheusContainer(pod)
		if ctr == nil || hasFlag(ctr, "agent") {
			continue
		}
		operated := pod.Labels[operatorPodLabel] != ""
		r := retentionOf(ctr)
		switch {
		case r.unknown != "":
			d.notes = append(d.notes, fmt.Sprintf("%s/%s: %s", pod.Namespace, pod.Name, r.unknown))
			continue
		case r.byDefault && operated:
			d.notes = append(d.notes, fmt.Sprintf("%s/%s: its retention is not in its flags: the Prometheus Operator writes it to the configuration file (Prometheus 3.11 and later), which the cluster state does not show; the Prometheus resource's spec.retention (24h when unset) must be at least %s",
				pod.Namespace, pod.Name, model.Duration(need)))
			continue
		case r.keeps >= need:
			continue
		}
		fix := fmt.Sprintf("run Prometheus with --%s=%s or longer (from Prometheus 3.11 also storage.tsdb.retention.time in its configuration file), on a persistent volume", flagRetentionTime, model.Duration(need))
		if operated {
			fix = fmt.Sprintf("set the Prometheus resource's spec.retention to %s or more (obsgen's operator/prometheus.yaml does; kube-prometheus-stack: prometheus.prometheusSpec.retention)", model.Duration(need))
		}
		d.add(Finding{Severity: Warning, Cause: CauseShortRetention, Subject: pod.Namespace + "/" + pod.Name,
			Summary: fmt.Sprintf("Prometheus keeps %s of samples, but the rules it evaluates read %s (%s): they answer from what is left, without an error",
				model.Duration(r.keeps), model.Duration(need), plan.LookbackReason(need)),
			Evidence: []string{r.evidence},
			Fix:      fix,
			Ref:      "prometheus.io docs/prometheus/latest/storage (retention); cmd/prometheus/main.go (--storage.tsdb.retention.time, default 15d)"})
	}
}

// prometheusContainer is the pod's container named prometheus (the
// operator's, kube-prometheus') or prometheus-server (the prometheus
// Helm chart's, Istio's samples/addons), else the first whose image is
// Prometheus' (a last path element "prometheus").
func prometheusContainer(pod *corev1.Pod) *corev1.Container {
	for i, c := range pod.Spec.Containers {
		if c.Name == "prometheus" || c.Name == "prometheus-server" {
			return &pod.Spec.Containers[i]
		}
	}
	for i, c := range pod.Spec.Containers {
		if imageName(c.Image) == "prometheus" {
			return &pod.Spec.Containers[i]
		}
	}
	return nil
}

// imageName is the last path element of an image reference, without its
// tag or digest: prom/prometheus:v3.7.3 -> prometheus.
func imageName(image string) string {
	image, _, _ = strings.Cut(image, "@")
	name := image[strings.LastIndex(image, "/")+1:]
	name, _, _ = strings.Cut(name, ":")
	return name
}

// flagValue is the value of --name=value or --name value in the
// container's command and arguments.
func flagValue(c *corev1.Container, name string) (string, bool) {
	args := append(append([]string(nil), c.Command...), c.Args...)
	for i, a := range args {
		a = strings.TrimLeft(a, "-")
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, true
		}
		if a == name && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			return args[i+1], true
		}
	}
	return "", false
}

func hasFlag(c *corev1.Container, name string) bool {
	for _, a := range append(append([]string(nil), c.Command...), c.Args...) {
		if a == "--"+name || strings.HasPrefix(a, "--"+name+"=") {
			return true
		}
	}
	return false
}

// retention is what a container's flags say of its retention.
type retention struct {
	keeps    time.Duration
	evidence string
	// byDefault: no time retention flag, so Prometheus' default (or, from
	// 3.11, the configuration file's).
	byDefault bool
	// unknown says why the flags do not tell ("" when they do).
	unknown string
}

// retentionOf reads how long the container's Prometheus keeps its samples
// from its flags.
func retentionOf(c *corev1.Container) retention {
	size, hasSize := flagValue(c, flagRetentionSize)
	for _, name := range []string{flagRetentionTime, flagRetentionOld} {
		v, ok := flagValue(c, name)
		if !ok {
			continue
		}
		d, err := model.ParseDuration(v)
		if err != nil {
			return retention{unknown: fmt.Sprintf("container %s: --%s=%s does not parse: %v", c.Name, name, v, err)}
		}
		if d == 0 {
			break // 0 means unset: the default, or no time limit with a size
		}
		r := retention{keeps: time.Duration(d), evidence: fmt.Sprintf("container %s: --%s=%s", c.Name, name, v)}
		if hasSize {
			r.evidence += fmt.Sprintf(" (and --%s=%s, which may delete sooner)", flagRetentionSize, size)
		}
		return r
	}
	if hasSize {
		// A size alone lifts the time limit; whether the size holds the
		// history depends on the ingestion rate.
		return retention{unknown: fmt.Sprintf("container %s: only --%s=%s limits the retention, so how much history it keeps depends on the samples ingested", c.Name, flagRetentionSize, size)}
	}
	return retention{keeps: plan.PrometheusDefaultRetention, byDefault: true,
		evidence: fmt.Sprintf("container %s: no --%s, so Prometheus' default of 15d (obsgen's prometheus.yml sets no storage.tsdb.retention)", c.Name, flagRetentionTime)}
}
