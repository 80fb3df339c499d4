package rules

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/template"

	"obsgen.dev/obsgen/internal/plan"
)

// expander expands annotation templates for the expected alerts of the
// unit tests. Prometheus parses a template on every expansion, which on a
// large profile cost the generator a large share of its time, so the
// templates obsgen writes, text with {{ $labels.<name> }} and
// {{ $externalLabels.<name> }} actions only, are split once into text and
// label references and filled in directly; any other template goes through
// Prometheus' template engine.
type expander struct {
	p        *plan.Plan
	external map[string]string
	split    map[string][]segment // template -> its parts; nil: not simple
}

// segment is literal text, or (ref != refNone) the name of the label, or
// external label, whose value it stands for.
type segment struct {
	text string
	ref  int
}

const (
	refNone = iota
	refLabel
	refExternal
)

func newExpander(p *plan.Plan) *expander {
	return &expander{p: p, external: p.ExternalLabels.Map(), split: map[string][]segment{}}
}

// expand renders an annotation's or label's template for an alert of
// series: Prometheus' rule manager gives the template the series' labels as
// $labels, not the rule's own labels (rules/alerting.go, Eval).
func (e *expander) expand(name, text string, series map[string]string) (string, error) {
	if !strings.Contains(text, "{{") {
		// The definitions print nothing, and text without actions is
		// printed as it is.
		return text, nil
	}
	segs, ok := e.split[text]
	if !ok {
		segs = splitTemplate(text)
		e.split[text] = segs
	}
	if segs == nil {
		return expand(e.p, name, text, series)
	}
	n := 0
	for _, s := range segs {
		n += len(s.text)
	}
	var b strings.Builder
	b.Grow(n + 32)
	for _, s := range segs {
		switch s.ref {
		case refNone:
			b.WriteString(s.text)
		case refLabel:
			// A missing label is the empty string (missingkey=zero).
			b.WriteString(series[s.text])
		case refExternal:
			b.WriteString(e.external[s.text])
		}
	}
	return b.String(), nil
}

// splitTemplate splits text into literal text and {{ $labels.<name> }} or
// {{ $externalLabels.<name> }} actions (spaces around the reference
// optional), or returns nil when it holds any other action.
func splitTemplate(text string) []segment {
	var segs []segment
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			if text != "" {
				segs = append(segs, segment{text: text})
			}
			return segs
		}
		if i > 0 {
			segs = append(segs, segment{text: text[:i]})
		}
		end := strings.Index(text[i+2:], "}}")
		if end < 0 {
			return nil
		}
		action := text[i+2 : i+2+end]
		text = text[i+2+end+2:]
		// Anything but spaces around the reference (trim markers,
		// comments, pipelines) goes to the template engine.
		ref := strings.Trim(action, " ")
		var seg segment
		switch {
		case strings.HasPrefix(ref, "$labels."):
			seg = segment{text: ref[len("$labels."):], ref: refLabel}
		case strings.HasPrefix(ref, "$externalLabels."):
			seg = segment{text: ref[len("$externalLabels."):], ref: refExternal}
		default:
			return nil
		}
		if !isIdent(seg.text) {
			return nil
		}
		segs = append(segs, seg)
	}
}

// isIdent tells whether s is an ASCII Go identifier: a field name
// text/template resolves as a map key.
func isIdent(s string) bool {
	if s == "" || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isIdentByte(s[i]) {
			return false
		}
	}
	return true
}

func isIdentByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

// expand renders an annotation template as the rule manager does
// (rules.AlertingRule: the same definitions and template data).
func expand(p *plan.Plan, name, text string, labels map[string]string) (string, error) {
	defs := "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"
	data := template.AlertTemplateData(labels, p.ExternalLabels.Map(), "", promql.Sample{})
	te := template.NewTemplateExpander(context.Background(), defs+text, "__alert_"+name, data, 0, nil, &url.URL{}, nil)
	out, err := te.Expand()
	if err != nil {
		return "", fmt.Errorf("annotation %s: %w", name, err)
	}
	return out, nil
}
