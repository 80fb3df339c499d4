package grafana

import (
	"fmt"
	"html"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// Preview geometry: a grid column, a grid row, the title band, the margin.
const (
	colPx    = 40
	rowPx    = 28
	headerPx = 40
	marginPx = 8
)

// style colours panels by type (a class each) and sets the text styles.
const style = `<style>
rect{fill:#f1f5f9;stroke:#94a3b8}
rect.timeseries{fill:#dbeafe}
rect.stat{fill:#dcfce7}
rect.table{fill:#fef9c3}
rect.row{fill:#e2e8f0;stroke:none}
text{font-size:12px;fill:#0f172a}
text.row{font-size:13px;font-weight:bold;fill:#334155}
text.type{font-size:10px;fill:#64748b}
</style>
`

// preview draws a dashboard's layout as SVG: rows as bars, panels as boxes
// with their title and type, on Grafana's 24-column grid, so a reviewer
// sees the dashboard in a diff without a Grafana.
func preview(d dashboard.Dashboard) []byte {
	var body strings.Builder
	bottom := 0
	for _, p := range d.Panels {
		switch {
		case p.RowPanel != nil:
			bottom = max(bottom, drawRow(&body, p.RowPanel))
			for _, nested := range p.RowPanel.Panels {
				bottom = max(bottom, drawPanel(&body, nested))
			}
		case p.Panel != nil:
			bottom = max(bottom, drawPanel(&body, *p.Panel))
		}
	}
	width := 24*colPx + 2*marginPx
	height := headerPx + bottom*rowPx + marginPx
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif">`+"\n",
		width, height, width, height)
	b.WriteString(style)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" style="fill:#f8fafc;stroke:none"/>`+"\n", width, height)
	title := ""
	if d.Title != nil {
		title = *d.Title
	}
	fmt.Fprintf(&b, `<text x="%d" y="26" style="font-size:18px;font-weight:bold">%s</text>`+"\n", marginPx, html.EscapeString(title))
	b.WriteString(body.String())
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// box is a grid position in pixels.
func box(g *dashboard.GridPos) (x, y, w, h int) {
	return marginPx + int(g.X)*colPx, headerPx + int(g.Y)*rowPx, int(g.W) * colPx, int(g.H) * rowPx
}

func drawRow(b *strings.Builder, r *dashboard.RowPanel) int {
	if r.GridPos == nil {
		return 0
	}
	x, y, w, h := box(r.GridPos)
	title := ""
	if r.Title != nil {
		title = *r.Title
	}
	fmt.Fprintf(b, `<rect class="row" x="%d" y="%d" width="%d" height="%d"/>`+"\n", x, y+2, w, h-4)
	fmt.Fprintf(b, `<text class="row" x="%d" y="%d">%s</text>`+"\n", x+6, y+h/2+5, html.EscapeString(title))
	return int(r.GridPos.Y + r.GridPos.H)
}

// drawPanel draws a panel in a nested svg, which clips a long title.
func drawPanel(b *strings.Builder, p dashboard.Panel) int {
	if p.GridPos == nil {
		return 0
	}
	x, y, w, h := box(p.GridPos)
	title := ""
	if p.Title != nil {
		title = *p.Title
	}
	fmt.Fprintf(b, `<svg x="%d" y="%d" width="%d" height="%d"><rect class="%s" width="%d" height="%d" rx="4"/>`+"\n",
		x+2, y+2, w-4, h-4, html.EscapeString(p.Type), w-4, h-4)
	fmt.Fprintf(b, `<text x="8" y="18">%s</text>`+"\n", html.EscapeString(title))
	fmt.Fprintf(b, `<text class="type" x="8" y="%d">%s, %d %s</text></svg>`+"\n", h-12, html.EscapeString(p.Type), len(p.Targets), plural(len(p.Targets), "query", "queries"))
	return int(p.GridPos.Y + p.GridPos.H)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
