package doctor

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	corev1 "k8s.io/api/core/v1"

	"obsgen.dev/obsgen/internal/plan"
)

// Retention flags of the Prometheus server (cmd/prometheus/main.go):
// storage.tsdb.retention.time, its older name storage.tsdb.retention, and
// storage.tsdb.retention.size. With neither time nor size set, Prometheus
// keeps 15d. From Prometheus 3.11 the configuration file may set the
// retention too (storage.tsdb.retention), which the flags do not show.
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
		keeps, evidence, known := retentionOf(ctr)
		switch {
		case keeps < 0:
			d.notes = append(d.notes, fmt.Sprintf("%s/%s: %s", pod.Namespace, pod.Name, evidence))
			continue
		case !known && (pod.Labels[operatorPodLabel] != "" || fromPrometheus311(ctr.Image)):
			d.notes = append(d.notes, fmt.Sprintf("%s/%s: its retention is not in its flags (%s): the Prometheus resource or the configuration file sets it, which the cluster state does not show", pod.Namespace, pod.Name, evidence))
			continue
		}
		if keeps >= need {
			continue
		}
		fix := fmt.Sprintf("run Prometheus with --%s=%s or longer, on a persistent volume", flagRetentionTime, model.Duration(need))
		if d.p.Monitoring.OperatorFlavour && pod.Labels[operatorPodLabel] != "" {
			fix = "apply the generated operator/prometheus.yaml (spec.retention), or raise monitoring.prometheus.retention"
		}
		d.add(Finding{Severity: Warning, Cause: CauseShortRetention, Subject: pod.Namespace + "/" + pod.Name,
			Summary: fmt.Sprintf("Prometheus keeps %s of samples, but the rules it evaluates read %s (%s): they answer from what is left, without an error",
				model.Duration(keeps), model.Duration(need), plan.LookbackReason(need)),
			Evidence: []string{evidence},
			Fix:      fix,
			Ref:      "prometheus.io docs/prometheus/latest/storage (retention); cmd/prometheus/main.go (--storage.tsdb.retention.time, default 15d)"})
	}
}

// prometheusContainer is the pod's container named prometheus, else the
// first whose image is Prometheus'.
func prometheusContainer(pod *corev1.Pod) *corev1.Container {
	for i, c := range pod.Spec.Containers {
		if c.Name == "prometheus" {
			return &pod.Spec.Containers[i]
		}
	}
	for i, c := range pod.Spec.Containers {
		if strings.Contains(c.Image, "prometheus/prometheus") {
			return &pod.Spec.Containers[i]
		}
	}
	return nil
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

// retentionOf reads how long the container's Prometheus keeps its samples
// from its flags; known is false when the flags do not tell (no time
// retention set: 15d before Prometheus 3.11, or what the configuration
// file says).
func retentionOf(c *corev1.Container) (keeps time.Duration, evidence string, known bool) {
	for _, name := range []string{flagRetentionTime, flagRetentionOld} {
		if v, ok := flagValue(c, name); ok {
			d, err := model.ParseDuration(v)
			if err != nil {
				return -1, fmt.Sprintf("container %s: --%s=%s does not parse: %v", c.Name, name, v, err), false
			}
			return time.Duration(d), fmt.Sprintf("container %s: --%s=%s", c.Name, name, v), true
		}
	}
	if v, ok := flagValue(c, flagRetentionSize); ok {
		// A size alone lifts the time limit.
		return time.Duration(1<<63 - 1), fmt.Sprintf("container %s: --%s=%s and no time limit", c.Name, flagRetentionSize, v), true
	}
	return plan.PrometheusDefaultRetention, fmt.Sprintf("container %s: no --%s, so Prometheus' default of 15d", c.Name, flagRetentionTime), false
}

// fromPrometheus311 tells whether the image's tag is Prometheus 3.11 or
// later, whose configuration file may set the retention.
func fromPrometheus311(image string) bool {
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") {
		return false
	}
	tag := strings.TrimPrefix(image[i+1:], "v")
	major, rest, _ := strings.Cut(tag, ".")
	minor, _, _ := strings.Cut(rest, ".")
	ma, err1 := strconv.Atoi(major)
	mi, err2 := strconv.Atoi(minor)
	return err1 == nil && err2 == nil && (ma > 3 || ma == 3 && mi >= 11)
}
