package render_test

import (
	"path/filepath"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/render"
)

// Each case is a template override a team might write by mistake, or on
// purpose; each must fail with the template's name (and, where
// text/template knows it, the line and column) instead of crashing obsgen,
// exhausting memory or making output differ between runs.
func TestTemplatesRunWithinLimits(t *testing.T) {
	type pointed struct{ P *int }
	one := 1
	tests := map[string]struct {
		template string
		data     any
		limits   *render.Limits
		want     []string
	}{
		"an include that includes itself": {
			template: `{{ define "loop" }}{{ include "loop" . }}{{ end }}x{{ include "loop" . }}`,
			want:     []string{"templates/t.tmpl:1:", "include is nested too deeply", "(limit 64)"},
		},
		"two includes that include each other": {
			template: `{{ define "a" }}{{ include "b" . }}{{ end }}{{ define "b" }}{{ include "a" . }}{{ end }}{{ include "a" . }}`,
			want:     []string{"templates/t.tmpl:1:", "include is nested too deeply"},
		},
		"repeat with a huge count": {
			template: `{{ repeat 1000000000000 "ab" }}`,
			want:     []string{"templates/t.tmpl:1:3:", "output is too large"},
		},
		"repeat that overflows when multiplied": {
			template: `{{ repeat 4611686018427387904 "abcd" }}`,
			want:     []string{"templates/t.tmpl:1:3:", "output is too large"},
		},
		"indent by a huge width": {
			template: `{{ indent 1000000000000 "a\nb" }}`,
			want:     []string{"templates/t.tmpl:1:3:", "output is too large"},
		},
		"nindent by a huge width": {
			template: `{{ nindent 1000000000000 "a" }}`,
			want:     []string{"templates/t.tmpl:1:3:", "output is too large"},
		},
		"indentLines by a huge width": {
			template: `{{ indentLines 1000000000000 "a" }}`,
			want:     []string{"templates/t.tmpl:1:3:", "output is too large"},
		},
		"a huge until list": {
			template: `{{ range until 1000000000000 }}{{ end }}`,
			want:     []string{"templates/t.tmpl:1:9:", "output is too large"},
		},
		"a huge untilStep list": {
			template: `{{ range untilStep 0 1000000000000 1 }}{{ end }}`,
			want:     []string{"templates/t.tmpl:1:9:", "output is too large"},
		},
		"output over the size limit, written piece by piece": {
			template: `{{ range until 100 }}0123456789{{ end }}`,
			limits:   &render.Limits{IncludeDepth: 8, OutputBytes: 500, Time: time.Hour},
			want:     []string{"render templates/t.tmpl: output is too large (over 500 bytes)"},
		},
		"included output over the size limit": {
			template: `{{ define "big" }}{{ range until 100 }}0123456789{{ end }}{{ end }}{{ include "big" . | len }}`,
			limits:   &render.Limits{IncludeDepth: 8, OutputBytes: 500, Time: time.Hour},
			want:     []string{"templates/t.tmpl:1:", "output is too large"},
		},
		"a spent time budget": {
			template: `{{ range until 10 }}x{{ end }}`,
			limits:   &render.Limits{IncludeDepth: 8, OutputBytes: 500, Time: -time.Second},
			want:     []string{"render templates/t.tmpl:1:9: at <until 10>", "rendering took too long"},
		},
		"nested loops that print nothing": {
			template: `{{ range until 400 }}{{ range until 400 }}{{ end }}{{ end }}`,
			limits:   &render.Limits{IncludeDepth: 8, OutputBytes: 500, Time: time.Minute},
			want:     []string{"templates/t.tmpl:1:", "lists of", "output is too large"},
		},
		"a string doubled in a variable": {
			template: `{{ $s := "x" }}{{ range until 20 }}{{ $s = cat $s $s }}{{ end }}`,
			limits:   &render.Limits{IncludeDepth: 8, OutputBytes: 500, Time: time.Minute},
			want:     []string{"templates/t.tmpl:1:", "error calling cat", "output is too large"},
		},
		"replace that multiplies its input": {
			template: `{{ $s := replace "" "yyyyyyyyyy" (repeat 100 "x") }}`,
			limits:   &render.Limits{IncludeDepth: 8, OutputBytes: 500, Time: time.Minute},
			want:     []string{"templates/t.tmpl:1:", "error calling replace", "output is too large"},
		},
		"printf with the %p verb": {
			template: `{{ printf "%p" . }}`,
			data:     &one,
			want:     []string{"templates/t.tmpl:1:3:", "the %p verb prints a memory address"},
		},
		"printf of a structure holding a pointer": {
			template: `{{ printf "%v" . }}`,
			data:     pointed{P: &one},
			want:     []string{"templates/t.tmpl:1:3:", "would print a memory address"},
		},
		"print of a structure holding a pointer": {
			template: `{{ print . }}`,
			data:     pointed{P: &one},
			want:     []string{"templates/t.tmpl:1:3:", "would print a memory address"},
		},
		"the %p verb with a width":                {template: `{{ printf "%5p" . }}`, data: &one, want: []string{"memory address"}},
		"the %p verb with an argument index":      {template: `{{ printf "%[1]p" . }}`, data: &one, want: []string{"memory address"}},
		"a pointer to an int printed with %d":     {template: `{{ printf "%d" . }}`, data: &one, want: []string{"memory address"}},
		"a pointer to an int printed with %v":     {template: `{{ printf "%v" . }}`, data: &one, want: []string{"memory address"}},
		"a pointer to an int printed by print":    {template: `{{ print . }}`, data: &one, want: []string{"memory address"}},
		"a pointer to an int printed by toString": {template: `{{ toString . }}`, data: &one, want: []string{"memory address"}},
		"a pointer to an int printed by cat":      {template: `{{ cat "x" . }}`, data: &one, want: []string{"memory address"}},
		"a structure holding a pointer printed directly": {
			template: `{{ . }}`,
			data:     pointed{P: &one},
			want:     []string{"render templates/t.tmpl: output holds what looks like a memory address"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			e, err := render.New(fstest.MapFS{"t.tmpl": {Data: []byte(tc.template)}}, "")
			require.NoError(t, err)
			if tc.limits != nil {
				e = e.WithLimits(*tc.limits)
			}

			out, err := e.Render("t.tmpl", tc.data)

			require.Error(t, err, "output: %.100q", out)
			assert.Nil(t, out)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Less(t, len(err.Error()), 600, "one position per limit, not one per include level: %s", err)
		})
	}
}

// The limits leave ordinary templates alone.
func TestTemplatesWithinTheLimitsRender(t *testing.T) {
	e, err := render.New(fstest.MapFS{"t.tmpl": {Data: []byte(
		`{{ define "n" }}[{{ . }}]{{ end }}{{ repeat 3 "ab" }} {{ include "n" 5 }} {{ printf "%d%%" 7 }}{{ indent 2 "a" }}` +
			`{{ range until 3 }}{{ . }}{{ end }}{{ range untilStep 6 0 -2 }}{{ . }}{{ end }}{{ nindent 1 "z" }}`)}}, "")
	require.NoError(t, err)

	out, err := e.Render("t.tmpl", nil)

	require.NoError(t, err)
	assert.Equal(t, "ababab [5] 7%  a012642\n z", string(out))
}

func TestATemplateOverrideThatIsANamedPipeIsRefused(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "t.tmpl"), 0o644))

	_, err := render.New(fstest.MapFS{"t.tmpl": {Data: []byte("x")}}, dir)

	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(dir, "t.tmpl")+" is not a regular file")
}
