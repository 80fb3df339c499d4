package reach

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"obsgen.dev/obsgen/internal/plan"
)

// TestNamespaceMatcherMatchesAsTheSelector: keeping a namespaceSelector's
// list of names as a set changes no answer of the selector.
func TestNamespaceMatcherMatchesAsTheSelector(t *testing.T) {
	name := plan.NamespaceNameLabel
	in := func(key string, op metav1.LabelSelectorOperator, values ...string) metav1.LabelSelectorRequirement {
		return metav1.LabelSelectorRequirement{Key: key, Operator: op, Values: values}
	}
	selectors := map[string]*metav1.LabelSelector{
		"every namespace":        {},
		"one by matchLabels":     {MatchLabels: map[string]string{name: "a"}},
		"a list":                 {MatchExpressions: []metav1.LabelSelectorRequirement{in(name, metav1.LabelSelectorOpIn, "a", "b")}},
		"a list and a label":     {MatchLabels: map[string]string{"team": "x"}, MatchExpressions: []metav1.LabelSelectorRequirement{in(name, metav1.LabelSelectorOpIn, "a", "b")}},
		"two lists":              {MatchExpressions: []metav1.LabelSelectorRequirement{in(name, metav1.LabelSelectorOpIn, "a", "b"), in(name, metav1.LabelSelectorOpIn, "b", "c")}},
		"a list and a name":      {MatchLabels: map[string]string{name: "b"}, MatchExpressions: []metav1.LabelSelectorRequirement{in(name, metav1.LabelSelectorOpIn, "a", "b")}},
		"all but a list":         {MatchExpressions: []metav1.LabelSelectorRequirement{in(name, metav1.LabelSelectorOpNotIn, "a", "b")}},
		"a name label":           {MatchExpressions: []metav1.LabelSelectorRequirement{in(name, metav1.LabelSelectorOpExists)}},
		"no name label":          {MatchExpressions: []metav1.LabelSelectorRequirement{in(name, metav1.LabelSelectorOpDoesNotExist)}},
		"another label's values": {MatchExpressions: []metav1.LabelSelectorRequirement{in("team", metav1.LabelSelectorOpIn, "a", "x")}},
	}
	namespaces := []labels.Set{nil, {}, {name: "a"}, {name: "b"}, {name: "c"}, {name: "a", "team": "x"}, {name: "b", "team": "x"}, {"team": "a"}}
	for what, sel := range selectors {
		want, err := metav1.LabelSelectorAsSelector(sel)
		require.NoError(t, err)
		got, err := newNamespaceMatcher(sel)
		require.NoError(t, err)
		for _, ns := range namespaces {
			assert.Equal(t, want.Matches(ns), got.matches(ns), "%s on %v", what, ns)
		}
	}
}

// TestSelectorKeysTellSelectorsApart: the compiled evaluator converts each
// distinct selector once, by its key; selectors that differ anywhere must
// not share one.
func TestSelectorKeysTellSelectorsApart(t *testing.T) {
	req := func(key string, op metav1.LabelSelectorOperator, values ...string) metav1.LabelSelectorRequirement {
		return metav1.LabelSelectorRequirement{Key: key, Operator: op, Values: values}
	}
	selectors := []*metav1.LabelSelector{
		{},
		{MatchLabels: map[string]string{"a": "b"}},
		{MatchLabels: map[string]string{"a": "bc"}},
		{MatchLabels: map[string]string{"ab": "c"}},
		{MatchLabels: map[string]string{"a": "b", "c": "d"}},
		{MatchExpressions: []metav1.LabelSelectorRequirement{req("a", metav1.LabelSelectorOpIn, "b")}},
		{MatchExpressions: []metav1.LabelSelectorRequirement{req("a", metav1.LabelSelectorOpNotIn, "b")}},
		{MatchExpressions: []metav1.LabelSelectorRequirement{req("a", metav1.LabelSelectorOpIn, "b", "c")}},
		{MatchExpressions: []metav1.LabelSelectorRequirement{req("a", metav1.LabelSelectorOpIn, "b"), req("c", metav1.LabelSelectorOpExists)}},
		{MatchLabels: map[string]string{"a": "b"}, MatchExpressions: []metav1.LabelSelectorRequirement{req("c", metav1.LabelSelectorOpExists)}},
	}
	seen := map[string]int{}
	for i, sel := range selectors {
		k := selectorKey(sel)
		if j, dup := seen[k]; dup {
			t.Errorf("selectors %d and %d share the key %q", j, i, k)
		}
		seen[k] = i
	}
	assert.Equal(t, selectorKey(&metav1.LabelSelector{MatchLabels: map[string]string{"a": "b", "c": "d"}}),
		selectorKey(&metav1.LabelSelector{MatchLabels: map[string]string{"c": "d", "a": "b"}}), "matchLabels have no order")
}
