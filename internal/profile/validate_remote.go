package profile

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
)

// reservedHeaders are the remote-write headers Prometheus refuses to let a
// configuration set (prometheus/config, reservedHeaders and validateHeaders).
var reservedHeaders = []string{
	"authorization", "host", "content-encoding", "content-length", "content-type", "user-agent",
	"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "www-authenticate",
	"accept-encoding", "x-prometheus-remote-write-version", "x-prometheus-remote-read-version",
	"x-amz-date", "x-amz-security-token", "x-amz-content-sha256",
}

// remoteWrite checks the mode and every remote-write endpoint.
func (v *validator) remoteWrite(p v1alpha1.Prometheus) {
	const path = "monitoring.prometheus"
	if p.Mode == v1alpha1.ModeAgent && len(p.RemoteWrite) == 0 {
		v.at(path+".mode", "add monitoring.prometheus.remoteWrite, or use mode: server",
			"agent mode keeps no data and only remote-writes, so it needs a remoteWrite endpoint")
	}
	names := map[string]int{}
	for i, rw := range p.RemoteWrite {
		rp := fmt.Sprintf("%s.remoteWrite[%d]", path, i)
		if rw.Name == "" {
			v.at(rp+".name", "", "missing")
		} else if j, dup := names[rw.Name]; dup {
			v.at(rp+".name", fmt.Sprintf("rename it; remoteWrite[%d] has that name", j), "duplicate remote-write name %q", rw.Name)
		} else {
			names[rw.Name] = i
		}
		v.remoteURL(rp+".url", rw.URL)
		for _, h := range slices.Sorted(mapKeys(rw.Headers)) {
			if slices.Contains(reservedHeaders, strings.ToLower(h)) {
				v.atKey(fmt.Sprintf("%s.headers[%q]", rp, h), "credentials and transport headers are set by Prometheus; use a tenant header such as X-Scope-OrgID",
					"header %q is reserved by Prometheus", h)
			}
		}
		v.queue(rp+".queue", rw.Queue)
	}
}

func (v *validator) remoteURL(path, raw string) {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		v.at(path, "such as http://thanos-receive.monitoring:19291/api/v1/receive", "missing")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		v.at(path, "give an absolute http or https URL, such as http://thanos-receive.monitoring:19291/api/v1/receive",
			"not a remote-write URL (got %q)", raw)
	}
}

func (v *validator) queue(path string, q *v1alpha1.Queue) {
	if q == nil {
		return
	}
	for _, f := range []struct {
		name  string
		value int
	}{{"capacity", q.Capacity}, {"minShards", q.MinShards}, {"maxShards", q.MaxShards}, {"maxSamplesPerSend", q.MaxSamplesPerSend}} {
		if f.value < 0 {
			v.at(path+"."+f.name, "", "must be positive (got %d)", f.value)
		}
	}
	if q.MinShards > 0 && q.MaxShards > 0 && q.MinShards > q.MaxShards {
		v.at(path+".minShards", "", "is larger than maxShards (%d > %d)", q.MinShards, q.MaxShards)
	}
	if q.BatchSendDeadline != "" {
		v.duration(path+".batchSendDeadline", q.BatchSendDeadline)
	}
}

// federation checks the federation settings against the mode, the mesh and
// the shards.
func (v *validator) federation(p v1alpha1.Prometheus) {
	const path = "monitoring.prometheus.federation"
	f := p.Federation
	if f == nil || !f.Enabled {
		return
	}
	switch {
	case p.Mode == v1alpha1.ModeAgent:
		v.at(path+".enabled", "federate from a server, or ship the data with remoteWrite alone",
			"an agent evaluates no recording rules, so it cannot serve the workload: series a global Prometheus federates")
	case v.p.Mesh.Provider != v1alpha1.MeshIstio:
		v.at(path+".enabled", "remove federation, or set mesh.provider: istio", "federation aggregates Istio's metrics, but there is no mesh")
	case p.Shards > 1 && len(f.Targets) != p.Shards:
		v.at(path+".targets", "list each shard's address, such as prometheus-0.monitoring.svc:9090",
			"with %d shards the global Prometheus must federate every shard (got %d targets)", p.Shards, len(f.Targets))
	}
	outside := len(f.Sources) > 0 && !slices.ContainsFunc(f.Sources, func(s v1alpha1.NetworkPeer) bool { return len(s.CIDRs) == 0 })
	if outside {
		// A global Prometheus that scrapes from address ranges runs
		// outside the cluster, where a cluster DNS name (the default
		// <prometheus>.<namespace>.svc:9090, or any <name>[.<ns>][.svc...])
		// does not resolve, or names a Service of its own cluster.
		hint := "set the address the global Prometheus reaches this one at, such as a LoadBalancer's host:port that keeps the client address (externalTrafficPolicy: Local), so that the sources' ranges match; behind an Ingress or a proxying load balancer the source is the proxy, which must then be the source"
		if len(f.Targets) == 0 && p.Shards <= 1 {
			v.warnAt(path+".targets", hint,
				"the sources are address ranges, so the global Prometheus runs outside the cluster, but the target defaults to %s.%s.svc:9090, which only the cluster's DNS resolves", p.Name, v.p.Monitoring.Namespace)
			v.diags[len(v.diags)-1].Pos = v.pos(path + ".sources")
		}
		for i, t := range f.Targets {
			if host, _, err := net.SplitHostPort(t); err == nil && v.clusterDNSName(host) {
				v.warnAt(fmt.Sprintf("%s.targets[%d]", path, i), hint,
					"the sources are address ranges, so the global Prometheus runs outside the cluster, but %q is a cluster DNS name, which only the cluster's DNS resolves", host)
			}
		}
	}
	for i, t := range f.Targets {
		if _, port, err := net.SplitHostPort(t); err != nil || port == "" {
			v.at(fmt.Sprintf("%s.targets[%d]", path, i), "write host:port, such as prometheus.monitoring.svc:9090", "not a host:port address (got %q)", t)
		}
	}
}

// clusterDNSName tells whether host is a name only a cluster's DNS
// resolves (Kubernetes DNS-based service discovery: <service>.<namespace>.
// svc.<zone>, <pod>.<subdomain>.<namespace>.svc.<zone>, and through the
// pods' search path <service>.<namespace> and <service>): one label, two
// whose second is a namespace the profile uses, or svc as the third or
// fourth label. Another two-label name may be a public one (example.com)
// and is left alone.
func (v *validator) clusterDNSName(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if net.ParseIP(host) != nil || host == "localhost" {
		return false
	}
	labels := strings.Split(host, ".")
	switch {
	case len(labels) == 1:
		return true
	case len(labels) == 2:
		_, known := plan.Covered(v.p)[labels[1]]
		return known
	}
	return labels[2] == "svc" || len(labels) > 3 && labels[3] == "svc"
}

// ruleEvaluator checks that the rules that need every series have a place
// where every series is: an agent evaluates nothing, and a shard holds
// part of the series.
func (v *validator) ruleEvaluator(m v1alpha1.Monitoring) {
	const path = "monitoring.rules.evaluator"
	p := m.Prometheus
	partial := ""
	switch {
	case p.Mode == v1alpha1.ModeAgent:
		partial = "an agent evaluates no rules"
	case p.Shards > 1:
		partial = fmt.Sprintf("each of the %d shards holds part of the series, so absent() alerts and sums over a service's pods would be wrong on every shard", p.Shards)
	}
	switch e := m.Rules.Evaluator; {
	case partial == "":
		return
	case e == v1alpha1.EvaluatorPrometheus:
		v.at(path, "use thanos-ruler or mimir-ruler, the ruler of the store the remote write sends every series to",
			"%s: Prometheus cannot evaluate the objectives and cluster-wide alerts", partial)
	case (e == "" || e == v1alpha1.EvaluatorAuto) && len(p.RemoteWrite) > 0 && plan.StoreRuler(p.RemoteWrite) == "" && allHTTP(p.RemoteWrite):
		v.at(path, "set it to thanos-ruler or mimir-ruler: obsgen tells them apart by the remote-write path (/api/v1/receive is Thanos Receive, /api/v1/push is Mimir or Cortex) and cannot here",
			"%s, and the ruler that sees every series cannot be told from the remote-write URLs", partial)
	case (e == "" || e == v1alpha1.EvaluatorAuto) && len(p.RemoteWrite) == 0 && p.Mode != v1alpha1.ModeAgent: // an agent without remote write is refused already
		v.at(path, "add monitoring.prometheus.remoteWrite to a store with a ruler (Thanos Receive, Mimir), or use one server (shards: 1)",
			"%s, and without remote write no ruler sees every series: the objectives and cluster-wide alerts would be evaluated nowhere", partial)
	}
}

// allHTTP tells whether every remote-write URL is an absolute http(s) URL
// (the others are reported on their own).
func allHTTP(rw []v1alpha1.RemoteWrite) bool {
	for _, w := range rw {
		if u, err := url.Parse(w.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return false
		}
	}
	return true
}
