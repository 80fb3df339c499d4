package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// WriteText writes the report for people: a summary line, then every
// finding, most severe first, with its evidence and fix.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	targets := fmt.Sprintf("%d expected target(s)", r.ExpectedTargets)
	if r.HealthyTargets >= 0 {
		targets = fmt.Sprintf("%d of %d expected target(s) up", r.HealthyTargets, r.ExpectedTargets)
	}
	counts := map[Severity]int{}
	for _, f := range r.Findings {
		counts[f.Severity]++
	}
	if r.Healthy() {
		fmt.Fprintf(&b, "obsgen doctor %s: healthy: %s, %d flow(s) allowed by the cluster's policies.\n", r.Profile, targets, r.Flows)
	} else {
		fmt.Fprintf(&b, "obsgen doctor %s: %d critical, %d warning, %d info; %s, %d flow(s) checked.\n",
			r.Profile, counts[Critical], counts[Warning], counts[Info], targets, r.Flows)
	}
	for i, f := range r.Findings {
		fmt.Fprintf(&b, "\n%d. [%s] %s: %s\n", i+1, f.Severity, f.Cause, f.Subject)
		fmt.Fprintf(&b, "   %s\n", f.Summary)
		for _, e := range f.Evidence {
			fmt.Fprintf(&b, "   evidence: %s\n", e)
		}
		fmt.Fprintf(&b, "   fix: %s\n", f.Fix)
		if f.Ref != "" {
			fmt.Fprintf(&b, "   source: %s\n", f.Ref)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\nnote: %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report for tools.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
