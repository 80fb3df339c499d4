package grafana

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// Panel heights in grid units.
const (
	statHeight  = 4
	graphHeight = 8
	tableHeight = 8
)

// datasourceVar is the dashboards' data source variable.
const datasourceVar = "datasource"

// promDS points panels and queries at the data source variable. The type
// tells Grafana (and the SDK's decoder) that the targets are Prometheus
// queries.
func promDS() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${" + datasourceVar + "}")}
}

// query is one PromQL target of a panel.
type query struct {
	expr, legend string
}

// q is a shorthand for a query.
func q(expr, legend string) query { return query{expr: expr, legend: legend} }

// refID names the i-th query of a panel: A, B, ...
func refID(i int) string { return string(rune('A' + i)) }

func target(i int, qr query) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().Datasource(promDS()).RefId(refID(i)).Expr(qr.expr).LegendFormat(qr.legend)
}

// graph is a time series panel of rates or gauges over time.
func graph(title, description, unit string, width uint32, queries ...query) *timeseries.PanelBuilder {
	b := timeseries.NewPanelBuilder().Title(title).Description(description).Datasource(promDS()).
		Unit(unit).Min(0).FillOpacity(10).LineWidth(1).Span(width).Height(graphHeight).
		Legend(common.NewVizLegendOptionsBuilder().ShowLegend(true).DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom)).
		Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
	for i, qr := range queries {
		b.WithTarget(target(i, qr))
	}
	return b
}

// singleStat is a stat panel of instant values; steps colour them.
func singleStat(title, description, unit string, width uint32, steps []dashboard.Threshold, queries ...query) *stat.PanelBuilder {
	b := stat.NewPanelBuilder().Title(title).Description(description).Datasource(promDS()).
		Unit(unit).Span(width).Height(statHeight).
		ColorMode(common.BigValueColorModeValue).GraphMode(common.BigValueGraphModeArea).
		TextMode(common.BigValueTextModeValueAndName).Orientation(common.VizOrientationAuto).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		Thresholds(thresholds(steps))
	for i, qr := range queries {
		b.WithTarget(target(i, qr).Instant())
	}
	return b
}

// instantTable is a table of one instant query, one row per series.
func instantTable(title, description, unit string, width uint32, qr query) *table.PanelBuilder {
	return table.NewPanelBuilder().Title(title).Description(description).Datasource(promDS()).
		Unit(unit).Span(width).Height(tableHeight).
		WithTarget(target(0, qr).Instant().Format(prometheus.PromQueryFormatTable)).
		// The SDK's default footer has a null reducer, which its own strict
		// decoder (and Grafana's schema) reject.
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{})).
		WithTransformation(dashboard.DataTransformerConfig{Id: "organize", Options: map[string]any{
			"excludeByName": map[string]any{"Time": true},
		}})
}

// Threshold steps.
var (
	// neutral colours nothing.
	neutral = []dashboard.Threshold{{Color: "text"}}
	// healthyAtOne is for shares that should be 1: red below 90%, orange
	// below 100%.
	healthyAtOne = atLeast(0.9, 1)
	// atLeastOne is red at 0: a component that must run, a flag that must be 1.
	atLeastOne = []dashboard.Threshold{{Color: "red"}, {Value: cog.ToPtr(1.0), Color: "green"}}
	// badAboveZero is for counts of problems.
	badAboveZero = []dashboard.Threshold{{Color: "green"}, {Value: cog.ToPtr(1.0), Color: "red"}}
	// errorRatio turns orange at 1% and red at 5% (IstioHighErrorRate).
	errorRatio = []dashboard.Threshold{{Color: "green"}, {Value: cog.ToPtr(0.01), Color: "orange"}, {Value: cog.ToPtr(0.05), Color: "red"}}
	// latencyMs turns orange at 500 ms and red at 1 s (IstioHighLatency).
	latencyMs = []dashboard.Threshold{{Color: "green"}, {Value: cog.ToPtr(500.0), Color: "orange"}, {Value: cog.ToPtr(1000.0), Color: "red"}}
	// budgetLeft is red when the error budget is spent.
	budgetLeft = []dashboard.Threshold{{Color: "red"}, {Value: cog.ToPtr(0.0), Color: "orange"}, {Value: cog.ToPtr(0.25), Color: "green"}}
	// burnRates mark the ticket (1x, 3x) and page (6x, 14.4x) rates of the
	// multi-window alerts.
	burnRates = []dashboard.Threshold{{Color: "green"}, {Value: cog.ToPtr(1.0), Color: "orange"}, {Value: cog.ToPtr(6.0), Color: "red"}}
)

// atLeast is red below orange, orange below green, green above.
func atLeast(orange, green float64) []dashboard.Threshold {
	return []dashboard.Threshold{{Color: "red"}, {Value: cog.ToPtr(orange), Color: "orange"}, {Value: cog.ToPtr(green), Color: "green"}}
}

func thresholds(steps []dashboard.Threshold) *dashboard.ThresholdsConfigBuilder {
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(steps)
}
