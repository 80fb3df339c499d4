package render

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"text/template"
	"time"
)

// Limits bound one Render call. Template overrides come from many teams, so
// a mistake (a recursive include, `repeat` with a huge count) must fail with
// the template's name instead of crashing obsgen or exhausting memory.
type Limits struct {
	// IncludeDepth bounds nested include calls. text/template bounds its own
	// {{template}} nesting, but each include starts a new execution, and
	// unbounded recursion overflows the Go stack, a fatal error that no
	// recover can catch.
	IncludeDepth int
	// OutputBytes bounds what one Render call (includes and the results of
	// string functions such as repeat) may produce.
	OutputBytes int
	// Time bounds one Render call, checked at each write and include.
	Time time.Duration
}

// DefaultLimits are far above what obsgen's own templates need (a few
// includes deep, a few hundred KiB at 1000 teams).
var DefaultLimits = Limits{IncludeDepth: 64, OutputBytes: 64 << 20, Time: time.Minute}

// budget is the state of one Render call's limits.
type budget struct {
	limits   Limits
	deadline time.Time
	depth    int
	written  int
	// listed counts the numbers until and untilStep made: a loop that
	// prints nothing still pays for its iterations.
	listed int
}

var (
	errTooDeep   = errors.New("include is nested too deeply; is an included template including itself?")
	errTooLarge  = errors.New("output is too large")
	errTooSlow   = errors.New("rendering took too long")
	errAddresses = errors.New("output holds what looks like a memory address, which differs between runs; print fields, not whole structures")
)

// check fails once the time budget is spent.
func (b *budget) check() error {
	if time.Now().After(b.deadline) {
		return fmt.Errorf("%w (over %s)", errTooSlow, b.limits.Time)
	}
	return nil
}

// grow accounts for n more bytes of output.
func (b *budget) grow(n int) error {
	b.written += n
	if b.written > b.limits.OutputBytes {
		return fmt.Errorf("%w (over %d bytes)", errTooLarge, b.limits.OutputBytes)
	}
	return b.check()
}

// fits fails when a string of n bytes would exceed the output budget,
// before it is built.
func (b *budget) fits(n int) error {
	if n < 0 || n > b.limits.OutputBytes-b.written {
		return fmt.Errorf("%w: %d more bytes would exceed %d", errTooLarge, n, b.limits.OutputBytes)
	}
	return nil
}

// limitedWriter is the buffer a Render call writes to.
type limitedWriter struct {
	buf bytes.Buffer
	b   *budget
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if err := w.b.grow(len(p)); err != nil {
		return 0, err
	}
	return w.buf.Write(p)
}

// boundedFuncs replaces the functions whose result size the caller chooses
// with versions that check it against the budget first, and include with a
// depth-counting one.
func (b *budget) boundedFuncs(root *template.Template) template.FuncMap {
	return template.FuncMap{
		"include": func(name string, data any) (string, error) {
			if b.depth >= b.limits.IncludeDepth {
				return "", fmt.Errorf("%w (limit %d)", errTooDeep, b.limits.IncludeDepth)
			}
			if err := b.check(); err != nil {
				return "", err
			}
			b.depth++
			defer func() { b.depth-- }()
			w := &limitedWriter{b: b}
			err := root.ExecuteTemplate(w, name, data)
			return w.buf.String(), nestedError(err)
		},
		"repeat": func(count int, s string) (string, error) {
			if count > 0 && len(s) > 0 && count > (b.limits.OutputBytes+1)/len(s) {
				return "", b.fits(-1)
			}
			if err := b.fits(count * len(s)); err != nil {
				return "", err
			}
			return strings.Repeat(s, max(count, 0)), nil
		},
		"indent": func(n int, s string) (string, error) {
			return b.indent(n, s, false)
		},
		"nindent": func(n int, s string) (string, error) {
			return b.indent(n, s, true)
		},
		"indentLines": func(n int, s string) (string, error) {
			if err := b.padFits(n, s); err != nil {
				return "", err
			}
			return IndentLines(n, s), nil
		},
		"until": func(n int) ([]int, error) {
			return b.intRange(0, n, 1)
		},
		"untilStep": func(start, stop, step int) ([]int, error) {
			return b.intRange(start, stop, step)
		},
	}
}

// limitError carries a limit's error, with the position text/template gave
// it where it happened, up through the includes around it unchanged: each
// level would otherwise add its own position, 64 levels deep.
type limitError struct{ err error }

func (e *limitError) Error() string { return e.err.Error() }
func (e *limitError) Unwrap() error { return e.err }

func nestedError(err error) error {
	var le *limitError
	switch {
	case errors.As(err, &le):
		return le
	case errors.Is(err, errTooDeep) || errors.Is(err, errTooLarge) || errors.Is(err, errTooSlow):
		return &limitError{err}
	}
	return err
}

// padFits checks that indenting every line of s by n spaces fits.
func (b *budget) padFits(n int, s string) error {
	lines := strings.Count(s, "\n") + 1
	if n > 0 && n > (b.limits.OutputBytes+1)/lines {
		return b.fits(-1)
	}
	return b.fits(len(s) + max(n, 0)*lines)
}

func (b *budget) indent(n int, s string, newline bool) (string, error) {
	if err := b.padFits(n, s); err != nil {
		return "", err
	}
	pad := strings.Repeat(" ", max(n, 0))
	out := pad + strings.ReplaceAll(s, "\n", "\n"+pad)
	if newline {
		out = "\n" + out
	}
	return out, nil
}

// intRange is sprig's untilStep, refusing lists larger than the output
// budget (each element prints as at least one byte).
func (b *budget) intRange(start, stop, step int) ([]int, error) {
	if step == 0 || (step > 0) != (stop > start) {
		return nil, nil
	}
	n := (stop - start) / step
	if (stop-start)%step != 0 {
		n++
	}
	if err := b.fits(n); err != nil {
		return nil, fmt.Errorf("a list of %d numbers: %w", n, err)
	}
	if err := b.check(); err != nil {
		return nil, err
	}
	// Nested loops multiply: all the lists of one Render together stay
	// within the output budget, counted in elements.
	if b.listed += n; b.listed > b.limits.OutputBytes {
		return nil, fmt.Errorf("lists of %d numbers in all: %w (limit %d)", b.listed, errTooLarge, b.limits.OutputBytes)
	}
	out := make([]int, 0, n)
	for i := start; (step > 0 && i < stop) || (step < 0 && i > stop); i += step {
		out = append(out, i)
	}
	return out, nil
}

// deterministicPrintf is text/template's printf without what prints memory
// addresses: the %p verb, and pointers, functions and channels as arguments.
func deterministicPrintf(format string, args ...any) (string, error) {
	if pointerVerb.MatchString(strings.ReplaceAll(format, "%%", "")) {
		return "", errors.New(`printf: the %p verb prints a memory address, which differs between runs`)
	}
	for i, a := range args {
		if hasAddress(reflect.ValueOf(a)) {
			return "", fmt.Errorf("printf: argument %d (%T) would print a memory address, which differs between runs; print its fields", i+1, a)
		}
	}
	return fmt.Sprintf(format, args...), nil
}

// hasAddress tells whether fmt could print an address for v: a pointer
// below the top level, a function, a channel or an unsafe pointer.
func hasAddress(v reflect.Value) bool {
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		switch v.Elem().Kind() {
		case reflect.Struct, reflect.Slice, reflect.Array, reflect.Map:
			v = v.Elem() // fmt prints &{...} or &[...] for these
		default:
			return true // and the address itself for any other, whatever the verb
		}
	}
	return hasNestedAddress(v, 0)
}

// pointerVerb matches %p with any flags, width, precision or argument
// index between the % and the p ("%5p", "%[1]p").
var pointerVerb = regexp.MustCompile(`%[-+# 0-9.\[\]*]*p`)

func hasNestedAddress(v reflect.Value, depth int) bool {
	if depth > 8 {
		return false
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return !v.IsNil()
	case reflect.Interface:
		return !v.IsNil() && hasNestedAddress(v.Elem(), depth+1)
	case reflect.Struct:
		for i := range v.NumField() {
			if hasNestedAddress(v.Field(i), depth+1) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range min(v.Len(), 64) {
			if hasNestedAddress(v.Index(i), depth+1) {
				return true
			}
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			if hasNestedAddress(iter.Value(), depth+1) {
				return true
			}
		}
	}
	return false
}

// addressInBraces is how fmt prints a structure or list holding a pointer:
// {a 0x18f5d58a57e8} or [0xc000123456]. Addresses differ between runs (and
// heap addresses are randomised), so this is the last guard against output
// that is not repeatable, such as a whole structure printed by {{ . }}.
var addressInBraces = regexp.MustCompile(`[\{\[][^\n\}\]]*\b0x[0-9a-f]{9,12}\b[^\n\}\]]*[\}\]]`)

func addressLike(out []byte) bool {
	// Output rarely holds "0x" at all: only then is the expression run
	// (scanning every rendered byte with it took a tenth of rendering).
	return bytes.Contains(out, []byte("0x")) && addressInBraces.Match(out)
}

// deterministicPrint wraps print or println, refusing arguments that would
// print a memory address.
func deterministicPrint(print func(...any) string) func(...any) (string, error) {
	return func(args ...any) (string, error) {
		for i, a := range args {
			if hasAddress(reflect.ValueOf(a)) {
				return "", fmt.Errorf("argument %d (%T) would print a memory address, which differs between runs; print its fields", i+1, a)
			}
		}
		return print(args...), nil
	}
}

// deterministicToString wraps sprig's toString the same way.
func deterministicToString(toString func(any) string) func(any) (string, error) {
	check := deterministicPrint(func(args ...any) string { return toString(args[0]) })
	return func(v any) (string, error) { return check(v) }
}

var (
	stringType = reflect.TypeFor[string]()
	errorType  = reflect.TypeFor[error]()
)

// boundStrings wraps every function of fm that returns a string so that
// each call checks the time budget and its result the output budget: a
// string built up in a variable (cat, replace, join, printf ...) cannot
// outgrow the output it would be printed to, and a loop that calls any
// function stops at the deadline.
func (b *budget) boundStrings(fm template.FuncMap) template.FuncMap {
	out := template.FuncMap{}
	for name, f := range fm {
		v := reflect.ValueOf(f)
		t := v.Type()
		if t.Kind() != reflect.Func || t.NumOut() == 0 || t.Out(0) != stringType || t.NumOut() == 2 && t.Out(1) != errorType {
			continue
		}
		out[name] = b.boundString(v, t).Interface()
	}
	return out
}

func (b *budget) boundString(v reflect.Value, t reflect.Type) reflect.Value {
	in := make([]reflect.Type, t.NumIn())
	for i := range in {
		in[i] = t.In(i)
	}
	wrapped := reflect.FuncOf(in, []reflect.Type{stringType, errorType}, t.IsVariadic())
	return reflect.MakeFunc(wrapped, func(args []reflect.Value) []reflect.Value {
		fail := func(err error) []reflect.Value {
			return []reflect.Value{reflect.ValueOf(""), reflect.ValueOf(&err).Elem()}
		}
		if err := b.check(); err != nil {
			return fail(err)
		}
		var res []reflect.Value
		if t.IsVariadic() {
			res = v.CallSlice(args)
		} else {
			res = v.Call(args)
		}
		if len(res) == 2 && !res[1].IsNil() {
			return fail(res[1].Interface().(error))
		}
		if err := b.fits(res[0].Len()); err != nil {
			return fail(err)
		}
		return []reflect.Value{res[0], reflect.Zero(errorType)}
	})
}
