package profile

import (
	"fmt"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
)

// waypoints checks the declared waypoints, and that every objective of an
// ambient service can be measured: in ambient only a waypoint sees
// requests (ztunnel reports TCP metrics only), so a service without one
// has no request count, error or latency to measure.
func (v *validator) waypoints() {
	m := v.p.Mesh
	ambient := m.Provider == v1alpha1.MeshIstio && m.DataPlane == v1alpha1.DataPlaneAmbient
	if len(m.Waypoints) > 0 && !ambient {
		v.at("mesh.waypoints", "remove it, or set mesh.dataPlane: ambient", "waypoints belong to the ambient data plane")
		return
	}
	served := map[string]string{} // namespace -> path of the waypoint serving it
	seen := map[string]int{}
	for i, w := range m.Waypoints {
		path := fmt.Sprintf("mesh.waypoints[%d]", i)
		v.dnsLabel(path+".name", w.Name)
		v.dnsLabel(path+".namespace", w.Namespace)
		key := w.Namespace + "/" + w.Name
		if j, dup := seen[key]; dup {
			v.at(path+".name", fmt.Sprintf("remove it; mesh.waypoints[%d] is the same waypoint", j), "duplicate waypoint %s", key)
			continue
		}
		seen[key] = i
		namespaces := w.Namespaces
		if len(namespaces) == 0 {
			namespaces = []string{w.Namespace}
		}
		for k, ns := range w.Namespaces {
			v.dnsLabel(fmt.Sprintf("%s.namespaces[%d]", path, k), ns)
		}
		for _, ns := range namespaces {
			if other, dup := served[ns]; dup {
				v.at(path+".namespaces", "a namespace's istio.io/use-waypoint label names one waypoint; keep "+ns+" in one of them",
					"namespace %s is already served by %s", ns, other)
				continue
			}
			served[ns] = path
		}
	}
	if !ambient {
		return
	}
	for i, t := range v.p.Teams {
		for j, s := range t.Services {
			if s.SLOs == nil || (s.SLOs.Availability == nil && s.SLOs.Latency == nil) || served[s.Namespace] != "" {
				continue
			}
			v.at(fmt.Sprintf("teams[%d].services[%d].slos", i, j),
				fmt.Sprintf("add a waypoint for namespace %s under mesh.waypoints (istioctl waypoint apply -n %s --enroll-namespace), or remove the objective", s.Namespace, s.Namespace),
				"in ambient only a waypoint reports requests (reporter=\"waypoint\"); ztunnel reports TCP bytes and connections only, so %s has no request metrics to measure an objective on", s.Name)
		}
	}
}
