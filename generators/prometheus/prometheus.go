// Package prometheus generates the raw Prometheus configuration
// (prometheus/prometheus.yml) and checks it strictly (internal/promcheck:
// Prometheus' relabeling code and a strict decode of every setting) before
// it reaches the writer. Prometheus' full loader, with every service
// discovery, runs in obsgen-verify and the tests.
package prometheus

import (
	"bytes"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/internal/manifest"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/promcheck"
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
	rendered, single, err := renderConfigs(p, r)
	if err != nil {
		return nil, err
	}
	agent := p.Monitoring.Prometheus.Agent
	// The operator flavour copies the unsharded configuration's jobs, so
	// that one is read first; a shard that is it plus only the shard's own
	// lines, or shard 0's with only the shard's number changed, loads as
	// that one does.
	var read *promcheck.Checked
	var readErr error
	if p.Monitoring.OperatorFlavour {
		read, readErr = promcheck.Read(single.Data, agent)
	}
	embedded := r.Embedded()
	for i, f := range rendered {
		switch {
		case read != nil && bytes.Equal(f.Data, single.Data):
			continue // the unsharded configuration itself
		case i > 0 && sameButShard(rendered[0].Data, f.Data, i):
			continue // valid as shard 0's is
		case read != nil && embedded && unshardedPlusShard(single.Data, f.Data, i, len(rendered)):
			continue // valid as the unsharded one is
		}
		if _, err := check(f, agent); err != nil {
			return nil, err
		}
	}
	if readErr != nil {
		return nil, fmt.Errorf("%s, the unsharded configuration the operator flavour's resources copy, is not a valid Prometheus configuration: %w", single.Path, readErr)
	}
	var files []output.File
	if p.Monitoring.RawFlavour {
		patch, err := podPatch(p, r)
		if err != nil {
			return nil, err
		}
		for _, f := range rendered {
			files = append(files, f.Shipped(output.Ship{As: output.ShipPrometheusConfig}))
		}
		component, err := manifest.Component(path.Dir(PodPatchPath), "your Prometheus "+p.Monitoring.Prometheus.Workload, PodPatchPath)
		if err != nil {
			return nil, err
		}
		files = append(files, patch, component)
	}
	if p.Monitoring.OperatorFlavour {
		ops, err := operatorFiles(p, r, jobsByName(read.Jobs), read.AlertRelabelings)
		if err != nil {
			return nil, err
		}
		files = append(files, ops...)
	}
	return files, nil
}

// renderConfigs renders the raw flavour's configurations (one per shard)
// and the unsharded one the operator flavour mirrors (the operator shards by
// itself), reusing the raw one when that is it.
func renderConfigs(p *plan.Plan, r *render.Engine) (rendered []output.File, single output.File, err error) {
	if p.Monitoring.RawFlavour {
		rendered = make([]output.File, max(p.Scrape.Shards, 1))
		for i := range rendered {
			if rendered[i], err = renderConfig(p, r, i); err != nil {
				return nil, output.File{}, err
			}
		}
	}
	switch {
	case p.Monitoring.RawFlavour && len(rendered) == 1:
		single = rendered[0]
	case p.Monitoring.OperatorFlavour:
		unsharded := *p
		unsharded.Scrape.Shards = 1
		if single, err = renderConfig(&unsharded, r, 0); err != nil {
			return nil, output.File{}, err
		}
	}
	return rendered, single, nil
}

// operatorFiles builds the operator flavour from the jobs of the unsharded
// configuration.
func operatorFiles(p *plan.Plan, r *render.Engine, jobs map[string]*Job, alertRelabelings []promcheck.Relabeling) ([]output.File, error) {
	unsharded := *p
	unsharded.Scrape.Shards = 1
	extra, err := jobsYAML(&unsharded, r, AdditionalJobs(p))
	if err != nil {
		return nil, err
	}
	if err := promcheck.ScrapeConfigs(extra); err != nil {
		return nil, fmt.Errorf("%s is not a valid list of Prometheus scrape configs: %w", AdditionalPath, err)
	}
	return operatorResources(p, jobs, extra, alertRelabelings)
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

// Config renders one configuration and checks it as Generate does.
func Config(p *plan.Plan, r *render.Engine, shard int) (output.File, error) {
	f, err := renderConfig(p, r, shard)
	if err != nil {
		return output.File{}, err
	}
	_, err = check(f, p.Monitoring.Prometheus.Agent)
	return f, err
}

func renderConfig(p *plan.Plan, r *render.Engine, shard int) (output.File, error) {
	data, err := r.Render(configTemplate, ConfigData{Plan: p, Shard: shard, Jobs: p.Jobs})
	if err != nil {
		return output.File{}, err
	}
	return output.YAML(ConfigFile(p, shard), data), nil
}

// check checks a configuration strictly, with the restrictions of
// prometheus --agent in agent mode, and returns what the operator flavour
// copies from it, as written.
func check(f output.File, agent bool) (*promcheck.Checked, error) {
	read, err := promcheck.Read(f.Data, agent)
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid Prometheus configuration: %w", f.Path, err)
	}
	return read, nil
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

// sameButShard tells whether a shard's configuration is shard 0's with
// only what names the shard changed, line for line: the "# Shard <i> of"
// comments, the hashmod keep's `regex: "<i>"` and the `shard: "<i>"`
// external label. A regular expression of digits compiles and a label
// value of digits is valid whatever the digits, so such a configuration
// loads exactly when shard 0's does, and checking it again would only
// repeat shard 0's check.
func sameButShard(base, other []byte, shard int) bool {
	if len(base) != len(other) && shard < 10 {
		return false
	}
	i := strconv.Itoa(shard)
	for len(base) > 0 && len(other) > 0 {
		a, restA, _ := bytes.Cut(base, []byte("\n"))
		b, restB, _ := bytes.Cut(other, []byte("\n"))
		base, other = restA, restB
		if bytes.Equal(a, b) {
			continue
		}
		indent := len(a) - len(bytes.TrimLeft(a, " "))
		if len(b)-len(bytes.TrimLeft(b, " ")) != indent {
			return false
		}
		ta, tb := string(a[indent:]), string(b[indent:])
		switch {
		case ta == `regex: "0"` && tb == `regex: "`+i+`"`:
		case ta == `shard: "0"` && tb == `shard: "`+i+`"`:
		case strings.HasPrefix(ta, "# Shard 0 of ") && tb == "# Shard "+i+" of "+ta[len("# Shard 0 of "):]:
		default:
			return false
		}
	}
	return len(base) == 0 && len(other) == 0
}
