// Package scale grows an example profile to many teams, for benchmarks and
// whole-process timings that measure obsgen where large platforms use it.
package scale

import (
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
)

// Teams returns a copy of base with n teams: base's teams, then copies of
// them in turn whose names, namespaces and services' namespaces carry a
// -<copy> suffix. Everything else (receivers, gateways, dashboards) is
// shared, as on a platform where teams come and go under one set of
// policies, but for the waypoints that serve a team's namespaces only:
// each copy of the team gets its own copy of them, as in ambient every
// team with an objective needs its waypoint. n smaller than
// len(base.Teams) keeps the first n.
func Teams(base *v1alpha1.Profile, n int) (*v1alpha1.Profile, error) {
	if len(base.Teams) == 0 {
		return nil, fmt.Errorf("scale: profile %q has no teams to copy", base.Metadata.Name)
	}
	out, err := clone(base)
	if err != nil {
		return nil, err
	}
	out.Teams = nil
	for i := range n {
		t, err := cloneTeam(base.Teams[i%len(base.Teams)])
		if err != nil {
			return nil, err
		}
		if c := i / len(base.Teams); c > 0 {
			suffix := fmt.Sprintf("-%d", c)
			out.Mesh.Waypoints = append(out.Mesh.Waypoints, teamWaypoints(base, t, suffix)...)
			rename(&t, suffix)
		}
		out.Teams = append(out.Teams, t)
	}
	return out, nil
}

// teamWaypoints are copies, for the copy of t named with suffix, of the
// waypoints that run in and serve t's namespaces only.
func teamWaypoints(base *v1alpha1.Profile, t v1alpha1.Team, suffix string) []v1alpha1.Waypoint {
	var out []v1alpha1.Waypoint
	for _, w := range base.Mesh.Waypoints {
		if !slices.Contains(t.Namespaces, w.Namespace) || slices.ContainsFunc(w.Namespaces, func(ns string) bool { return !slices.Contains(t.Namespaces, ns) }) {
			continue
		}
		w.Namespace += suffix
		w.Namespaces = slices.Clone(w.Namespaces)
		for i := range w.Namespaces {
			w.Namespaces[i] += suffix
		}
		out = append(out, w)
	}
	return out
}

// rename suffixes a team's name and namespaces, and its services'
// namespaces with them.
func rename(t *v1alpha1.Team, suffix string) {
	t.Name += suffix
	for i := range t.Namespaces {
		t.Namespaces[i] += suffix
	}
	for i := range t.Services {
		t.Services[i].Namespace += suffix
	}
}

func clone(p *v1alpha1.Profile) (*v1alpha1.Profile, error) {
	data, err := yaml.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("scale: %w", err)
	}
	var out v1alpha1.Profile
	if err := yaml.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("scale: %w", err)
	}
	return &out, nil
}

func cloneTeam(t v1alpha1.Team) (v1alpha1.Team, error) {
	data, err := yaml.Marshal(t)
	if err != nil {
		return t, fmt.Errorf("scale: %w", err)
	}
	var out v1alpha1.Team
	if err := yaml.Unmarshal(data, &out); err != nil {
		return t, fmt.Errorf("scale: %w", err)
	}
	return out, nil
}
