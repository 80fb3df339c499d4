package grafana

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/dashvars"
	"obsgen.dev/obsgen/internal/plan"
)

// exampleNamed is the example of that name.
func exampleNamed(t *testing.T, name string) example {
	t.Helper()
	for _, ex := range examples(t) {
		if ex.name == name {
			return ex
		}
	}
	t.Fatalf("no example %s", name)
	return example{}
}

// seriesLike is the first synthetic series line of metric that holds
// every fragment, as loaded (indented, with its values).
func seriesLike(t *testing.T, load, metric string, fragments ...string) string {
	t.Helper()
	for _, line := range strings.Split(load, "\n") {
		if !strings.HasPrefix(line, "  "+metric+"{") {
			continue
		}
		all := true
		for _, f := range fragments {
			all = all && strings.Contains(line, f)
		}
		if all {
			return line
		}
	}
	t.Fatalf("no %s series with %q", metric, fragments)
	return ""
}

// withValues replaces a loaded series line's values.
func withValues(line, values string) string {
	i := strings.LastIndex(line, "} ")
	return line[:i+2] + values
}

// TestSidecarMTLSCoverageSeesPlaintextTCP: a sidecar records
// istio_requests_total only on the chains it parses as HTTP and istio_tcp_*
// on the others (istio/istio pilot/pkg/networking/core/networkfilter.go),
// so a plaintext TCP client of a PERMISSIVE workload (a database client
// without a sidecar, here a pool that opens a connection a minute and
// closes none) shows only in the connections: their coverage must fall,
// while the requests' stays whole.
func TestSidecarMTLSCoverageSeesPlaintextTCP(t *testing.T) {
	ex := exampleNamed(t, "default-permissive")
	load := syntheticLoad(ex.plan, false)
	mtls := seriesLike(t, load, "istio_tcp_connections_opened_total", `connection_security_policy="mutual_tls"`, `reporter="destination"`)
	plain := withValues(strings.Replace(strings.Replace(mtls, `connection_security_policy="mutual_tls"`, `connection_security_policy="none"`, 1),
		`source_workload="client"`, `source_workload="unknown"`, 1), fmt.Sprintf("0+1x%d", syntheticMinutes))
	ng := queryEngine(t)
	clean := storageWithExtra(t, ex.plan, "")
	mixed := storageWithExtra(t, ex.plan, plain+"\n")
	checked := 0
	for _, d := range ex.dashboards {
		if d.Kind != KindMesh {
			continue
		}
		for _, q := range queriesOf(t, decode(t, d.JSON)) {
			switch q.where {
			case "mTLS coverage A": // the requests: the TCP client is not among them
				expr := expanded(t, ex.plan, d, q)
				assert.Equal(t, "1", valueOf(t, result(t, ng, mixed, expr)), "%s: requests only", q)
			case "mTLS coverage B": // the TCP connections open now
				checked++
				assertShareFalls(t, ng, clean, mixed, expanded(t, ex.plan, d, q), q)
			}
		}
	}
	assert.Positive(t, checked, "the mesh overview has the coverage panel")
}

// TestIdleServicesNeitherCountNorReadNaN: a service that stopped taking
// requests keeps its counters, so its rates read 0 (Envoy keeps a stat
// until the proxy restarts). It must not count as a service with traffic,
// and no ratio may read NaN (0/0) for it, for its idle namespace, or for
// an idle gateway: a stat panel would show "NaN".
func TestIdleServicesNeitherCountNorReadNaN(t *testing.T) {
	for _, name := range []string{"default-permissive", "admin-network-policy"} {
		t.Run(name, func(t *testing.T) {
			ex := exampleNamed(t, name)
			load := syntheticLoad(ex.plan, false)
			frozen := fmt.Sprintf("1000x%d", syntheticMinutes)
			svc := ex.plan.ServiceTargets[0]
			var idle []string
			gateway := ""
			if len(ex.plan.Mesh.Gateways) > 0 {
				gateway = fmt.Sprintf(`%s="%s"`, plan.GatewayTargetLabel, ex.plan.Mesh.Gateways[0].Name)
			}
			for _, line := range strings.Split(load, "\n") {
				if !strings.HasPrefix(line, "  istio_") {
					continue
				}
				// Every series of the first service, frozen, as an idle
				// service in a namespace of its own.
				if strings.Contains(line, `destination_canonical_service="`+svc.CanonicalService()+`"`) &&
					strings.Contains(line, `destination_workload_namespace="`+svc.Namespace+`"`) && !strings.Contains(line, plan.GatewayTargetLabel+"=") {
					l := strings.Replace(line, `destination_canonical_service="`, `destination_canonical_service="idle-`, 1)
					idle = append(idle, withValues(strings.Replace(l, `destination_workload_namespace="`, `destination_workload_namespace="idle-`, 1), frozen))
				}
				// The first gateway's series, frozen, as an idle gateway.
				if gateway != "" && strings.Contains(line, gateway) {
					idle = append(idle, withValues(strings.Replace(line, gateway, plan.GatewayTargetLabel+`="idle-gw"`, 1), frozen))
				}
			}
			require.NotEmpty(t, idle)
			ng := queryEngine(t)
			clean := storageWithExtra(t, ex.plan, "")
			withIdle := storageWithExtra(t, ex.plan, strings.Join(idle, "\n")+"\n")
			counted := 0
			for _, d := range ex.dashboards {
				if d.Kind != KindMesh && d.Kind != KindGateways {
					continue
				}
				vars := variables(ex.plan, d.Meta)
				if d.Kind == KindGateways {
					vars[gatewayVar] = "idle-gw"
				}
				// A time series panel draws NaN as a gap (a quantile of
				// no observations is NaN, Prometheus' histogram_quantile
				// documentation); a stat or table prints it.
				printed := map[string]bool{}
				for _, p := range panels(decode(t, d.JSON)) {
					printed[*p.Title] = p.Type == "stat" || p.Type == "table"
				}
				for _, q := range queriesOf(t, decode(t, d.JSON)) {
					expr, unknown := dashvars.Expand(q.expr, vars)
					require.Empty(t, unknown)
					got := result(t, ng, withIdle, expr)
					if title, _, ok := strings.Cut(q.where, " "); ok && (printed[q.where[:strings.LastIndex(q.where, " ")]] || printed[title]) {
						assert.NotContains(t, got, "NaN", "%s: %s", d.Title, q)
					}
					if q.where == "Services with traffic A" {
						counted++
						assert.Equal(t, valueOf(t, result(t, ng, clean, expr)), valueOf(t, got), "an idle service has no traffic")
					}
				}
			}
			assert.Positive(t, counted, "the mesh overview counts services")
		})
	}
	// A mesh where nothing answered requests counts none, not "No data".
	ex := exampleNamed(t, "default-permissive")
	quiet := storageLoaded(t, ex.plan, fmt.Sprintf("load 1m\n  up{job=\"kubelet\", instance=\"10.0.0.2:10250\"} 1x%d\n", syntheticMinutes), contractRules(ex.plan))
	for _, d := range ex.dashboards {
		for _, q := range queriesOf(t, decode(t, d.JSON)) {
			if q.where == "Services with traffic A" {
				assert.Equal(t, "0", valueOf(t, result(t, queryEngine(t), quiet, expanded(t, ex.plan, d, q))), "%s", q)
			}
		}
	}
}

// TestGatewayListedWithoutHTTPTraffic: a gateway that only forwards TCP or
// passed-through TLS records no istio_requests_total (istio/istio
// networkfilter.go), and one just restarted has none yet; the gateway
// variable must still list it, from its targets.
func TestGatewayListedWithoutHTTPTraffic(t *testing.T) {
	ex := exampleNamed(t, "admin-network-policy")
	require.NotEmpty(t, ex.plan.Mesh.Gateways)
	load := syntheticLoad(ex.plan, false)
	gw := ex.plan.Mesh.Gateways[0]
	up := seriesLike(t, load, "up", fmt.Sprintf(`%s="%s"`, plan.GatewayTargetLabel, gw.Name))
	quiet := strings.Replace(up, fmt.Sprintf(`%s="%s"`, plan.GatewayTargetLabel, gw.Name), plan.GatewayTargetLabel+`="tcp-only"`, 1)
	st := storageWithExtra(t, ex.plan, quiet+"\n")
	ng := queryEngine(t)
	checked := 0
	for _, d := range ex.dashboards {
		for _, q := range queriesOf(t, decode(t, d.JSON)) {
			if q.where != "variable "+gatewayVar {
				continue
			}
			checked++
			assert.Contains(t, result(t, ng, st, expanded(t, ex.plan, d, q)), plan.GatewayTargetLabel+`="tcp-only"`, "%s", q)
		}
	}
	assert.Positive(t, checked, "a dashboard has the gateway variable")
}

// TestWorkloadPodsAreTheWorkloadsOwn: the workload variable's pod matcher
// takes a Deployment's and a StatefulSet's pods, not those of a workload
// whose name only starts with it, and All takes every pod.
func TestWorkloadPodsAreTheWorkloadsOwn(t *testing.T) {
	match := func(workload, pod string) bool {
		return regexp.MustCompile("^(?:" + workload + podSuffix + ")$").MatchString(pod)
	}
	for _, pod := range []string{"api-7d9f8c6b5-x7k2p", "api-5b7c8d9f6-m4n2q", "api-0", "api-12"} {
		assert.True(t, match("api", pod), pod)
		assert.True(t, match("(api|web)", pod), pod)
	}
	// A long Deployment name: "<replicaset>-" is cut to 58 characters
	// before the 5 random ones (k8s.io/apiserver names.SimpleNameGenerator).
	long := strings.Repeat("a", 50)
	generated := (long + "-" + "b5d7f9cx2x" + "-")[:58] + "x7k2p"
	assert.True(t, match(long, generated), generated)
	for _, n := range []int{46, 47, 56, 57} {
		name := strings.Repeat("w", n)
		pod := (name + "-" + "b5d7f9cx2x" + "-")[:58] + "x7k2p"
		assert.True(t, match(name, pod), "%d characters: %s", n, pod)
	}
	for _, pod := range []string{"api-gateway-7d9f8c6b5-x7k2p", "api-gateway-0", "api-v2-7d9f8c6b5-x7k2p", "apiserver-7d9f8c6b5-x7k2p"} {
		assert.False(t, match("api", pod), pod)
	}
	for _, pod := range []string{"node-agent-x7k2p", "migrate-28301-b4d2k", "api-7d9f8c6b5-x7k2p", "db-0"} {
		assert.True(t, match(".*", pod), "All: %s", pod)
	}
}
