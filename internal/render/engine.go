// Package render is obsgen's template engine: embedded default templates,
// overridable file by file from a user directory, with a hermetic sprig
// function map and missingkey=error, so the same plan always renders to the
// same bytes and a typo in a template fails with the file and line.
package render

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/template"
	"time"
)

// Suffix marks template files; helpers shared by all templates live in
// files whose base name starts with '_'.
const Suffix = ".tmpl"

// Engine renders named templates.
type Engine struct {
	root   *template.Template
	limits Limits
	// source maps a template's logical name (its path in the embedded tree)
	// to the file it was read from, for error messages.
	source map[string]string
	// renderers holds clones of root with their bounded functions, each
	// used by one Render at a time (see Render); shared by WithLimits
	// copies, since a renderer takes its limits from the call.
	renderers *sync.Pool
	// overridden tells that a template override replaced a template.
	overridden bool
}

// renderer is a clone of the templates whose bounded functions count
// against its budget.
type renderer struct {
	tmpl *template.Template
	b    *budget
}

// New parses every template of the embedded tree, replacing each one for
// which overrideDir (if not empty) holds a file at the same relative path.
// An override without an embedded twin is an error, which catches typos.
func New(embedded fs.FS, overrideDir string) (*Engine, error) {
	names, err := templateNames(embedded)
	if err != nil {
		return nil, err
	}
	sources := map[string]string{}
	contents := map[string][]byte{}
	for _, name := range names {
		sources[name] = "templates/" + name
		if contents[name], err = fs.ReadFile(embedded, name); err != nil {
			return nil, fmt.Errorf("read embedded template %s: %w", name, err)
		}
	}
	overridden := false
	if overrideDir != "" {
		if overridden, err = applyOverrides(overrideDir, sources, contents); err != nil {
			return nil, err
		}
	}
	e, err := parse(names, sources, contents)
	if err != nil {
		return nil, err
	}
	e.overridden = overridden
	return e, nil
}

func templateNames(fsys fs.FS) ([]string, error) {
	var names []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, Suffix) {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	slices.Sort(names)
	return names, nil
}

// ErrNoOverrideDir marks a --templates folder that does not exist or is
// not a folder: a mistake on the command line, not in a template.
var ErrNoOverrideDir = errors.New("no such folder")

// applyOverrides replaces the templates dir holds an override of, and
// tells whether it held any.
func applyOverrides(dir string, sources map[string]string, contents map[string][]byte) (bool, error) {
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		if err == nil {
			return false, fmt.Errorf("templates directory %s: is a file, not a folder of template overrides (see `obsgen templates dump`): %w", dir, ErrNoOverrideDir)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("templates directory %s: %w; create it with `obsgen templates dump %s`, or drop --templates", dir, ErrNoOverrideDir, dir)
		}
		return false, fmt.Errorf("templates directory %s: %w", dir, err)
	}
	overrides, err := templateNames(os.DirFS(dir))
	if err != nil {
		return false, fmt.Errorf("templates directory %s: %w", dir, err)
	}
	for _, name := range overrides {
		file := filepath.Join(dir, filepath.FromSlash(name))
		if _, ok := contents[name]; !ok {
			return false, fmt.Errorf("template override %s has no built-in template of that name; built-in templates: %s (see `obsgen templates dump`)",
				file, strings.Join(slices.Sorted(maps.Keys(contents)), ", "))
		}
		b, err := readOverride(file)
		if err != nil {
			return false, fmt.Errorf("read template override: %w", err)
		}
		sources[name], contents[name] = file, b
	}
	return len(overrides) > 0, nil
}

func parse(names []string, sources map[string]string, contents map[string][]byte) (*Engine, error) {
	root := template.New("").Option("missingkey=error").Funcs(FuncMap())
	// include renders a named template into a string, as in Helm, so its
	// output can be piped through functions. Each Render call replaces it
	// (and the functions whose output size the caller picks) with bounded
	// versions; this one only declares it for parsing.
	root.Funcs(template.FuncMap{"include": func(string, any) (string, error) {
		return "", errors.New("include outside Render")
	}})
	for _, name := range names {
		// Each template is named by the file it came from, so parse and
		// execution errors point at the user's file.
		if _, err := root.New(sources[name]).Parse(string(contents[name])); err != nil {
			return nil, fmt.Errorf("parse template: %w", err)
		}
	}
	return &Engine{root: root, source: sources, limits: DefaultLimits, renderers: &sync.Pool{}}, nil
}

// WithLimits returns an engine rendering the same templates under other
// limits.
func (e *Engine) WithLimits(l Limits) *Engine {
	c := *e
	c.limits = l
	return &c
}

// Render executes the template with the given logical name (its path in the
// embedded tree, such as "prometheus/prometheus.yml.tmpl").
func (e *Engine) Render(name string, data any) ([]byte, error) {
	src, ok := e.source[name]
	if !ok || path.Base(name)[0] == '_' {
		return nil, fmt.Errorf("render: no template %q", name)
	}
	// Each call gets a clone of the templates whose bounded functions
	// count against its own budget, so generators can render
	// concurrently. Clones are reused: cloning every template and binding
	// every function anew was a third of rendering's allocations.
	r, err := e.renderer()
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", src, err)
	}
	defer e.renderers.Put(r)
	*r.b = budget{limits: e.limits, deadline: time.Now().Add(e.limits.Time)}
	tmpl, b := r.tmpl, r.b
	w := &limitedWriter{b: b}
	if err := tmpl.ExecuteTemplate(w, src, data); err != nil {
		return nil, renderError(src, err)
	}
	if addressLike(w.buf.Bytes()) {
		return nil, fmt.Errorf("render %s: %w", src, errAddresses)
	}
	return w.buf.Bytes(), nil
}

// renderer takes a renderer from the pool, or makes one.
func (e *Engine) renderer() (*renderer, error) {
	if r, ok := e.renderers.Get().(*renderer); ok {
		return r, nil
	}
	tmpl, err := e.root.Clone()
	if err != nil {
		return nil, err
	}
	b := &budget{}
	tmpl.Funcs(b.boundStrings(FuncMap()))
	tmpl.Funcs(b.boundedFuncs(tmpl))
	return &renderer{tmpl: tmpl, b: b}, nil
}

// renderError keeps text/template's position and cause: it says
// "template: FILE:LINE:COL: executing "NAME" at <...>: ...". An error of
// the writer (the output or time budget) has no position, so it names the
// template.
func renderError(src string, err error) error {
	if errors.Is(err, errTooLarge) || errors.Is(err, errTooSlow) {
		if !strings.HasPrefix(err.Error(), "template: ") {
			return fmt.Errorf("render %s: %w", src, err)
		}
	}
	msg := strings.TrimPrefix(err.Error(), "template: ")
	msg = strings.Replace(msg, fmt.Sprintf("executing %q ", src), "", 1)
	return fmt.Errorf("render %s", msg)
}

// Names lists the logical template names, for `obsgen templates dump`.
func (e *Engine) Names() []string {
	return slices.Sorted(maps.Keys(e.source))
}

// maxTemplateSize bounds a template override; obsgen's own are a few KiB.
const maxTemplateSize = 4 << 20

// readOverride reads a template override, refusing a named pipe or device
// (reading one would block or never end) and a file over maxTemplateSize.
func readOverride(file string) ([]byte, error) {
	f, err := os.OpenFile(file, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", file)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxTemplateSize+1))
	if err == nil && len(b) > maxTemplateSize {
		err = fmt.Errorf("%s is larger than %d bytes", file, maxTemplateSize)
	}
	return b, err
}

// Embedded tells whether every template is obsgen's own: no override
// replaced any. What obsgen knows of the text its templates write (which
// lines a setting adds, say) holds only then.
func (e *Engine) Embedded() bool { return !e.overridden }
