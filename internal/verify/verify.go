// Package verify runs the checks too heavy for the obsgen binary on a
// profile generated in memory: every Prometheus configuration through
// Prometheus' own loader with every service discovery registered, the
// Alertmanager configuration through Alertmanager's loader with every
// notifier, and the network proof again with np-guard's netpol-analyzer as
// the evaluator, compared check by check with obsgen's. cmd/obsgen-verify
// and the tests link it; obsgen itself checks the same files with the
// light checks of internal/promcheck and generators/alertmanager.
package verify

import (
	"errors"
	"fmt"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/config"

	// Every service discovery, as the prometheus binary registers them.
	_ "github.com/prometheus/prometheus/discovery/install"

	"obsgen.dev/obsgen/generators/alertmanager"
	"obsgen.dev/obsgen/generators/federation"
	"obsgen.dev/obsgen/generators/prometheus"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/pipeline"
	"obsgen.dev/obsgen/internal/render"
)

// LoadPrometheus loads a configuration with Prometheus' loader and, in
// agent mode, the checks prometheus --agent adds (config.LoadFile with
// agentMode, which reads from disk).
func LoadPrometheus(data []byte, agent bool) (*config.Config, error) {
	cfg, err := config.Load(string(data), promslog.NewNopLogger())
	if err != nil {
		return nil, err
	}
	if agent {
		switch {
		case len(cfg.AlertingConfig.AlertmanagerConfigs) > 0 || len(cfg.AlertingConfig.AlertRelabelConfigs) > 0:
			return nil, errors.New("field alerting is not allowed in agent mode")
		case len(cfg.RuleFiles) > 0:
			return nil, errors.New("field rule_files is not allowed in agent mode")
		case len(cfg.RemoteReadConfigs) > 0:
			return nil, errors.New("field remote_read is not allowed in agent mode")
		}
	}
	return cfg, nil
}

// LoadScrapeConfigs loads a YAML list of scrape configs (the operator's
// additionalScrapeConfigs, the federation job) as the scrape_configs of a
// configuration.
func LoadScrapeConfigs(data []byte) ([]*config.ScrapeConfig, error) {
	cfg, err := config.Load("scrape_configs:\n"+render.IndentLines(2, string(data)), promslog.NewNopLogger())
	if err != nil {
		return nil, err
	}
	return cfg.ScrapeConfigs, nil
}

// LoadAlertmanager loads alertmanager.yml with Alertmanager's loader.
func LoadAlertmanager(data []byte) (*amconfig.Config, error) {
	return amconfig.Load(string(data))
}

// Report is what Profile found for one profile: what was checked, and the
// problems.
type Report struct {
	Checked  []string
	Problems []string
}

// Profile runs every heavy check on a generated profile. engine is the
// one it was generated with: the unsharded configuration the operator
// flavour mirrors is rendered again when it is not one of the files.
func Profile(res *pipeline.Result, engine *render.Engine) (Report, error) {
	var r Report
	configs, err := prometheusConfigs(res, engine)
	if err != nil {
		return r, err
	}
	agent := res.Plan.Monitoring.Prometheus.Agent
	loader := "Prometheus"
	if agent {
		loader = "Prometheus in agent mode"
	}
	for _, f := range configs {
		r.check(f.Path, loader, func() error { _, err := LoadPrometheus(f.Data, agent); return err })
	}
	for _, f := range res.Files {
		switch f.Path {
		case prometheus.AdditionalPath, federation.GlobalJobPath:
			r.check(f.Path, "Prometheus as scrape configs", func() error { _, err := LoadScrapeConfigs(f.Data); return err })
		case alertmanager.Path:
			r.check(f.Path, "Alertmanager", func() error { _, err := LoadAlertmanager(f.Data); return err })
		}
	}
	net, err := Network(res)
	if err != nil {
		return r, err
	}
	r.Checked = append(r.Checked, net.Summary)
	r.Problems = append(r.Problems, net.Problems...)
	return r, nil
}

// check records whether the file loads in loader.
func (r *Report) check(path, loader string, load func() error) {
	if err := load(); err != nil {
		r.Problems = append(r.Problems, fmt.Sprintf("%s does not load in %s: %s", path, loader, oneLine(err)))
		return
	}
	r.Checked = append(r.Checked, fmt.Sprintf("%s loads in %s", path, loader))
}

// oneLine joins the lines of a loader's error (yaml's list its problems on
// indented lines).
func oneLine(err error) string { return oneLineText(err.Error()) }

// prometheusConfigs are the Prometheus configurations of a profile: the
// raw flavour's (one per shard), and the unsharded one the operator
// flavour's resources are built from when it is not among them.
func prometheusConfigs(res *pipeline.Result, engine *render.Engine) ([]output.File, error) {
	p := res.Plan
	byPath := map[string]output.File{}
	for _, f := range res.Files {
		byPath[f.Path] = f
	}
	var out []output.File
	if p.Monitoring.RawFlavour {
		for shard := range max(p.Scrape.Shards, 1) {
			f, ok := byPath[prometheus.ConfigFile(p, shard)]
			if !ok {
				return nil, fmt.Errorf("verify: %s is missing from the generated files", prometheus.ConfigFile(p, shard))
			}
			out = append(out, f)
		}
	}
	if p.Monitoring.OperatorFlavour && (!p.Monitoring.RawFlavour || p.Scrape.Shards > 1) {
		unsharded := *p
		unsharded.Scrape.Shards = 1
		f, err := prometheus.Config(&unsharded, engine, 0)
		if err != nil {
			return nil, err
		}
		f.Path += " (unsharded, the operator flavour's source)"
		out = append(out, f)
	}
	return out, nil
}
