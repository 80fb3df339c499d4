package reach

import "slices"

// subjectIndex lists, for each pod of the cluster and each direction, the
// AdminNetworkPolicies that select it and have rules for the direction, by
// their place in AdminNetwork.anps (so in priority order). obsgen writes an
// AdminNetworkPolicy per namespace and set of pods: reading every one of
// them for every check made the proof quadratic in the number of teams.
type subjectIndex struct {
	byPod map[*Pod][2][]int
	// byNamespace places the policies whose subject names its namespaces
	// (kubernetes.io/metadata.name); anywhere are the rest.
	byNamespace map[string][]int
	anywhere    []int
}

func (a *AdminNetwork) newSubjectIndex(c *Cluster) subjectIndex {
	x := subjectIndex{byPod: map[*Pod][2][]int{}, byNamespace: map[string][]int{}}
	for i, anp := range a.anps {
		names := anp.subject.namespaces.names
		if names == nil {
			x.anywhere = append(x.anywhere, i)
			continue
		}
		for ns := range names {
			x.byNamespace[ns] = append(x.byNamespace[ns], i)
		}
	}
	for _, pod := range c.Pods {
		x.byPod[pod] = [2][]int{a.selecting(x, pod, false), a.selecting(x, pod, true)}
	}
	return x
}

// subjectsOf lists the policies that select pod for the direction.
func (a *AdminNetwork) subjectsOf(pod *Pod, ingress bool) []int {
	if subjects, ok := a.subjects.byPod[pod]; ok {
		return subjects[directionSlot(ingress)]
	}
	return a.selecting(a.subjects, pod, ingress)
}

func directionSlot(ingress bool) int {
	if ingress {
		return 1
	}
	return 0
}

// selecting lists the policies that select pod for the direction, in
// order, reading only those the index places in its namespace or
// anywhere.
func (a *AdminNetwork) selecting(x subjectIndex, pod *Pod, ingress bool) []int {
	candidates := slices.Concat(x.byNamespace[pod.Namespace], x.anywhere)
	slices.Sort(candidates)
	return slices.DeleteFunc(candidates, func(i int) bool { return !a.selects(&a.anps[i], pod, ingress) })
}
