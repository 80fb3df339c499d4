// Package render is obsgen's template engine: embedded default templates,
// overridable file by file from a user directory, with a hermetic sprig
// function map and missingkey=error, so the same plan always renders to the
// same bytes and a typo in a template fails with the file and line.
package render

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
)

// Suffix marks template files; helpers shared by all templates live in
// files whose base name starts with '_'.
const Suffix = ".tmpl"

// Engine renders named templates.
type Engine struct {
	root *template.Template
	// source maps a template's logical name (its path in the embedded tree)
	// to the file it was read from, for error messages.
	source map[string]string
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
	if overrideDir != "" {
		if err := applyOverrides(overrideDir, sources, contents); err != nil {
			return nil, err
		}
	}
	return parse(names, sources, contents)
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
		return nil, fmt.Errorf("list embedded templates: %w", err)
	}
	slices.Sort(names)
	return names, nil
}

func applyOverrides(dir string, sources map[string]string, contents map[string][]byte) error {
	overrides, err := templateNames(os.DirFS(dir))
	if err != nil {
		return fmt.Errorf("templates directory %s: %w", dir, err)
	}
	for _, name := range overrides {
		file := filepath.Join(dir, filepath.FromSlash(name))
		if _, ok := contents[name]; !ok {
			return fmt.Errorf("template override %s has no built-in template of that name; built-in templates: %s (see `obsgen templates dump`)",
				file, strings.Join(slices.Sorted(maps.Keys(contents)), ", "))
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("read template override: %w", err)
		}
		sources[name], contents[name] = file, b
	}
	return nil
}

func parse(names []string, sources map[string]string, contents map[string][]byte) (*Engine, error) {
	root := template.New("").Option("missingkey=error").Funcs(FuncMap())
	// include renders a named template into a string, as in Helm, so its
	// output can be piped through functions.
	root.Funcs(template.FuncMap{"include": func(name string, data any) (string, error) {
		var buf bytes.Buffer
		err := root.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}})
	for _, name := range names {
		// Each template is named by the file it came from, so parse and
		// execution errors point at the user's file.
		if _, err := root.New(sources[name]).Parse(string(contents[name])); err != nil {
			return nil, fmt.Errorf("parse template: %w", err)
		}
	}
	return &Engine{root: root, source: sources}, nil
}

// Render executes the template with the given logical name (its path in the
// embedded tree, such as "prometheus/prometheus.yml.tmpl").
func (e *Engine) Render(name string, data any) ([]byte, error) {
	src, ok := e.source[name]
	if !ok || path.Base(name)[0] == '_' {
		return nil, fmt.Errorf("render: no template %q", name)
	}
	var buf bytes.Buffer
	if err := e.root.ExecuteTemplate(&buf, src, data); err != nil {
		// text/template says "template: FILE:LINE:COL: executing "NAME" at
		// <...>: ..."; keep the position and the cause.
		msg := strings.TrimPrefix(err.Error(), "template: ")
		msg = strings.Replace(msg, fmt.Sprintf("executing %q ", src), "", 1)
		return nil, fmt.Errorf("render %s", msg)
	}
	return buf.Bytes(), nil
}

// Names lists the logical template names, for `obsgen templates dump`.
func (e *Engine) Names() []string {
	return slices.Sorted(maps.Keys(e.source))
}
