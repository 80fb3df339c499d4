package pipeline

import (
	"errors"
	"fmt"
	"strings"

	"obsgen.dev/obsgen/internal/diag"
	"obsgen.dev/obsgen/internal/profile"
	"obsgen.dev/obsgen/internal/reach"
)

// ProofDiagnostics turns a failed network proof into positioned
// diagnostics, one per failing connection, at the profile field that
// makes the connection needed, each with a hint. Other errors pass
// through.
func ProofDiagnostics(l *profile.Loaded, err error) error {
	var pe *reach.ProofError
	if !errors.As(err, &pe) {
		return err
	}
	var out diag.List
	for _, c := range pe.Failures {
		out = append(out, diag.Diagnostic{File: l.FileOf(c.Source), Pos: l.Pos(c.Source), Path: c.Source,
			Message: fmt.Sprintf("the generated network policies break a connection: %s (checked with %s)", c.Describe(), pe.Model),
			Hint:    proofHint(c)})
	}
	return out.Sorted()
}

// proofHint says how to fix a failed check from the profile.
func proofHint(c reach.Check) string {
	switch {
	case !c.Want:
		return "obsgen opened more than monitoring needs; please report this profile as an obsgen defect"
	case strings.HasPrefix(c.Source, "cluster.apiServerCIDRs"):
		return "list the API server endpoints' addresses in cluster.apiServerCIDRs (kubectl get endpointslices -n default -l kubernetes.io/service-name=kubernetes)"
	case strings.HasPrefix(c.Source, "cluster.nodeCIDRs"):
		return "list the nodes' address ranges in cluster.nodeCIDRs"
	case strings.Contains(c.Source, "remoteWrite"), strings.HasPrefix(c.Source, "dashboards.datasource"):
		return "give the endpoint's address ranges in the sibling cidrs field: a network policy cannot name a host"
	case strings.HasPrefix(c.Source, "mesh.gateways"):
		return "check the gateway's namespace, podLabels, ports and sources"
	case strings.HasPrefix(c.Source, "network.calico"), c.Requirement:
		return "obsgen's policies miss a connection the cluster needs: exclude the namespace from the deny " +
			"(network.calico.globalDeny.excludedNamespaces) or declare the workload (mesh.gateways), and report this profile"
	}
	return "check the field's namespaces, labels and ports"
}
