package profile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/internal/diag"
)

// Team fragments: a `teams:` entry `- include: teams/*.yaml` (a file or a
// glob, relative to the profile's folder) stands for the teams of
// the files it matches, one team per file, in file-name order. Each team
// can then live in a file its owners edit (CODEOWNERS-friendly), and every
// diagnostic about it names that file and its line.

// MaxIncludes bounds the fragment files one profile may include.
const MaxIncludes = 10000

// IncludeKey is the key of a teams entry that includes team files.
const IncludeKey = "include"

// expandIncludes replaces each include entry of root's teams with the
// parsed teams of its files, and records in files the file each included
// team comes from (by its path, teams[i]). dir is the folder includes are
// relative to; "" refuses includes (a profile that is not a file).
func expandIncludes(file, dir string, root *yaml.Node, files map[string]string) diag.List {
	teams := mappingValue(root, "teams")
	if teams == nil || teams.Kind != yaml.SequenceNode {
		return nil
	}
	var out []*yaml.Node
	var diags diag.List
	total := 0
	for _, item := range teams.Content {
		patterns, ok := includePatterns(item)
		if !ok {
			out = append(out, item)
			continue
		}
		if len(patterns) == 0 {
			diags = append(diags, diag.Diagnostic{File: file, Pos: nodePos(item), Path: "teams", Message: "include: needs a file or glob as a string, such as teams/*.yaml"})
			continue
		}
		if dir == "" {
			diags = append(diags, diag.Diagnostic{File: file, Pos: nodePos(item), Path: "teams",
				Message: "include: reads team files next to the profile, and this profile is not a file", Hint: "give the profile's path on the command line"})
			continue
		}
		for _, p := range patterns {
			matches, err := filepath.Glob(filepath.Join(dir, filepath.FromSlash(p.Value)))
			if err == nil && len(matches) == 0 {
				err = fmt.Errorf("matches no file")
			}
			if err != nil {
				diags = append(diags, diag.Diagnostic{File: file, Pos: nodePos(p), Path: "teams",
					Message: fmt.Sprintf("include: %q %v", p.Value, err), Hint: "paths are relative to the profile's folder, such as teams/*.yaml"})
				continue
			}
			slices.Sort(matches)
			for _, m := range matches {
				total++
				if total > MaxIncludes {
					return append(diags, diag.Diagnostic{File: file, Pos: nodePos(p), Path: "teams",
						Message: fmt.Sprintf("include: more than %d team files", MaxIncludes)})
				}
				name := displayPath(dir, file, m)
				team, ds := readFragment(name, m)
				if ds != nil {
					diags = append(diags, ds...)
					continue
				}
				files[fmt.Sprintf("teams[%d]", len(out))] = name
				out = append(out, team)
			}
		}
	}
	teams.Content = out
	return diags
}

// includePatterns reads an include entry: a mapping whose only key is
// include, with a file or glob; none for an empty or non-string value.
func includePatterns(item *yaml.Node) ([]*yaml.Node, bool) {
	if item.Kind != yaml.MappingNode || len(item.Content) != 2 || item.Content[0].Value != IncludeKey {
		return nil, false
	}
	v := item.Content[1]
	if v.Kind != yaml.ScalarNode || v.Value == "" {
		return nil, true
	}
	return []*yaml.Node{v}, true
}

// readFragment reads one team file: one YAML mapping, the team.
func readFragment(name, path string) (*yaml.Node, diag.List) {
	f, err := os.Open(path)
	if err != nil {
		return nil, diag.List{{File: name, Pos: diag.Pos{Line: 1, Col: 1}, Message: fmt.Sprintf("read team file: %v", err)}}
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && !info.Mode().IsRegular() {
		return nil, diag.List{{File: name, Pos: diag.Pos{Line: 1, Col: 1}, Message: "a team file must be a regular file"}}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, diag.List{{File: name, Pos: diag.Pos{Line: 1, Col: 1}, Message: fmt.Sprintf("read team file: %v", err)}}
	}
	if len(data) > MaxSize {
		return nil, diag.List{{File: name, Pos: offsetPos(data, MaxSize), Message: fmt.Sprintf("team file is larger than %d bytes", MaxSize)}}
	}
	if d := textProblem(name, data); d != nil {
		return nil, diag.List{*d}
	}
	root, diags := parseDocument(name, data)
	if diags != nil {
		for i := range diags {
			diags[i].Message = strings.Replace(diags[i].Message, "profile", "team file", 1)
			diags[i].Hint = strings.NewReplacer("start from `obsgen init`", "start from `obsgen team add`",
				"put each profile in a file of its own", "put each team in a file of its own").Replace(diags[i].Hint)
		}
		return nil, diags
	}
	return root, nil
}

// displayPath names an included file as the user would: relative to the
// working directory when the profile was named that way.
func displayPath(dir, profileFile, path string) string {
	if filepath.IsAbs(profileFile) {
		return path
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, path); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	return path
}

// mappingValue returns the value of key in the mapping n, or nil.
func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// FileOf is the file that holds path: an included team's file for the
// paths of that team, else the profile's.
func (l *Loaded) FileOf(path string) string {
	for p := path; ; p = parent(p) {
		if f, ok := l.Files[p]; ok {
			return f
		}
		if p == "" {
			return l.File
		}
	}
}
