package render_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"text/template"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/templates"
)

// embedded is a small template tree standing in for templates.FS.
func embedded() fstest.MapFS {
	return fstest.MapFS{
		"_helpers.tmpl": {Data: []byte(`{{- define "greet" }}hello {{ .Name }}{{ end -}}` + "\n")},
		"app/config.yaml.tmpl": {Data: []byte("name: {{ yq .Name }}\n" +
			"greeting: {{ template \"greet\" . }}\n" +
			"labels:\n" +
			"{{- range $k := keys .Labels }}\n" +
			"  {{ $k }}: {{ yq (index $.Labels $k) }}\n" +
			"{{- end }}\n")},
		"top.tmpl":    {Data: []byte("top {{ .Name }}\n{{ .Missing }}\n")},
		"README.md":   {Data: []byte("not a template {{")},
		"app/notes":   {Data: []byte("not a template either {{")},
		"empty/.keep": {Data: nil},
	}
}

func data() map[string]any {
	return map[string]any{
		"Name":    "web",
		"Missing": "present",
		"Labels":  map[string]any{"tier": "front", "app": "shop", "zone": "a:b"},
	}
}

const wantConfig = `name: "web"
greeting: hello web
labels:
  app: "shop"
  tier: "front"
  zone: "a:b"
`

// writeOverrides creates an override folder holding the given files.
func writeOverrides(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

// execute runs a one-off template with obsgen's function map.
func execute(t *testing.T, text string, data any) (string, error) {
	t.Helper()
	tmpl, err := template.New("t").Option("missingkey=error").Funcs(render.FuncMap()).Parse(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	err = tmpl.Execute(&b, data)
	return b.String(), err
}

func mustExecute(t *testing.T, text string, data any) string {
	t.Helper()
	out, err := execute(t, text, data)
	require.NoError(t, err)
	return out
}

func TestEmbeddedTemplatesParse(t *testing.T) {
	e, err := render.New(templates.FS, "")
	require.NoError(t, err)
	names := e.Names()
	assert.Contains(t, names, "prometheus/prometheus.yml.tmpl")
	assert.Contains(t, names, "prometheus/_helpers.tmpl")
	assert.Contains(t, names, "kustomization.yaml.tmpl")
	for _, n := range names {
		assert.True(t, strings.HasSuffix(n, render.Suffix), "%s is not a template", n)
	}
}

func TestRenderByLogicalName(t *testing.T) {
	e, err := render.New(embedded(), "")
	require.NoError(t, err)

	assert.Equal(t, []string{"_helpers.tmpl", "app/config.yaml.tmpl", "top.tmpl"}, e.Names(),
		"only *.tmpl files are templates")

	got, err := e.Render("app/config.yaml.tmpl", data())
	require.NoError(t, err)
	assert.Equal(t, wantConfig, string(got))

	got, err = e.Render("top.tmpl", data())
	require.NoError(t, err)
	assert.Equal(t, "top web\npresent\n", string(got))
}

func TestRenderRejectsUnknownNamesAndHelpers(t *testing.T) {
	e, err := render.New(embedded(), "")
	require.NoError(t, err)
	tests := map[string]struct {
		name string
	}{
		"an unknown template":                     {name: "nope.tmpl"},
		"a helper file":                           {name: "_helpers.tmpl"},
		"a template named by its source file":     {name: "templates/top.tmpl"},
		"a template defined inside a helper":      {name: "greet"},
		"a file of the tree that is not template": {name: "README.md"},
		"a folder":       {name: "app"},
		"the empty name": {name: ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := e.Render(tc.name, data())
			require.Error(t, err)
			assert.Contains(t, err.Error(), `no template "`+tc.name+`"`)
			assert.Nil(t, got)
		})
	}
}

func TestOverrideReplacesATemplate(t *testing.T) {
	dir := writeOverrides(t, map[string]string{
		"app/config.yaml.tmpl": "overridden {{ .Name }}: {{ template \"greet\" . }}\n",
		"README.md":            "ignored {{",
	})

	e, err := render.New(embedded(), dir)
	require.NoError(t, err)

	got, err := e.Render("app/config.yaml.tmpl", data())
	require.NoError(t, err)
	assert.Equal(t, "overridden web: hello web\n", string(got))
	got, err = e.Render("top.tmpl", data())
	require.NoError(t, err)
	assert.Equal(t, "top web\npresent\n", string(got), "templates without an override are the built-in ones")
	assert.Equal(t, []string{"_helpers.tmpl", "app/config.yaml.tmpl", "top.tmpl"}, e.Names())
	assert.False(t, e.Embedded(), "an override replaced a template")
	assert.False(t, e.WithLimits(render.Limits{}).Embedded(), "with other limits too")

	plain, err := render.New(embedded(), "")
	require.NoError(t, err)
	assert.True(t, plain.Embedded(), "no override folder")
	none, err := render.New(embedded(), writeOverrides(t, map[string]string{"README.md": "no template"}))
	require.NoError(t, err)
	assert.True(t, none.Embedded(), "an override folder without a template")
}

func TestOverrideOfAHelperAppliesToEveryTemplate(t *testing.T) {
	dir := writeOverrides(t, map[string]string{
		"_helpers.tmpl": `{{- define "greet" }}bonjour {{ .Name }}{{ end -}}`,
	})

	e, err := render.New(embedded(), dir)
	require.NoError(t, err)

	got, err := e.Render("app/config.yaml.tmpl", data())
	require.NoError(t, err)
	assert.Equal(t, strings.Replace(wantConfig, "hello web", "bonjour web", 1), string(got))
	assert.False(t, e.Embedded(), "a helper's override")
}

func TestNewRejectsBadOverrides(t *testing.T) {
	tests := map[string]struct {
		files map[string]string
		// want lists substrings of the error; "{dir}" is the override folder.
		want []string
	}{
		"an override without a built-in twin names the file": {
			files: map[string]string{"app/confg.yaml.tmpl": "x"},
			want: []string{
				"template override {dir}/app/confg.yaml.tmpl has no built-in template",
				"_helpers.tmpl, app/config.yaml.tmpl, top.tmpl",
			},
		},
		"a parse error names the override file and line": {
			files: map[string]string{"app/config.yaml.tmpl": "line one\nline two {{ end }}\n"},
			want:  []string{"parse template", "{dir}/app/config.yaml.tmpl:2:"},
		},
		"an unknown function names the override file and line": {
			files: map[string]string{"top.tmpl": "a\nb\n{{ now }}\n"},
			want:  []string{"{dir}/top.tmpl:3:", `function "now" not defined`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := writeOverrides(t, tc.files)

			e, err := render.New(embedded(), dir)

			require.Error(t, err)
			assert.Nil(t, e)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), strings.ReplaceAll(w, "{dir}", dir))
			}
		})
	}
}

func TestNewRejectsAMissingOverrideFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")

	_, err := render.New(embedded(), dir)

	require.Error(t, err)
	assert.Contains(t, err.Error(), dir)
}

func TestParseErrorInABuiltInTemplateNamesItsPath(t *testing.T) {
	fsys := embedded()
	fsys["app/config.yaml.tmpl"] = &fstest.MapFile{Data: []byte("ok\n{{ if }}\n")}

	_, err := render.New(fsys, "")

	require.Error(t, err)
	assert.Contains(t, err.Error(), "templates/app/config.yaml.tmpl:2:")
}

func TestExecutionErrorNamesTheTemplateFile(t *testing.T) {
	missing := map[string]any{"Name": "web", "Labels": map[string]any{}}
	tests := map[string]struct {
		overrides map[string]string
		template  string
		want      []string // "{dir}" is the override folder
	}{
		"a missing key in a built-in template": {
			template: "top.tmpl",
			want:     []string{"templates/top.tmpl:2:", `map has no entry for key "Missing"`},
		},
		"a missing key in an override": {
			overrides: map[string]string{"top.tmpl": "one\ntwo\n{{ .Missing }}\n"},
			template:  "top.tmpl",
			want:      []string{"{dir}/top.tmpl:3:", `map has no entry for key "Missing"`},
		},
		"a missing key in a helper names the helper": {
			overrides: map[string]string{"_helpers.tmpl": "{{ define \"greet\" }}\n{{ .Missing }}{{ end }}"},
			template:  "app/config.yaml.tmpl",
			want:      []string{"{dir}/_helpers.tmpl:2:", `map has no entry for key "Missing"`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := ""
			if tc.overrides != nil {
				dir = writeOverrides(t, tc.overrides)
			}
			e, err := render.New(embedded(), dir)
			require.NoError(t, err)

			got, err := e.Render(tc.template, missing)

			require.Error(t, err)
			assert.Nil(t, got)
			assert.True(t, strings.HasPrefix(err.Error(), "render "), "error: %v", err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), strings.ReplaceAll(w, "{dir}", dir))
			}
		})
	}
}

func TestFuncMapDropsNonRepeatableFunctions(t *testing.T) {
	f := render.FuncMap()
	for _, name := range []string{
		"now", "date", "randAlpha", "randAlphaNum", "randNumeric", "randBytes", "uuidv4",
		"env", "expandenv", "getHostByName", "genPrivateKey", "genCA", "genSelfSignedCert",
		"bcrypt", "htpasswd", "derivePassword", "encryptAES", "ago", "duration", "toDate",
		"unixEpoch", "randInt", "shuffle",
	} {
		assert.NotContains(t, f, name)
	}
	for _, name := range []string{
		"keys", "values", "yq", "yqs", "metaLabel", "regexAlt", "regexJoin", "regexEscape",
		"indentLines", "dict", "join", "sha256sum",
	} {
		assert.Contains(t, f, name)
	}
}

func TestKeysAndValuesAreSorted(t *testing.T) {
	tests := map[string]struct {
		text string
		want string
	}{
		"keys of one map are sorted": {
			text: `{{ keys .a | join "," }}`,
			want: "a,b,c,d",
		},
		"keys of several maps are merged, sorted and unique": {
			text: `{{ keys .a .b | join "," }}`,
			want: "a,b,c,d,e,z",
		},
		"values come in key order": {
			text: `{{ values .a | join "," }}`,
			want: "1,2,3,4",
		},
		"keys of no map are empty": {
			text: `[{{ keys | join "," }}]`,
			want: "[]",
		},
	}
	in := map[string]any{
		"a": map[string]any{"c": 3, "a": 1, "d": 4, "b": 2},
		"b": map[string]any{"z": 0, "a": 0, "e": 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			for range 20 { // map order would show up across runs
				assert.Equal(t, tc.want, mustExecute(t, tc.text, in))
			}
		})
	}
}

func TestYQQuotesAnyStringAsYAML(t *testing.T) {
	tests := map[string]struct {
		in string
	}{
		"a plain word":                {in: "web"},
		"the empty string":            {in: ""},
		"newlines":                    {in: "line one\nline two\n"},
		"double quotes":               {in: `say "hi"`},
		"single quotes":               {in: `it's`},
		"angle brackets and amp":      {in: "<b>&</b>"},
		"a backslash":                 {in: `C:\path\n`},
		"a tab and carriage return":   {in: "a\tb\r\n"},
		"a colon and a hash":          {in: "key: value # not a comment"},
		"a leading dash":              {in: "- item"},
		"a YAML boolean":              {in: "yes"},
		"a YAML null":                 {in: "null"},
		"a number":                    {in: "0123"},
		"flow indicators":             {in: "{a: [b, c]}"},
		"an anchor and alias":         {in: "&a *b !tag"},
		"a template-like string":      {in: "{{ $labels.job }}"},
		"non-ASCII text":              {in: "héllo ✓ 世界"},
		"a NUL and other controls":    {in: "a\x00b\x1bc"},
		"leading and trailing spaces": {in: "  padded  "},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			q := mustExecute(t, `{{ yq .s }}`, map[string]any{"s": tc.in})

			assert.True(t, strings.HasPrefix(q, `"`) && strings.HasSuffix(q, `"`), "not double-quoted: %s", q)
			assert.NotContains(t, q, "\n", "a quoted scalar stays on one line")
			for _, doc := range []string{"v: " + q + "\n", "list: [" + q + ", x]\n", "- " + q + "\n"} {
				var v any
				require.NoError(t, yaml.Unmarshal([]byte(doc), &v), "document: %s", doc)
				switch v := v.(type) {
				case map[string]any:
					if l, ok := v["list"]; ok {
						assert.Equal(t, []any{tc.in, "x"}, l)
					} else {
						assert.Equal(t, tc.in, v["v"])
					}
				case []any:
					assert.Equal(t, []any{tc.in}, v)
				default:
					t.Fatalf("unexpected %T from %s", v, doc)
				}
			}
		})
	}
}

func TestYQKeepsHTMLCharactersLiteral(t *testing.T) {
	assert.Equal(t, `"<a href=\"x\">&</a>"`, mustExecute(t, `{{ yq .s }}`, map[string]any{"s": `<a href="x">&</a>`}))
}

func TestYQQuotesNonStrings(t *testing.T) {
	tests := map[string]struct {
		in   any
		want string
	}{
		"an integer": {in: 42, want: `"42"`},
		"a boolean":  {in: true, want: `"true"`},
		"a float":    {in: 1.5, want: `"1.5"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, mustExecute(t, `{{ yq .v }}`, map[string]any{"v": tc.in}))
		})
	}
}

func TestMetaLabel(t *testing.T) {
	tests := map[string]struct {
		in, want string
	}{
		"a recommended label key":    {in: "app.kubernetes.io/name", want: "app_kubernetes_io_name"},
		"a plain key is kept":        {in: "version", want: "version"},
		"a dash becomes underscore":  {in: "my-label", want: "my_label"},
		"a domain prefix is mangled": {in: "helm.sh/chart", want: "helm_sh_chart"},
		"an underscore is kept":      {in: "a_b", want: "a_b"},
		"a non-ASCII rune is one _":  {in: "é", want: "_"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, mustExecute(t, `{{ metaLabel .k }}`, map[string]any{"k": tc.in}))
		})
	}
}

func TestRegexAltMatchesExactlyTheLiterals(t *testing.T) {
	tests := map[string]struct {
		values   []string
		want     string
		match    []string
		notMatch []string
	}{
		"dots are escaped": {
			values:   []string{"a.b", "c"},
			want:     `a\.b|c`,
			match:    []string{"a.b", "c"},
			notMatch: []string{"axb", "a.bc", "ac"},
		},
		"other metacharacters are escaped": {
			values:   []string{"x+(y)*", "[z]|w"},
			want:     `x\+\(y\)\*|\[z\]\|w`,
			match:    []string{"x+(y)*", "[z]|w"},
			notMatch: []string{"xxy", "z", "w"},
		},
		"a single value": {
			values:   []string{"payments"},
			want:     "payments",
			match:    []string{"payments"},
			notMatch: []string{"payment"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := mustExecute(t, `{{ regexAlt .v }}`, map[string]any{"v": tc.values})
			assert.Equal(t, tc.want, got)
			// Prometheus anchors relabeling regexes.
			re := regexp.MustCompile("^(?:" + got + ")$")
			for _, m := range tc.match {
				assert.True(t, re.MatchString(m), "%q should match %s", m, got)
			}
			for _, m := range tc.notMatch {
				assert.False(t, re.MatchString(m), "%q should not match %s", m, got)
			}
		})
	}
}

func TestRegexJoinAndEscape(t *testing.T) {
	in := map[string]any{"v": []string{"ns.a", "pod-1"}}
	assert.Equal(t, `ns\.a;pod-1`, mustExecute(t, `{{ regexJoin ";" .v }}`, in))
	assert.Equal(t, `a\.b\*`, mustExecute(t, `{{ regexEscape "a.b*" }}`, nil))
}

func TestIndentLines(t *testing.T) {
	tests := map[string]struct {
		n        int
		in, want string
	}{
		"every line is indented":           {n: 2, in: "a\nb", want: "  a\n  b"},
		"trailing newlines are dropped":    {n: 2, in: "a\nb\n\n", want: "  a\n  b"},
		"blank lines stay empty":           {n: 4, in: "a\n\nb", want: "    a\n\n    b"},
		"existing indentation is kept":     {n: 2, in: "a:\n  b: 1", want: "  a:\n    b: 1"},
		"the empty string stays empty":     {n: 2, in: "", want: ""},
		"zero indentation changes nothing": {n: 0, in: "a\n b", want: "a\n b"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := mustExecute(t, `{{ indentLines .n .s }}`, map[string]any{"n": tc.n, "s": tc.in})
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestRenderIsRepeatable(t *testing.T) {
	fsys := embedded()
	fsys["many.tmpl"] = &fstest.MapFile{Data: []byte(
		"{{ range $k, $v := .M }}{{ $k }}={{ $v }}\n{{ end }}" +
			"{{ keys .M | join \",\" }}\n" +
			"{{ values .M | join \",\" }}\n" +
			"{{ .M | toJson }}\n" +
			"{{ sha256sum .Name }}\n")}
	m := map[string]any{}
	for _, k := range strings.Fields("q w e r t y u i o p a s d f g h j k l z x c v b n m") {
		m[k] = strings.ToUpper(k)
	}
	in := map[string]any{"Name": "web", "M": m, "Labels": m, "Missing": "x"}

	e1, err := render.New(fsys, "")
	require.NoError(t, err)
	e2, err := render.New(fsys, "")
	require.NoError(t, err)

	for _, name := range []string{"many.tmpl", "app/config.yaml.tmpl"} {
		first, err := e1.Render(name, in)
		require.NoError(t, err)
		again, err := e1.Render(name, in)
		require.NoError(t, err)
		other, err := e2.Render(name, in)
		require.NoError(t, err)
		assert.Equal(t, first, again, "%s: same engine, same bytes", name)
		assert.Equal(t, first, other, "%s: new engine, same bytes", name)
	}
	got, err := e1.Render("many.tmpl", in)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(got), "a=A\nb=B\nc=C\n"), "range over a map is sorted:\n%s", got)
}

// yq promises a scalar "safe in any YAML context", but JSON leaves DEL and
// the C1 controls unescaped, which YAML forbids (or, for NEL, folds).
func TestYQEscapesControlsJSONLeavesLiteral(t *testing.T) {
	tests := map[string]struct {
		in string
	}{
		"DEL":             {in: "a\x7fb"},
		"a C1 control":    {in: "a\u0080b"},
		"NEL":             {in: "a\u0085b"},
		"the last C1 one": {in: "a\u009fb"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			q := mustExecute(t, `{{ yq .s }}`, map[string]any{"s": tc.in})
			var v map[string]any
			require.NoError(t, yaml.Unmarshal([]byte("v: "+q+"\n"), &v))
			assert.Equal(t, tc.in, v["v"])
		})
	}
}
