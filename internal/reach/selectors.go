package reach

import (
	"maps"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// selectors converts each distinct label selector once. obsgen writes the
// same selectors in every team's namespace (a service's pods, Prometheus'
// namespace, the namespaces of a service's copies), and converting one
// validates each of its keys and values; selectors are never changed once
// converted, so policies share them.
type selectors struct {
	pods       map[string]labels.Selector
	namespaces map[string]*namespaceMatcher
}

func newSelectors() *selectors {
	return &selectors{pods: map[string]labels.Selector{}, namespaces: map[string]*namespaceMatcher{}}
}

// pod converts a pod selector.
func (s *selectors) pod(sel *metav1.LabelSelector) (labels.Selector, error) {
	return cached(s.pods, sel, metav1.LabelSelectorAsSelector)
}

// namespace converts a namespaceSelector.
func (s *selectors) namespace(sel *metav1.LabelSelector) (*namespaceMatcher, error) {
	return cached(s.namespaces, sel, newNamespaceMatcher)
}

func cached[T any](m map[string]T, sel *metav1.LabelSelector, convert func(*metav1.LabelSelector) (T, error)) (T, error) {
	if sel == nil {
		return convert(sel)
	}
	k := selectorKey(sel)
	if v, ok := m[k]; ok {
		return v, nil
	}
	v, err := convert(sel)
	if err == nil {
		m[k] = v
	}
	return v, err
}

// selectorKey spells sel so that selectors spelled alike select alike:
// label keys, operators and values hold neither NUL nor \x01.
func selectorKey(sel *metav1.LabelSelector) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(sel.MatchLabels)) {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(sel.MatchLabels[k])
		b.WriteByte(0)
	}
	for _, e := range sel.MatchExpressions {
		b.WriteByte(1)
		b.WriteString(e.Key)
		b.WriteByte(0)
		b.WriteString(string(e.Operator))
		for _, v := range e.Values {
			b.WriteByte(0)
			b.WriteString(v)
		}
	}
	return b.String()
}
