// Package prometheus generates the raw Prometheus configuration
// (prometheus/prometheus.yml) and proves it loads with Prometheus' own
// config loader before it reaches the writer.
package prometheus

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/config"
	// Registers kubernetes_sd_configs with the config loader.
	_ "github.com/prometheus/prometheus/discovery/kubernetes"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/generators/operator"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
)

// Paths of the raw flavour's files in a profile's output.
const (
	ConfigPath   = "prometheus/prometheus.yml"
	PodPatchPath = "prometheus/prometheus-pod-patch.yaml"
)

const (
	configTemplate   = "prometheus/prometheus.yml.tmpl"
	jobsTemplate     = "prometheus/scrape-configs.yml.tmpl"
	podPatchTemplate = "prometheus/prometheus-pod-patch.yaml.tmpl"
)

// ConfigData is what prometheus.yml.tmpl sees: the plan, which shard the
// configuration is for (0 when the targets are not split), and the jobs to
// render (the plan's, or a subset).
type ConfigData struct {
	*plan.Plan
	Shard int
	Jobs  []plan.Job
}

// Generate writes both output flavours from one rendering of the scrape
// jobs: the raw prometheus.yml (or one configuration per shard) with the pod
// patch, and the Prometheus Operator resources, which mirror the raw jobs
// as Prometheus loaded them.
func Generate(p *plan.Plan, r *render.Engine) ([]output.File, error) {
	shards := max(p.Scrape.Shards, 1)
	configs := make([]output.File, shards)
	var patch output.File
	var ops []output.File
	var tasks []func() error
	if p.Monitoring.RawFlavour {
		for i := range shards {
			tasks = append(tasks, func() (err error) { configs[i], _, err = Config(p, r, i); return err })
		}
		tasks = append(tasks, func() (err error) { patch, err = podPatch(p, r); return err })
	}
	if p.Monitoring.OperatorFlavour {
		tasks = append(tasks, func() (err error) { ops, err = operatorFiles(p, r); return err })
	}
	if err := concurrently(tasks); err != nil {
		return nil, err
	}
	var files []output.File
	if p.Monitoring.RawFlavour {
		files = append(configs, patch)
	}
	return append(files, ops...), nil
}

// operatorFiles builds the operator flavour from the unsharded jobs (the
// operator shards by itself). It renders and loads the jobs the operator
// resources mirror on its own, so it runs alongside the raw flavour.
func operatorFiles(p *plan.Plan, r *render.Engine) ([]output.File, error) {
	single := *p
	single.Scrape.Shards = 1
	extra := operator.AdditionalJobs(p)
	var mirrored []plan.Job
	for _, j := range p.Jobs {
		if !slices.Contains(extra, j.Name) {
			mirrored = append(mirrored, j)
		}
	}
	data, err := r.Render(configTemplate, ConfigData{Plan: &single, Jobs: mirrored})
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(string(data), promslog.NewNopLogger())
	if err != nil {
		return nil, fmt.Errorf("the jobs of the operator flavour do not load in Prometheus: %w", err)
	}
	extraYAML, err := jobsYAML(&single, r, extra)
	if err != nil {
		return nil, err
	}
	return operator.Generate(p, cfg, extraYAML)
}

// concurrently runs independent rendering tasks on all cores (text/template
// executes safely in parallel) and returns their errors in task order.
func concurrently(tasks []func() error) error {
	errs := make([]error, len(tasks))
	var wg sync.WaitGroup
	for i, task := range tasks {
		wg.Go(func() { errs[i] = task() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// jobsYAML renders only the named jobs, as a YAML list of scrape configs.
func jobsYAML(p *plan.Plan, r *render.Engine, names []string) ([]byte, error) {
	if len(names) == 0 {
		return nil, nil
	}
	var jobs []plan.Job
	for _, j := range p.Jobs {
		if slices.Contains(names, j.Name) {
			jobs = append(jobs, j)
		}
	}
	data, err := r.Render(jobsTemplate, ConfigData{Plan: p, Jobs: jobs})
	return bytes.TrimLeft(data, "\n"), err
}

// ConfigFile is the path of shard's configuration.
func ConfigFile(p *plan.Plan, shard int) string {
	if p.Scrape.Shards <= 1 {
		return ConfigPath
	}
	return fmt.Sprintf("prometheus/prometheus-shard-%d.yml", shard)
}

// Config renders one configuration and loads it with Prometheus' own
// loader, returning both.
func Config(p *plan.Plan, r *render.Engine, shard int) (output.File, *config.Config, error) {
	name := ConfigFile(p, shard)
	data, err := r.Render(configTemplate, ConfigData{Plan: p, Shard: shard, Jobs: p.Jobs})
	if err != nil {
		return output.File{}, nil, err
	}
	f := output.YAML(name, data)
	cfg, err := config.Load(string(f.Data), promslog.NewNopLogger())
	if err == nil && p.Monitoring.Prometheus.Agent {
		err = agentProblem(cfg)
	}
	if err != nil {
		return output.File{}, nil, fmt.Errorf("%s does not load in Prometheus: %w", name, err)
	}
	return f, cfg, nil
}

// agentProblem applies the checks prometheus --agent adds to a loaded
// configuration (config.LoadFile with agentMode, which reads from disk).
func agentProblem(cfg *config.Config) error {
	switch {
	case len(cfg.AlertingConfig.AlertmanagerConfigs) > 0 || len(cfg.AlertingConfig.AlertRelabelConfigs) > 0:
		return errors.New("field alerting is not allowed in agent mode")
	case len(cfg.RuleFiles) > 0:
		return errors.New("field rule_files is not allowed in agent mode")
	case len(cfg.RemoteReadConfigs) > 0:
		return errors.New("field remote_read is not allowed in agent mode")
	}
	return nil
}

// podPatch renders the strategic-merge patch that wires the user's
// Prometheus pod for the strategy, and decodes it strictly into the
// Kubernetes workload type it patches.
func podPatch(p *plan.Plan, r *render.Engine) (output.File, error) {
	data, err := r.Render(podPatchTemplate, p)
	if err != nil {
		return output.File{}, err
	}
	var obj any = &appsv1.StatefulSet{}
	if p.Monitoring.Prometheus.Workload == "Deployment" {
		obj = &appsv1.Deployment{}
	}
	if err := yaml.UnmarshalStrict(data, obj); err != nil {
		return output.File{}, fmt.Errorf("%s is not a valid %s: %w", PodPatchPath, p.Monitoring.Prometheus.Workload, err)
	}
	return output.YAML(PodPatchPath, data), nil
}
