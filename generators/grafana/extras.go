package grafana

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	yaml "go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/internal/dashvars"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/render"
)

// TeamRowsTemplate renders the extra rows of a team baseline.
const TeamRowsTemplate = "grafana/team-rows.yaml.tmpl"

// TeamRowsData is what the team-rows template sees.
type TeamRowsData struct {
	Plan *plan.Plan
	Team plan.Team
	// Rows are the profile's extra rows that apply to the team.
	Rows []plan.DashboardRow
}

// extraRow is a row the template rendered.
type extraRow struct {
	Title  string       `yaml:"title"`
	Panels []extraPanel `yaml:"panels"`
}

type extraPanel struct {
	Title       string `yaml:"title"`
	Type        string `yaml:"type"`
	Description string `yaml:"description"`
	Unit        string `yaml:"unit"`
	Width       int    `yaml:"width"`
	Queries     []struct {
		Expr   string `yaml:"expr"`
		Legend string `yaml:"legend"`
	} `yaml:"queries"`
}

// teamExtras renders and checks a team's extra rows.
func teamExtras(p *plan.Plan, r *render.Engine, t plan.Team) ([]extraRow, error) {
	d := TeamRowsData{Plan: p, Team: t}
	for _, row := range p.Dashboards.ExtraRows {
		if row.AppliesTo(t.Name) {
			d.Rows = append(d.Rows, row)
		}
	}
	out, err := r.Render(TeamRowsTemplate, d)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(out)) == 0 {
		return nil, nil
	}
	rows, err := parseExtraRows(out, t, p.Dashboards.Datasource.Shared)
	if err == nil && p.Dashboards.Datasource.Shared {
		err = selectCluster(rows)
	}
	if err != nil {
		return nil, fmt.Errorf("%s for team %s: %w", TeamRowsTemplate, t.Name, err)
	}
	return rows, nil
}

// selectCluster adds cluster="$cluster" to every selector of the rows'
// queries: on a shared store a query without it would add up every
// cluster's series.
func selectCluster(rows []extraRow) error {
	m := labels.MustNewMatcher(labels.MatchEqual, clusterLabel, "$"+clusterVar)
	for i := range rows {
		for j := range rows[i].Panels {
			for k := range rows[i].Panels[j].Queries {
				qr := &rows[i].Panels[j].Queries[k]
				scoped, err := withMatcher(qr.Expr, m)
				if err != nil {
					return fmt.Errorf("rows[%d].panels[%d].queries[%d].expr: cannot select the cluster: %w", i, j, k, err)
				}
				qr.Expr = scoped
			}
		}
	}
	return nil
}

// parseExtraRows decodes the template's output strictly and checks every
// panel, so a mistake fails the generation instead of drawing an empty or
// broken panel.
func parseExtraRows(data []byte, t plan.Team, shared bool) ([]extraRow, error) {
	var rows []extraRow
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&rows); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	vars := map[string]string{teamVar: t.Name, namespaceVar: dashvars.Regex(t.Namespaces), workloadVar: ".*", datasourceVar: "prometheus"}
	if shared {
		vars[clusterVar] = "cluster"
	}
	for i, r := range rows {
		if strings.TrimSpace(r.Title) == "" {
			return nil, fmt.Errorf("rows[%d].title: missing", i)
		}
		if len(r.Panels) == 0 {
			return nil, fmt.Errorf("rows[%d].panels: missing", i)
		}
		for j, pn := range r.Panels {
			if err := pn.check(vars); err != nil {
				return nil, fmt.Errorf("rows[%d].panels[%d].%w", i, j, err)
			}
		}
	}
	return rows, nil
}

func (pn extraPanel) check(vars map[string]string) error {
	switch {
	case strings.TrimSpace(pn.Title) == "":
		return errors.New("title: missing")
	case !slices.Contains([]string{"timeseries", "stat", "table"}, pn.Type):
		return fmt.Errorf("type: must be timeseries, stat or table (got %q)", pn.Type)
	case pn.Width < 1 || pn.Width > 24:
		return fmt.Errorf("width: must be 1..24 (got %d)", pn.Width)
	case len(pn.Queries) == 0:
		return errors.New("queries: missing")
	case pn.Type == "table" && len(pn.Queries) > 1:
		return errors.New("queries: a table shows one query")
	}
	for k, qr := range pn.Queries {
		expanded, unknown := dashvars.Expand(qr.Expr, vars)
		if len(unknown) > 0 {
			return fmt.Errorf("queries[%d].expr: unknown variable $%s", k, strings.Join(unknown, ", $"))
		}
		if _, err := parser.NewParser(parser.Options{}).ParseExpr(expanded); err != nil {
			return fmt.Errorf("queries[%d].expr: %w", k, err)
		}
	}
	return nil
}

// addTo appends the row and its panels to a dashboard.
func (r extraRow) addTo(b *dashboard.DashboardBuilder) {
	b.WithRow(row(r.Title))
	widths := make([]int, len(r.Panels))
	for i, pn := range r.Panels {
		widths[i] = pn.Width
	}
	widths = fitLines(widths)
	for i, pn := range r.Panels {
		var queries []query
		for _, qr := range pn.Queries {
			queries = append(queries, q(qr.Expr, qr.Legend))
		}
		unit, width := pn.Unit, uint32(widths[i])
		switch pn.Type {
		case "stat":
			b.WithPanel(singleStat(pn.Title, pn.Description, unit, width, neutral, queries...))
		case "table":
			b.WithPanel(instantTable(pn.Title, pn.Description, unit, width, queries[0]))
		default:
			b.WithPanel(graph(pn.Title, pn.Description, unit, width, queries...))
		}
	}
}

// fitLines widens the last panel of each line of the grid to the full 24
// columns when the next panel would not fit: the SDK places panels left to
// right and would let one overflow the line.
func fitLines(widths []int) []int {
	out := slices.Clone(widths)
	x := 0
	for i, w := range out {
		if x > 0 && x+w > 24 {
			out[i-1] += 24 - x
			x = 0
		}
		x = (x + w) % 24
	}
	return out
}
