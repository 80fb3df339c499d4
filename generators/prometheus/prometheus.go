// Package prometheus generates the raw Prometheus configuration
// (prometheus/prometheus.yml) and proves it loads with Prometheus' own
// config loader before it reaches the writer.
package prometheus

import (
	"fmt"

	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/config"
	// Registers kubernetes_sd_configs with the config loader.
	_ "github.com/prometheus/prometheus/discovery/kubernetes"

	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
)

// ConfigPath is where the raw configuration goes in a profile's output.
const ConfigPath = "prometheus/prometheus.yml"

const configTemplate = "prometheus/prometheus.yml.tmpl"

// Generate renders prometheus.yml for the raw flavour.
func Generate(p *plan.Plan, r *render.Engine) ([]output.File, error) {
	if !p.Monitoring.RawFlavour {
		return nil, nil
	}
	data, err := r.Render(configTemplate, p)
	if err != nil {
		return nil, err
	}
	f := output.YAML(ConfigPath, data)
	if _, err := config.Load(string(f.Data), promslog.NewNopLogger()); err != nil {
		return nil, fmt.Errorf("%s does not load in Prometheus: %w", ConfigPath, err)
	}
	return []output.File{f}, nil
}
