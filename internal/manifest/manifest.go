// Package manifest writes Kubernetes objects as the YAML files obsgen
// generates: without the empty fields Go types carry, each object checked
// against its own type, in yaml.v3's layout (see internal/yamlwriter).
package manifest

import (
	"encoding/json"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/yamlwriter"
)

// Labels and annotations obsgen sets on the objects it writes: the profile
// an object belongs to (the Prometheus resource selects by it), the reason
// an object exists in words, and the plan's flow IDs a policy allows
// (reports/connectivity.md explains each flow).
const (
	ProfileLabel    = "obsgen.dev/profile"
	WhyAnnotation   = "obsgen.dev/why"
	FlowsAnnotation = "obsgen.dev/flows"
)

// Meta names a monitoring resource <prometheus>-<suffix> (just
// <prometheus> for an empty suffix) in the monitoring namespace, with the
// profile label the Prometheus resource selects by.
func Meta(p *plan.Plan, suffix string) metav1.ObjectMeta {
	name := p.Monitoring.Prometheus.Name
	if suffix != "" {
		name += "-" + suffix
	}
	return metav1.ObjectMeta{Name: name, Namespace: p.Monitoring.Namespace,
		Labels: map[string]string{ProfileLabel: p.Name, "app.kubernetes.io/managed-by": "obsgen"}}
}

// File writes one object as a manifest file (see Documents).
func File(path string, obj any) (output.File, error) {
	return Documents(path, []any{obj})
}

// Documents writes objects as one multi-document manifest file. Each is
// written without the empty fields Kubernetes types carry
// (creationTimestamp: null, status: {}).
//
// Every object is built from its Go type, so its JSON holds no field the
// type does not know, and a profile cannot change that: whether dropping
// empty fields leaves something the type (or its own UnmarshalJSON)
// rejects depends on obsgen's code alone. That is checked where it is
// cheapest to be thorough, in tests: internal/e2e decodes every written
// YAML document of every example strictly into the upstream type of its
// kind (TestEveryManifestDecodesStrictlyIntoItsUpstreamType), and this
// package's tests do the same for each kind of empty field dropped.
func Documents[T any](path string, objs []T) (output.File, error) {
	w := yamlwriter.NewWriter(make([]byte, 0, 1024*len(objs)))
	for i, obj := range objs {
		m, err := document(path, obj)
		if err != nil {
			return output.File{}, err
		}
		if err := w.Document(m, i == 0); err != nil {
			return output.File{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	return output.Manifest(path, w.Bytes()), nil
}

// document is obj as the map Documents writes.
func document(path string, obj any) (map[string]any, error) {
	j, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	// Numbers stay json.Number: as float64, an integer of a million or more
	// would be written as 1e+06, which an integer field may refuse.
	m, err := decodeObject(j)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	delete(m, "status")
	if meta, ok := m["metadata"].(map[string]any); ok {
		delete(meta, "creationTimestamp")
	}
	dropEmpty(m)
	return m, nil
}

// dropEmpty removes empty objects that Go structs without omitempty leave
// behind (resources: {}, rules: {alert: {}}), keeping empty selectors
// (selector, podSelector, namespaceSelector, and an AdminNetworkPolicy
// peer's namespaces): they mean "everything".
func dropEmpty(m map[string]any) {
	for k, v := range m {
		sub, ok := v.(map[string]any)
		if !ok {
			if list, isList := v.([]any); isList {
				for _, item := range list {
					if im, isMap := item.(map[string]any); isMap {
						dropEmpty(im)
					}
				}
			}
			continue
		}
		dropEmpty(sub)
		if len(sub) == 0 && !strings.HasSuffix(strings.ToLower(k), "selector") && k != "namespaces" {
			delete(m, k)
		}
	}
}
