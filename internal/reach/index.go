package reach

import (
	"encoding/binary"
	"net/netip"

	"obsgen.dev/obsgen/internal/plan"
)

// index holds the plan's facts the proof looks up once per pod or per
// check, keyed, so that no lookup scans the teams, services, waypoints or
// flows: with thousands of teams such scans made the proof quadratic.
type index struct {
	teamNamespace map[string]bool
	// teamByName is the position of each team in the plan.
	teamByName map[string]int
	// appPorts is the application port of the first service of each
	// (namespace, selector), by key.
	appPorts map[string]int
	// waypointByName and gatewayByName are the positions of the first
	// waypoint of each namespace/name and gateway of each name.
	waypointByName map[string]int
	gatewayByName  map[string]int
	// unused is a TCP port no flow opens.
	unused int
}

func newIndex(p *plan.Plan) index {
	x := index{teamNamespace: map[string]bool{}, teamByName: map[string]int{}, appPorts: map[string]int{},
		waypointByName: map[string]int{}, gatewayByName: map[string]int{}, unused: unusedPort(p)}
	for i, t := range p.Teams {
		setFirst(x.teamByName, t.Name, i)
		for _, ns := range t.Namespaces {
			x.teamNamespace[ns] = true
		}
	}
	for _, s := range p.ServiceTargets {
		setFirst(x.appPorts, key(s.Namespace, s.Selector), s.AppPort)
	}
	for i, w := range p.Mesh.Waypoints {
		setFirst(x.waypointByName, w.Namespace+"/"+w.Name, i)
	}
	for i, g := range p.Mesh.Gateways {
		setFirst(x.gatewayByName, g.Name, i)
	}
	return x
}

// setFirst keeps the first value given for k, as a search from the start
// of the plan's slice finds it.
func setFirst[V any](m map[string]V, k string, v V) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

// unusedPort is a TCP port no flow opens.
func unusedPort(p *plan.Plan) int {
	used := map[int]bool{}
	for _, f := range p.Flows {
		for _, pp := range f.Ports {
			used[pp.Port] = true
		}
	}
	for _, s := range p.ServiceTargets {
		used[s.AppPort] = true
	}
	port := 9999
	for used[port] {
		port++
	}
	return port
}

// addrPlus is a advanced by n addresses, as n calls of Next advance it,
// without the n steps: the cluster numbers its pods one after the other.
func addrPlus(a netip.Addr, n int) netip.Addr {
	if a.Is4() {
		b := a.As4()
		binary.BigEndian.PutUint32(b[:], binary.BigEndian.Uint32(b[:])+uint32(n))
		return netip.AddrFrom4(b)
	}
	b := a.As16()
	hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
	sum := lo + uint64(n)
	if sum < lo {
		hi++
	}
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], sum)
	return netip.AddrFrom16(b)
}
