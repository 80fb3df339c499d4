package calico

import (
	"errors"
	"fmt"
	"strings"
)

// Expr is a selector expression built with Eq, In, Has, And and friends. The
// builders never produce an expression Calico would misread: they reject a
// label key that is not a Calico label name and a value that contains a
// quote (Calico strings have no escapes). An error sticks to the expression
// and to every expression built from it; Build reports it.
//
//	sel, err := And(Eq("app", "web"), NotIn(LabelName, "kube-system", "calico-system")).Build()
//	// "app == 'web' && projectcalico.org/name not in {'calico-system', 'kube-system'}"
//
// Build returns the normalised form (see Selector.String), so
// ParseSelector(s).String() == s for every s Build returns.
type Expr struct {
	n   node
	err error
}

// All is all(): every endpoint (in scope).
func All() Expr { return Expr{n: allNode{}} }

// Global is global(): in a rule's namespaceSelector, the non-namespaced
// entities (host endpoints, global network sets) only.
func Global() Expr { return Expr{n: globalNode{}} }

// Eq is "key == 'value'": the label is present with that value.
func Eq(key, value string) Expr { return cmpExpr(key, opEq, value) }

// Ne is "key != 'value'": the label is absent or has another value.
func Ne(key, value string) Expr { return cmpExpr(key, opNe, value) }

// Has is "has(key)": the label is present.
func Has(key string) Expr {
	if err := checkKey(key); err != nil {
		return Expr{err: err}
	}
	return Expr{n: hasNode{key: key}}
}

// NotHas is "!has(key)": the label is absent.
func NotHas(key string) Expr { return Not(Has(key)) }

// In is "key in {...}": the label is present with one of the values. The
// values are sorted and deduplicated; at least one is required (an empty set
// matches nothing, which is never what a generator means).
func In(key string, values ...string) Expr { return setExpr(key, false, values) }

// NotIn is "key not in {...}": the label is absent or has none of the
// values. At least one value is required.
func NotIn(key string, values ...string) Expr { return setExpr(key, true, values) }

// Not negates e.
func Not(e Expr) Expr {
	if e.err != nil {
		return e
	}
	return Expr{n: newNotNode(e.n)}
}

// And is the conjunction of es; with no operand it is All().
func And(es ...Expr) Expr {
	if len(es) == 0 {
		return All()
	}
	return combine(true, es)
}

// Or is the disjunction of es; it needs at least one operand.
func Or(es ...Expr) Expr {
	if len(es) == 0 {
		return Expr{err: errors.New("Or needs at least one operand")}
	}
	return combine(false, es)
}

// Build returns the normalised selector string, or the first error met
// while building e.
func (e Expr) Build() (string, error) {
	if e.err != nil {
		return "", e.err
	}
	return e.Selector().String(), nil
}

// MustBuild is Build that panics on error, for literals.
func (e Expr) MustBuild() string {
	s, err := e.Build()
	if err != nil {
		panic(err)
	}
	return s
}

// Err returns the first error met while building e.
func (e Expr) Err() error { return e.err }

// Selector returns e as a Selector; if e has an error, the Selector is the
// zero Selector (all()), so check Err first.
func (e Expr) Selector() Selector {
	if e.err != nil || e.n == nil {
		return Selector{}
	}
	return Selector{root: e.n}
}

func cmpExpr(key string, op cmpOp, value string) Expr {
	if err := checkKey(key); err != nil {
		return Expr{err: err}
	}
	if err := checkValue(value); err != nil {
		return Expr{err: fmt.Errorf("label %q: %w", key, err)}
	}
	return Expr{n: cmpNode{key: key, op: op, value: value}}
}

func setExpr(key string, not bool, values []string) Expr {
	if err := checkKey(key); err != nil {
		return Expr{err: err}
	}
	if len(values) == 0 {
		return Expr{err: fmt.Errorf("label %q: a set needs at least one value", key)}
	}
	for _, v := range values {
		if err := checkValue(v); err != nil {
			return Expr{err: fmt.Errorf("label %q: %w", key, err)}
		}
	}
	return Expr{n: newSetNode(key, not, values)}
}

func combine(and bool, es []Expr) Expr {
	ns := make([]node, len(es))
	for i, e := range es {
		if e.err != nil {
			return e
		}
		ns[i] = e.n
	}
	return Expr{n: newBoolNode(and, ns)}
}

// checkKey accepts what Calico's tokenizer reads as a label.
func checkKey(key string) error {
	if key == "" {
		return errors.New("empty label key")
	}
	if len(key) > maxLabelLen {
		return fmt.Errorf("label key %.20q... is longer than %d characters", key, maxLabelLen)
	}
	for i := range len(key) {
		if !isLabelChar(key[i]) {
			return fmt.Errorf("label key %q: character %q is not allowed (want [a-zA-Z0-9_./-])", key, key[i])
		}
	}
	return nil
}

// checkValue rejects quotes: a Calico string literal cannot escape them.
func checkValue(v string) error {
	if strings.ContainsAny(v, `'"`) {
		return fmt.Errorf("value %q contains a quote, which a Calico selector cannot express", v)
	}
	return nil
}
