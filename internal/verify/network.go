package verify

import (
	"fmt"

	"obsgen.dev/obsgen/generators/reports"
	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/pipeline"
	"obsgen.dev/obsgen/internal/reach"
	"obsgen.dev/obsgen/internal/reach/analyzer"
)

// NetworkResult is the reference proof of a profile.
type NetworkResult struct {
	// Summary says what was proven and with which evaluators.
	Summary string
	// Problems are the checks the reference proof fails and those on which
	// the analyzer and obsgen's evaluator disagree.
	Problems []string
}

// Network proves the plan's NetworkPolicies or AdminNetworkPolicies again
// with np-guard's netpol-analyzer as the evaluator, and compares every
// check with the answer of obsgen's evaluator (what generate proved with).
// The analyzer reads no Calico kinds, and the open stance has no policy:
// those are left as generate proved them.
func Network(res *pipeline.Result) (NetworkResult, error) {
	p := res.Plan
	if p.Network.Policies == "" || p.Network.Policies == v1alpha1.EngineCalico {
		return NetworkResult{Summary: fmt.Sprintf("network: no reference evaluator for stance %s with engine %s; generate's proof stands",
			p.Network.Stance, p.Network.Engine)}, nil
	}
	proof, err := reports.Prove(p, res.Policies, analyzer.Reference)
	if err != nil {
		return NetworkResult{}, err
	}
	ref, ours := proof.Result, res.Proof.Result
	var out NetworkResult
	for _, c := range ref.Failures() {
		out.Problems = append(out.Problems, fmt.Sprintf("network (%s): %s", ref.Model, c.Describe()))
	}
	differ := disagreements(ref, ours)
	out.Problems = append(out.Problems, differ...)
	required, allowed, forbidden, denied := ref.Counts()
	out.Summary = fmt.Sprintf("network: %d/%d required connections allowed, %d/%d forbidden connections denied (%s); "+
		"obsgen's evaluator agrees on %d of %d checks", allowed, required, denied, forbidden, ref.Model,
		len(ref.Checks)-len(differ), len(ref.Checks))
	return out, nil
}

// disagreements lists the checks the two proofs answer differently. Both
// ask the same checks in the same order.
func disagreements(ref, ours *reach.Result) []string {
	var out []string
	if len(ref.Checks) != len(ours.Checks) {
		return []string{fmt.Sprintf("network: the reference proof asked %d checks, obsgen's %d", len(ref.Checks), len(ours.Checks))}
	}
	for i, r := range ref.Checks {
		if o := ours.Checks[i]; o.Got != r.Got {
			out = append(out, fmt.Sprintf("network: %s -> %s %s/%d (%s): np-guard netpol-analyzer says %s, obsgen's evaluator %s",
				r.From, r.To, r.Protocol, r.Port, r.Flow, verdict(r.Got), verdict(o.Got)))
		}
	}
	return out
}

func verdict(allowed bool) string {
	if allowed {
		return "allowed"
	}
	return "denied"
}
