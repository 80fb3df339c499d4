package doctor

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"

	"obsgen.dev/obsgen/internal/calico"
)

// managedBy is the label obsgen puts on every object it writes.
const managedBy = "app.kubernetes.io/managed-by"

// object is one policy object, generated or live, by kind and name.
type object struct {
	kind, ns, name string
	labels         map[string]string
	spec           any
}

func (o object) key() string { return o.kind + " " + o.ref() }
func (o object) ref() string {
	if o.ns == "" {
		return o.name
	}
	return o.ns + "/" + o.name
}

// generatedObjects are the policy objects obsgen writes for the profile.
func (d *doctor) generatedObjects() []object {
	pol := d.in.Policies
	if pol == nil {
		return nil
	}
	var out []object
	for _, list := range pol.NetworkPolicies {
		for _, o := range list {
			out = append(out, object{"NetworkPolicy", o.Namespace, o.Name, o.Labels, o.Spec})
		}
	}
	for _, o := range pol.PeerAuthentications {
		out = append(out, object{"PeerAuthentication", o.Namespace, o.Name, o.Labels, &o.Spec})
	}
	for _, o := range pol.AuthorizationPolicies {
		out = append(out, object{"AuthorizationPolicy", o.Namespace, o.Name, o.Labels, &o.Spec})
	}
	for _, o := range pol.AdminNetworkPolicies {
		out = append(out, object{"AdminNetworkPolicy", "", o.Name, o.Labels, o.Spec})
	}
	if b := pol.BaselineAdminNetworkPolicy; b != nil {
		out = append(out, object{"BaselineAdminNetworkPolicy", "", b.Name, b.Labels, b.Spec})
	}
	for _, o := range pol.Calico {
		out = append(out, calicoObject(o))
	}
	var own []object
	for _, o := range out {
		if o.labels[managedBy] == "obsgen" {
			own = append(own, o)
		}
	}
	sort.SliceStable(own, func(i, j int) bool { return own[i].key() < own[j].key() })
	return own
}

func calicoObject(p calico.Policy) object {
	switch o := p.(type) {
	case *calico.GlobalNetworkPolicy:
		return object{"GlobalNetworkPolicy", "", o.Name, o.Labels, o.Spec}
	case *calico.NetworkPolicy:
		return object{"NetworkPolicy.projectcalico.org", o.Namespace, o.Name, o.Labels, o.Spec}
	}
	return object{}
}

func (d *doctor) liveObjects() map[string]object {
	st := d.st
	out := map[string]object{}
	add := func(o object) { out[o.key()] = o }
	for _, o := range st.NetworkPolicies {
		add(object{"NetworkPolicy", o.Namespace, o.Name, o.Labels, o.Spec})
	}
	for _, o := range st.PeerAuthentications {
		add(object{"PeerAuthentication", o.Namespace, o.Name, o.Labels, &o.Spec})
	}
	for _, o := range st.AuthorizationPolicies {
		add(object{"AuthorizationPolicy", o.Namespace, o.Name, o.Labels, &o.Spec})
	}
	for _, o := range st.AdminNetworkPolicies {
		add(object{"AdminNetworkPolicy", "", o.Name, o.Labels, o.Spec})
	}
	if b := st.BaselineAdminNetworkPolicy; b != nil {
		add(object{"BaselineAdminNetworkPolicy", "", b.Name, b.Labels, b.Spec})
	}
	for _, o := range st.Calico {
		add(calicoObject(o))
	}
	return out
}

// generated tells whether obsgen writes the object kind "ns/name".
func (d *doctor) generated(kind, ref string) bool {
	return slices.ContainsFunc(d.generatedObjects(), func(o object) bool { return o.kind == kind && o.ref() == ref })
}

// liveKinds are the kinds the cluster state holds at least one object of,
// or could hold none of legitimately: drift is only reported for kinds the
// state was asked for.
func (d *doctor) liveKinds() map[string]bool {
	k := map[string]bool{}
	for _, o := range d.liveObjects() {
		k[o.kind] = true
	}
	return k
}

// checkDrift compares obsgen's objects with the cluster's: missing, or
// with a field obsgen sets holding another value. Fields the API server
// adds (defaults) are not drift.
func (d *doctor) checkDrift() {
	live := d.liveObjects()
	kinds := d.liveKinds()
	var missing []object
	for _, g := range d.generatedObjects() {
		l, ok := live[g.key()]
		if !ok {
			missing = append(missing, g)
			continue
		}
		if diffs := subsetDiff(toJSON(g.spec), toJSON(l.spec), "spec"); len(diffs) > 0 {
			if len(diffs) > 5 {
				diffs = append(diffs[:5], fmt.Sprintf("and %d more", len(diffs)-5))
			}
			d.add(Finding{Severity: Warning, Cause: CauseDriftEdited, Subject: g.kind + " " + g.ref(),
				Summary:  "the cluster runs obsgen's object with other values: someone edited it, or it was applied from an older output",
				Evidence: diffs,
				Fix:      fmt.Sprintf("apply obsgen's output (`kubectl apply -k %s`); change the profile, not the object", d.outDir()),
				Ref:      "kubernetes.io docs/tasks/manage-kubernetes-objects/declarative-config"})
		}
	}
	if len(missing) == 0 {
		return
	}
	byKind := map[string][]string{}
	for _, m := range missing {
		byKind[m.kind] = append(byKind[m.kind], m.ref())
	}
	for _, kind := range slices.Sorted(maps.Keys(byKind)) {
		refs := byKind[kind]
		sev := Warning
		note := ""
		if !kinds[kind] {
			note = fmt.Sprintf(" (the cluster state holds no %s at all: was it exported?)", kind)
		}
		shown := refs
		if len(shown) > 8 {
			shown = append(slices.Clone(refs[:8]), fmt.Sprintf("and %d more", len(refs)-8))
		}
		d.add(Finding{Severity: sev, Cause: CauseDriftMissing, Subject: fmt.Sprintf("%d %s object(s) of obsgen", len(refs), kind),
			Summary:  "obsgen's objects are not in the cluster" + note,
			Evidence: []string{strings.Join(shown, ", ")},
			Fix:      fmt.Sprintf("apply obsgen's output (`kubectl apply -k %s`)", d.outDir()),
			Ref:      "obsgen output"})
	}
}

func toJSON(v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if json.Unmarshal(data, &out) != nil {
		return nil
	}
	return out
}

// subsetDiff lists where want (obsgen's) is not contained in got (the
// cluster's): maps compare key by key, lists and scalars whole.
func subsetDiff(want, got any, path string) []string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, the cluster has %s", path, short(got))}
		}
		var out []string
		for _, k := range slices.Sorted(maps.Keys(w)) {
			out = append(out, subsetDiff(w[k], g[k], path+"."+k)...)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return []string{fmt.Sprintf("%s: obsgen writes %s, the cluster has %s", path, short(want), short(got))}
		}
		var out []string
		for i := range w {
			out = append(out, subsetDiff(w[i], g[i], fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	}
	if !reflect.DeepEqual(want, got) {
		return []string{fmt.Sprintf("%s: obsgen writes %s, the cluster has %s", path, short(want), short(got))}
	}
	return nil
}

func short(v any) string {
	data, _ := json.Marshal(v)
	s := string(data)
	if v == nil {
		s = "nothing"
	}
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}
