package calico

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Selector is a parsed Calico selector expression. See
// https://docs.tigera.io/calico/latest/reference/resources/networkpolicy#selectors
//
// The grammar, following Calico's own parser (libcalico-go/lib/selector), is
//
//	expr    = and { "||" and }
//	and     = unary { "&&" unary }
//	unary   = { "!" } primary
//	primary = "all()" | "global()" | "has(" label ")" | "(" expr ")"
//	        | label ( "==" | "!=" | "contains" | "starts with" | "ends with" ) string
//	        | label ( "in" | "not in" ) "{" [ string { "," string } [ "," ] ] "}"
//
// so "&&" binds tighter than "||", and "!" applies to the primary that follows
// it ("!a == 'x'" is "!(a == 'x')"). A label is one or more of
// [a-zA-Z0-9_./-]; a string is quoted with ' or " and has no escapes; only
// spaces and tabs separate tokens. The empty selector (or one of only
// blanks) is all().
//
// Matching follows Calico: "k != v" and "k not in {...}" are true when k is
// absent; "k == v", "k in {...}", contains, starts with and ends with are
// false when it is. The zero Selector is all().
type Selector struct {
	root node
}

// SelectorError is a selector syntax error: what went wrong, and where, as a
// 1-based column counted in characters.
type SelectorError struct {
	Selector string
	Column   int
	Msg      string
}

func (e *SelectorError) Error() string {
	return fmt.Sprintf("selector %q: column %d: %s", e.Selector, e.Column, e.Msg)
}

// ParseSelector parses a Calico selector expression.
func ParseSelector(s string) (Selector, error) {
	toks, err := lex(s)
	if err != nil {
		return Selector{}, err
	}
	p := &parser{src: s, toks: toks}
	if p.peek().kind == tokEOF {
		return Selector{root: allNode{}}, nil
	}
	n, err := p.parseOr()
	if err != nil {
		return Selector{}, err
	}
	if t := p.peek(); t.kind != tokEOF {
		return Selector{}, p.errorAt(t, "unexpected %s after a complete expression (missing && or ||?)", t)
	}
	return Selector{root: n}, nil
}

// MustParseSelector is ParseSelector that panics on error, for literals.
func MustParseSelector(s string) Selector {
	sel, err := ParseSelector(s)
	if err != nil {
		panic(err)
	}
	return sel
}

// Matches reports whether labels satisfy the selector. global() is true
// here, as in Calico's label evaluation: its special meaning in a rule's
// namespaceSelector (non-namespaced entities only) is the Evaluator's
// business.
func (s Selector) Matches(labels map[string]string) bool {
	return s.eval(labels, evalContext{all: true, global: true})
}

// String returns the normalised expression: single-quoted strings (double
// quotes for a string that contains a single quote), sets sorted and
// deduplicated, nested && and || flattened, parentheses only where
// precedence needs them, and "all()" for the empty selector.
// ParseSelector(s.String()) is equivalent to s and prints the same.
func (s Selector) String() string {
	var b strings.Builder
	s.rootNode().write(&b)
	return b.String()
}

// IsAll reports whether the selector is literally all() (or empty).
func (s Selector) IsAll() bool {
	_, ok := s.rootNode().(allNode)
	return ok
}

func (s Selector) rootNode() node {
	if s.root == nil {
		return allNode{}
	}
	return s.root
}

// evalContext gives all() and global() their meaning where Calico rewrites
// them: in a namespaceSelector Calico turns all() into "any namespaced
// endpoint" and global() into "no namespaced endpoint".
type evalContext struct {
	all, global bool
}

func (s Selector) eval(labels map[string]string, ctx evalContext) bool {
	return s.rootNode().eval(labels, ctx)
}

// usesGlobal reports whether global() appears anywhere in the selector.
func (s Selector) usesGlobal() bool { return s.rootNode().usesGlobal() }

// The AST.

type node interface {
	eval(labels map[string]string, ctx evalContext) bool
	write(b *strings.Builder)
	// prec is the binding strength: 1 for ||, 2 for &&, 3 for the rest.
	prec() int
	usesGlobal() bool
}

type allNode struct{}

func (allNode) eval(_ map[string]string, ctx evalContext) bool { return ctx.all }
func (allNode) write(b *strings.Builder)                       { b.WriteString("all()") }
func (allNode) prec() int                                      { return 3 }
func (allNode) usesGlobal() bool                               { return false }

type globalNode struct{}

func (globalNode) eval(_ map[string]string, ctx evalContext) bool { return ctx.global }
func (globalNode) write(b *strings.Builder)                       { b.WriteString("global()") }
func (globalNode) prec() int                                      { return 3 }
func (globalNode) usesGlobal() bool                               { return true }

type hasNode struct{ key string }

func (n hasNode) eval(l map[string]string, _ evalContext) bool {
	_, ok := l[n.key]
	return ok
}
func (n hasNode) write(b *strings.Builder) { b.WriteString("has(" + n.key + ")") }
func (hasNode) prec() int                  { return 3 }
func (hasNode) usesGlobal() bool           { return false }

type cmpOp int

const (
	opEq cmpOp = iota
	opNe
	opContains
	opStartsWith
	opEndsWith
)

var cmpOpText = [...]string{opEq: "==", opNe: "!=", opContains: "contains", opStartsWith: "starts with", opEndsWith: "ends with"}

type cmpNode struct {
	key   string
	op    cmpOp
	value string
}

func (n cmpNode) eval(l map[string]string, _ evalContext) bool {
	v, ok := l[n.key]
	switch n.op {
	case opEq:
		return ok && v == n.value
	case opNe:
		return !ok || v != n.value
	case opContains:
		return ok && strings.Contains(v, n.value)
	case opStartsWith:
		return ok && strings.HasPrefix(v, n.value)
	default: // opEndsWith
		return ok && strings.HasSuffix(v, n.value)
	}
}

func (n cmpNode) write(b *strings.Builder) {
	b.WriteString(n.key + " " + cmpOpText[n.op] + " " + quote(n.value))
}
func (cmpNode) prec() int        { return 3 }
func (cmpNode) usesGlobal() bool { return false }

// setNode is "key in {...}" or, negated, "key not in {...}"; values are
// sorted and deduplicated.
type setNode struct {
	key    string
	not    bool
	values []string
}

func newSetNode(key string, not bool, values []string) setNode {
	vs := slices.Clone(values)
	slices.Sort(vs)
	return setNode{key: key, not: not, values: slices.Compact(vs)}
}

func (n setNode) eval(l map[string]string, _ evalContext) bool {
	v, ok := l[n.key]
	// values are sorted (newSetNode): a set of every team's namespaces is
	// searched, not scanned.
	_, found := slices.BinarySearch(n.values, v)
	in := ok && found
	if n.not {
		return !in
	}
	return in
}

func (n setNode) write(b *strings.Builder) {
	b.WriteString(n.key)
	if n.not {
		b.WriteString(" not in {")
	} else {
		b.WriteString(" in {")
	}
	for i, v := range n.values {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quote(v))
	}
	b.WriteString("}")
}
func (setNode) prec() int        { return 3 }
func (setNode) usesGlobal() bool { return false }

type notNode struct{ x node }

// newNotNode negates x, cancelling a double negation ("!(!a)" is "a", as
// "!!a" is in Calico's parser).
func newNotNode(x node) node {
	if n, ok := x.(notNode); ok {
		return n.x
	}
	return notNode{x}
}

func (n notNode) eval(l map[string]string, ctx evalContext) bool { return !n.x.eval(l, ctx) }
func (n notNode) write(b *strings.Builder) {
	b.WriteString("!")
	writeOperand(b, n.x, 3)
}
func (notNode) prec() int          { return 3 }
func (n notNode) usesGlobal() bool { return n.x.usesGlobal() }

// boolNode is an n-ary && (and=true) or ||.
type boolNode struct {
	and bool
	xs  []node
}

// newBoolNode flattens operands that are themselves the same operator, so
// "(a && b) && c" and "a && (b && c)" both become "a && b && c".
func newBoolNode(and bool, xs []node) node {
	var flat []node
	for _, x := range xs {
		if bn, ok := x.(boolNode); ok && bn.and == and {
			flat = append(flat, bn.xs...)
		} else {
			flat = append(flat, x)
		}
	}
	if len(flat) == 1 {
		return flat[0]
	}
	return boolNode{and: and, xs: flat}
}

func (n boolNode) eval(l map[string]string, ctx evalContext) bool {
	for _, x := range n.xs {
		if x.eval(l, ctx) != n.and {
			return !n.and
		}
	}
	return n.and
}

func (n boolNode) write(b *strings.Builder) {
	sep := " || "
	if n.and {
		sep = " && "
	}
	for i, x := range n.xs {
		if i > 0 {
			b.WriteString(sep)
		}
		writeOperand(b, x, n.prec())
	}
}

func (n boolNode) prec() int {
	if n.and {
		return 2
	}
	return 1
}

func (n boolNode) usesGlobal() bool {
	return slices.ContainsFunc(n.xs, node.usesGlobal)
}

// writeOperand writes x, parenthesised if it binds more loosely than an
// operand of an operator of precedence prec must.
func writeOperand(b *strings.Builder, x node, prec int) {
	if x.prec() < prec {
		b.WriteString("(")
		x.write(b)
		b.WriteString(")")
		return
	}
	x.write(b)
}

// quote quotes a string literal. Calico strings have no escapes, so a value
// with a single quote is double-quoted; no parsed value has both kinds.
func quote(v string) string {
	if strings.Contains(v, "'") {
		return `"` + v + `"`
	}
	return "'" + v + "'"
}

// The lexer.

type tokKind int

const (
	tokEOF tokKind = iota
	tokLabel
	tokString
	tokLParen
	tokRParen
	tokLBrace
	tokRBrace
	tokComma
	tokEq
	tokNe
	tokNot
	tokAnd
	tokOr
	tokIn
	tokNotIn
	tokContains
	tokStartsWith
	tokEndsWith
	tokHas
	tokAll
	tokGlobal
)

type token struct {
	kind tokKind
	val  string // label, string value, or has() label
	pos  int    // byte offset in the source
	text string // source text, for messages
}

func (t token) String() string {
	switch t.kind {
	case tokEOF:
		return "end of selector"
	case tokLabel:
		return fmt.Sprintf("label %q", t.val)
	case tokString:
		return "string " + t.text
	default:
		return "'" + t.text + "'"
	}
}

// isBlank is Calico's whitespace: spaces and tabs only.
func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func isLabelChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '.' || c == '/' || c == '-'
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// maxLabelLen is Calico's limit on a label key in a selector.
const maxLabelLen = 512

var punctuation = map[byte]tokKind{'(': tokLParen, ')': tokRParen, '{': tokLBrace, '}': tokRBrace, ',': tokComma}

type lexer struct {
	src  string
	i    int
	toks []token
}

func lex(src string) ([]token, error) {
	l := &lexer{src: src}
	for {
		l.skipBlanks()
		if l.i >= len(src) {
			l.toks = append(l.toks, token{kind: tokEOF, pos: len(src)})
			return l.toks, nil
		}
		if err := l.next(); err != nil {
			return nil, err
		}
	}
}

func (l *lexer) skipBlanks() {
	for l.i < len(l.src) && isBlank(l.src[l.i]) {
		l.i++
	}
}

func (l *lexer) emit(kind tokKind, start int, val string) {
	l.toks = append(l.toks, token{kind: kind, val: val, pos: start, text: l.src[start:l.i]})
}

func (l *lexer) errorf(pos int, format string, args ...any) error {
	return &SelectorError{Selector: l.src, Column: column(l.src, pos), Msg: fmt.Sprintf(format, args...)}
}

func (l *lexer) afterLabel() bool {
	return len(l.toks) > 0 && l.toks[len(l.toks)-1].kind == tokLabel
}

func (l *lexer) next() error {
	start := l.i
	c := l.src[l.i]
	two := func(second byte, kind tokKind, msg string) error {
		if l.i+1 < len(l.src) && l.src[l.i+1] == second {
			l.i += 2
			l.emit(kind, start, "")
			return nil
		}
		return l.errorf(start, "%s", msg)
	}
	if kind, ok := punctuation[c]; ok {
		l.i++
		l.emit(kind, start, "")
		return nil
	}
	switch c {
	case '"', '\'':
		end := strings.IndexByte(l.src[l.i+1:], c)
		if end < 0 {
			return l.errorf(start, "unterminated string: no closing %c (strings have no escapes)", c)
		}
		l.i += end + 2
		l.emit(tokString, start, l.src[start+1:l.i-1])
		return nil
	case '=':
		return two('=', tokEq, "'=' is not an operator: use '=='")
	case '&':
		return two('&', tokAnd, "'&' is not an operator: use '&&'")
	case '|':
		return two('|', tokOr, "'|' is not an operator: use '||'")
	case '!':
		if l.i+1 < len(l.src) && l.src[l.i+1] == '=' {
			l.i += 2
			l.emit(tokNe, start, "")
			return nil
		}
		l.i++
		l.emit(tokNot, start, "")
		return nil
	}
	if l.afterLabel() {
		return l.operator()
	}
	for _, fn := range []struct {
		name string
		kind tokKind
	}{{"has(", tokHas}, {"all(", tokAll}, {"global(", tokGlobal}} {
		if strings.HasPrefix(l.src[l.i:], fn.name) {
			return l.function(fn.name, fn.kind)
		}
	}
	if isLabelChar(c) {
		return l.label(tokLabel)
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.i:])
	return l.errorf(start, "unexpected character %q", r)
}

func (l *lexer) label(kind tokKind) error {
	start := l.i
	for l.i < len(l.src) && isLabelChar(l.src[l.i]) {
		l.i++
	}
	if l.i-start > maxLabelLen {
		return l.errorf(start, "label is longer than %d characters", maxLabelLen)
	}
	l.emit(kind, start, l.src[start:l.i])
	return nil
}

// function lexes has(label), all() and global().
func (l *lexer) function(name string, kind tokKind) error {
	start := l.i
	l.i += len(name)
	l.skipBlanks()
	var arg string
	if kind == tokHas {
		argStart := l.i
		for l.i < len(l.src) && isLabelChar(l.src[l.i]) {
			l.i++
		}
		arg = l.src[argStart:l.i]
		if arg == "" {
			return l.errorf(argStart, "has() needs a label name")
		}
		l.skipBlanks()
	}
	if l.i >= len(l.src) || l.src[l.i] != ')' {
		return l.errorf(l.i, "expected ')' to close %s", name)
	}
	l.i++
	l.emit(kind, start, arg)
	return nil
}

// operator lexes the word operators that may follow a label.
func (l *lexer) operator() error {
	start := l.i
	word := l.word()
	if kind, ok := wordOperators[word]; ok {
		l.emit(kind, start, "")
		return nil
	}
	if op, ok := twoWordOperators[word]; ok {
		// Calico also accepts the two words run together ("notin").
		l.skipBlanks()
		at := l.i
		if l.word() != op.second {
			return l.errorf(at, "expected %q after %q", op.second, word)
		}
		l.emit(op.kind, start, "")
		return nil
	}
	label := l.toks[len(l.toks)-1].val
	return l.errorf(start, "expected an operator (==, !=, in, not in, contains, starts with, ends with) after label %q", label)
}

var wordOperators = map[string]tokKind{
	"in": tokIn, "contains": tokContains,
	"notin": tokNotIn, "startswith": tokStartsWith, "endswith": tokEndsWith,
}

var twoWordOperators = map[string]struct {
	second string
	kind   tokKind
}{
	"not":    {"in", tokNotIn},
	"starts": {"with", tokStartsWith},
	"ends":   {"with", tokEndsWith},
}

func (l *lexer) word() string {
	start := l.i
	for l.i < len(l.src) && isLetter(l.src[l.i]) {
		l.i++
	}
	return l.src[start:l.i]
}

// column turns a byte offset into a 1-based character column.
func column(s string, pos int) int {
	return utf8.RuneCountInString(s[:pos]) + 1
}

// The parser.

type parser struct {
	src  string
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) take() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) errorAt(t token, format string, args ...any) error {
	return &SelectorError{Selector: p.src, Column: column(p.src, t.pos), Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parseOr() (node, error) {
	return p.parseChain(tokOr, p.parseAnd)
}

func (p *parser) parseAnd() (node, error) {
	return p.parseChain(tokAnd, p.parseUnary)
}

// parseChain parses operands separated by op.
func (p *parser) parseChain(op tokKind, operand func() (node, error)) (node, error) {
	x, err := operand()
	if err != nil {
		return nil, err
	}
	xs := []node{x}
	for p.peek().kind == op {
		p.take()
		x, err := operand()
		if err != nil {
			return nil, err
		}
		xs = append(xs, x)
	}
	return newBoolNode(op == tokAnd, xs), nil
}

func (p *parser) parseUnary() (node, error) {
	not := false
	for p.peek().kind == tokNot {
		p.take()
		not = !not
	}
	x, err := p.parsePrimary()
	if err != nil || !not {
		return x, err
	}
	return newNotNode(x), nil
}

func (p *parser) parsePrimary() (node, error) {
	t := p.take()
	switch t.kind {
	case tokAll:
		return allNode{}, nil
	case tokGlobal:
		return globalNode{}, nil
	case tokHas:
		return hasNode{key: t.val}, nil
	case tokLParen:
		x, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if c := p.take(); c.kind != tokRParen {
			return nil, p.errorAt(c, "expected ')' to close the '(' at column %d, found %s", column(p.src, t.pos), c)
		}
		return x, nil
	case tokLabel:
		return p.parseComparison(t)
	}
	return nil, p.errorAt(t, "expected a label, has(), all(), global(), '!' or '(', found %s", t)
}

var cmpOps = map[tokKind]cmpOp{tokEq: opEq, tokNe: opNe, tokContains: opContains, tokStartsWith: opStartsWith, tokEndsWith: opEndsWith}

func (p *parser) parseComparison(label token) (node, error) {
	op := p.take()
	switch op.kind {
	case tokEq, tokNe, tokContains, tokStartsWith, tokEndsWith:
		v := p.take()
		if v.kind != tokString {
			return nil, p.errorAt(v, "expected a quoted string after %s, found %s", op, v)
		}
		return cmpNode{key: label.val, op: cmpOps[op.kind], value: v.val}, nil
	case tokIn, tokNotIn:
		if b := p.take(); b.kind != tokLBrace {
			return nil, p.errorAt(b, "expected '{' after %s, found %s", op, b)
		}
		var values []string
		for p.peek().kind == tokString {
			values = append(values, p.take().val)
			if p.peek().kind != tokComma {
				break
			}
			p.take()
		}
		if c := p.take(); c.kind != tokRBrace {
			return nil, p.errorAt(c, "expected a quoted string, ',' or '}' in the set after %s, found %s", op, c)
		}
		return newSetNode(label.val, op.kind == tokNotIn, values), nil
	}
	return nil, p.errorAt(op, "expected an operator after label %q, found %s", label.val, op)
}
