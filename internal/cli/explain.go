package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"obsgen.dev/obsgen/generators/istio"
	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
)

func (a *app) explainCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "explain",
		Short: "Explain the decisions obsgen makes for a profile",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "scrape PROFILE",
		Short: "Tell, per scrape job, which port and scheme Prometheus uses and why",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			results, err := a.runAll(args)
			if err != nil {
				return err
			}
			explainScrape(a.stdout, results[0].Plan)
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "rules PROFILE",
		Short: "Tell where each rule group is evaluated (Prometheus, every shard, or the store's ruler) and why",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			results, err := a.runAll(args)
			if err != nil {
				return err
			}
			explainRules(a.stdout, results[0].Plan)
			return nil
		},
	})
	return cmd
}

func explainScrape(w io.Writer, p *plan.Plan) {
	m := p.Mesh
	switch {
	case !m.Istio:
		fmt.Fprintf(w, "Profile %s (cluster %s): no service mesh.\n", p.Name, p.Cluster.Name)
	default:
		plane := "sidecar"
		if m.Ambient {
			plane = "ambient"
		}
		fmt.Fprintf(w, "Profile %s (cluster %s): Istio, %s data plane, mTLS %s, metrics merging %s.\n",
			p.Name, p.Cluster.Name, plane, m.MTLS, onOff(m.MetricsMerging))
	}
	fmt.Fprintf(w, "Scrape strategy %s: %s.\n", p.Scrape.Strategy, p.Scrape.Reason)
	if needs := clusterNeeds(p); len(needs) > 0 {
		fmt.Fprintf(w, "\nWhat the cluster needs for it:\n")
		for _, n := range needs {
			fmt.Fprintf(w, "  - %s\n", strings.TrimPrefix(wrap(n, "    ", 78), "    "))
		}
	}
	for _, j := range p.Jobs {
		if j.Kind == plan.JobTeamServices {
			fmt.Fprintf(w, "\n%s\n%s\n", j.Name, wrap(j.Why, "  ", 78))
			for _, s := range p.ServiceTargets {
				fmt.Fprintf(w, "\n%s\n  scrapes %s\n%s\n", s.Job, describeEndpoint(s.Endpoint), wrap(s.Why, "  ", 78))
			}
			continue
		}
		fmt.Fprintf(w, "\n%s\n  scrapes %s\n%s\n", j.Name, describeEndpoint(j.Endpoint), wrap(j.Why, "  ", 78))
		for _, tg := range j.Targets {
			explainTarget(w, p, j, tg)
		}
	}
	explainKialiTracing(w, p)
}

// explainKialiTracing tells what Kiali reads and where spans go.
func explainKialiTracing(w io.Writer, p *plan.Plan) {
	if k := p.Kiali; k != nil {
		fmt.Fprintf(w, "\nkiali (%s, namespace %s, port %d)\n", k.Install, k.Namespace, k.Port)
		why := "Kiali's graph and health query " + k.Prometheus.URL + ", the data source the dashboards query"
		switch {
		case k.Prometheus.Shared:
			why += fmt.Sprintf(": a shared store, so every query is scoped to cluster=%q", p.Cluster.Name)
			if len(k.Prometheus.Headers) > 0 {
				why += " and sends the tenant header " + plan.TenantHeader
			}
		default:
			why += ": this cluster's Prometheus"
		}
		why += ". It reads the cluster through the API server and istiod's version on 15014"
		if k.GrafanaURL != "" {
			why += ", and links to the team baselines through Grafana (" + k.GrafanaURL + ")"
		}
		if t := p.Tracing; t != nil && t.Query != nil {
			why += ", and reads traces from " + t.Query.URL
		}
		fmt.Fprintf(w, "%s\n", wrap(why+". The network policies open each of these connections.", "  ", 78))
	}
	if t := p.Tracing; t != nil {
		fmt.Fprintf(w, "\ntracing (%s, %v%% of requests)\n", t.Protocol, t.Sampling)
		why := fmt.Sprintf("Every sidecar, gateway and waypoint sends its spans to %s:%d (ztunnel sends none). "+
			"The mesh needs the provider %q of istio/tracing-values.yaml (or istio/tracing-istiooperator.yaml) in meshConfig.extensionProviders, and the Telemetry of istio/tracing-telemetry.yaml selects it mesh-wide.",
			t.CollectorHost(), t.Collector.Port, plan.TracingProviderName)
		if len(t.Backends) > 0 {
			why += fmt.Sprintf(" The collector exports to %d store(s).", len(t.Backends))
		}
		fmt.Fprintf(w, "%s\n", wrap(why, "  ", 78))
	}
}

// clusterNeeds lists what the strategy asks of the cluster beyond the
// objects obsgen writes for kubectl apply.
func clusterNeeds(p *plan.Plan) []string {
	var out []string
	if p.Scrape.Strategy == v1alpha1.StrategySecurePort {
		meshConfig, values := istio.SecureMetricsSettings()
		out = append(out,
			fmt.Sprintf("Istio %s or later on every proxy: the mTLS metrics listeners came with Istio 1.%d.", p.Mesh.Version, plan.SecurePortMinor),
			fmt.Sprintf("the istiod settings of %s (Helm values of the istiod chart) or %s (istioctl install): meshConfig %s; values %s. Then restart the workloads and gateways: the injector applies them when a pod is created.",
				istio.SecureMetricsValuesPath, istio.SecureMetricsIstioOperatorPath, flat(meshConfig), flat(values)),
			fmt.Sprintf("network access from Prometheus to port %d of every proxy; the generated network policies open it.", plan.PortSecureMergedMetrics))
	}
	switch pr := p.Monitoring.Prometheus; {
	case pr.CertWriter():
		out = append(out, "the Prometheus pod's certificate-writing sidecar: the labels, annotations and istio-certs volume of prometheus/prometheus-pod-patch.yaml (raw flavour) or of the operator's Prometheus resource; its sidecar intercepts no traffic.")
	case pr.CertsSecret != "" && pr.CertIssuer != nil:
		out = append(out, fmt.Sprintf("cert-manager, and its %s %s of the mesh CA (the CA istio-csr signs the mesh's certificates with), which issues the Certificate of %s (Prometheus' SPIFFE identity) into the Secret %s; the pod patch or the operator's Prometheus resource mounts it.",
			pr.CertIssuer.Kind, pr.CertIssuer.Name, "istio/prometheus-certificate.yaml", pr.CertsSecret))
	}
	return out
}

// flat writes nested settings as dotted key=value pairs, sorted.
func flat(m map[string]any) string {
	var out []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if mm, ok := v.(map[string]any); ok {
			for k, vv := range mm {
				walk(strings.TrimPrefix(prefix+"."+k, "."), vv)
			}
			return
		}
		out = append(out, fmt.Sprintf("%s=%v", prefix, v))
	}
	walk("", m)
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// explainTarget tells which pods a declared gateway or waypoint is, the
// label its targets carry and the network flows that keep it working and
// scraped (reports/connectivity.md checks each): those that name its pods
// and, for a waypoint, its namespace's HBONE flows when they carry its
// traffic.
func explainTarget(w io.Writer, p *plan.Plan, j plan.Job, tg plan.JobTarget) {
	var labels []string
	for _, l := range tg.Pods.Labels {
		labels = append(labels, l.Name+"="+l.Value)
	}
	fmt.Fprintf(w, "\n  %s=%s: pods %s in namespace %s\n", j.TargetLabel, tg.Name, strings.Join(labels, ","), tg.Pods.Namespace)
	var flows []string
	for _, f := range p.Flows {
		if slices.ContainsFunc([]plan.Peer{f.From, f.To}, func(peer plan.Peer) bool {
			return peer.IsPods() && peer.Namespace == tg.Pods.Namespace &&
				(slices.Equal(peer.Labels, tg.Pods.Labels) || j.Kind == plan.JobWaypoints && len(peer.Labels) == 0 && opensHBONE(f))
		}) {
			flows = append(flows, f.ID)
		}
	}
	if len(flows) > 0 {
		fmt.Fprintf(w, "%s\n", wrap("flows: "+strings.Join(flows, ", "), "    ", 78))
	}
}

func opensHBONE(f plan.Flow) bool {
	return slices.Contains(f.Ports, plan.PortProto{Port: plan.PortHBONE, Protocol: "TCP"})
}

func describeEndpoint(e plan.Endpoint) string {
	port := "the port of the prometheus.io/port annotation"
	if e.Port != 0 {
		port = fmt.Sprintf("port %d", e.Port)
	}
	path := e.Path
	if path == "" {
		path = "the prometheus.io/path annotation (default /metrics)"
	}
	tls := ""
	if e.IstioTLS {
		tls = " with Istio certificates"
	}
	return fmt.Sprintf("%s on %s, path %s%s", e.Scheme, port, path, tls)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// wrap breaks text into indented lines of at most width columns.
func wrap(text, indent string, width int) string {
	var lines []string
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			lines = append(lines, line)
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	return strings.Join(append(lines, line), "\n")
}
