package grafana

import (
	"regexp"
	"strconv"
	"strings"

	"obsgen.dev/obsgen/internal/plan"
)

// Building and marshalling a dashboard with the SDK costs about a
// millisecond; a thousand teams would take a second. Teams of the same
// shape (as many namespaces, services and objectives) get the same
// dashboard but for their names and numbers, so each shape is built once
// from placeholder strings, and every team's bytes are the template with
// its strings put in. Only strings that need no escaping in JSON, PromQL
// or SVG take this path (safeView); the tests compare it with building
// each team directly.

// shapes caches one template per team shape.
type shapes struct {
	p       *plan.Plan
	byShape map[string]*shapeTemplate
}

// shapeTemplate is a shape's JSON and preview, split at the placeholders.
type shapeTemplate struct {
	json, svg filler
	panels    int
}

// filler is bytes with numbered holes: lits[0] slot[0] lits[1] ... lits[n].
type filler struct {
	lits  [][]byte
	slots []int
}

func newShapes(p *plan.Plan) *shapes { return &shapes{p: p, byShape: map[string]*shapeTemplate{}} }

// placeholder is the i-th string of a view in a template. '@' never
// appears in the strings safeView admits.
func placeholder(i int) string { return "@@" + strconv.Itoa(i) + "@@" }

var placeholderRe = regexp.MustCompile(`@@(\d+)@@`)

// safeString matches what takes the template path: names, label values,
// jobs and numbers, which every format writes as they are.
var safeString = regexp.MustCompile(`^[A-Za-z0-9._/-]*$`)

func safeView(v *teamView) bool {
	for _, s := range v.strings() {
		if !safeString.MatchString(*s) {
			return false
		}
	}
	return true
}

// key names the shape of a view: what the placeholders cannot stand for.
func (v *teamView) key() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(len(v.namespaces)))
	b.WriteString(strconv.FormatBool(v.l7))
	for _, s := range v.services {
		b.WriteByte('|')
		b.WriteString(strconv.FormatBool(s.l7))
		b.WriteString(strconv.FormatBool(s.viaWaypoint))
		for _, o := range s.objectives {
			b.WriteString(o.name)
			b.WriteByte(',')
		}
	}
	return b.String()
}

// withPlaceholders copies the view with every string numbered.
func (v teamView) withPlaceholders() teamView {
	c := v
	c.namespaces = append([]string(nil), v.namespaces...)
	c.services = append([]serviceView(nil), v.services...)
	for i := range c.services {
		c.services[i].objectives = append([]objective(nil), v.services[i].objectives...)
	}
	for i, s := range c.strings() {
		*s = placeholder(i)
	}
	return c
}

// fill renders a team from its shape's template, building the template
// on first use.
func (sh *shapes) fill(m Meta, v teamView) (Rendered, error) {
	t, ok := sh.byShape[v.key()]
	if !ok {
		built, err := buildTeam(sh.p, m, v.withPlaceholders())
		if err != nil {
			return Rendered{}, err
		}
		t = &shapeTemplate{json: split(built.JSON), svg: split(built.SVG), panels: built.Panels}
		sh.byShape[v.key()] = t
	}
	var values []string
	for _, s := range v.strings() {
		values = append(values, *s)
	}
	return Rendered{Meta: m, JSON: t.json.fill(values), SVG: t.svg.fill(values), Panels: t.panels}, nil
}

func split(b []byte) filler {
	var f filler
	last := 0
	for _, m := range placeholderRe.FindAllSubmatchIndex(b, -1) {
		f.lits = append(f.lits, b[last:m[0]])
		n, _ := strconv.Atoi(string(b[m[2]:m[3]]))
		f.slots = append(f.slots, n)
		last = m[1]
	}
	f.lits = append(f.lits, b[last:])
	return f
}

func (f filler) fill(values []string) []byte {
	size := 0
	for _, l := range f.lits {
		size += len(l)
	}
	for _, s := range f.slots {
		size += len(values[s])
	}
	out := make([]byte, 0, size)
	for i, s := range f.slots {
		out = append(out, f.lits[i]...)
		out = append(out, values[s]...)
	}
	return append(out, f.lits[len(f.lits)-1]...)
}
