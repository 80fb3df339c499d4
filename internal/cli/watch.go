package cli

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watchDebounce gathers the burst of events one save makes (editors write
// a temporary file, rename it, touch the folder) into one regeneration.
const watchDebounce = 250 * time.Millisecond

// maxWatchedFolders bounds the folders watch follows below a profile.
const maxWatchedFolders = 1000

// watch generates, then regenerates whenever a profile, a team file, a
// template override or the settings file changes, until ctx ends (Ctrl-C).
// A problem is printed and watching goes on; the next save retries.
func (a *app) watch(ctx context.Context, args []string, prune bool) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	defer w.Close()
	regenerate := func() {
		if err := a.generate(args, false, prune); err != nil {
			a.exitCode(err) // prints the problem as a run would
		}
		a.follow(w, args)
		fmt.Fprintf(a.stderr, "%swatching for changes (Ctrl-C stops)\n", a.errorPrefix())
	}
	regenerate()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	changed := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if a.relevant(ev.Name) {
				changed[ev.Name] = true
				timer.Reset(watchDebounce)
			}
		case err, ok := <-w.Errors:
			if ok {
				fmt.Fprintf(a.stderr, "%swatch: %v\n", a.errorPrefix(), err)
			}
		case <-timer.C:
			names := make([]string, 0, len(changed))
			for n := range changed {
				names = append(names, relToWD(n))
			}
			slices.Sort(names)
			clear(changed)
			fmt.Fprintf(a.stdout, "changed: %s\n", strings.Join(names, ", "))
			regenerate()
		}
	}
}

// follow watches the folders whose files feed generation: each profile's
// folder and the folders below it (team files), the template overrides,
// and the settings file's folder; never the output root, whose writes
// would otherwise trigger themselves. Folders that appear are picked up
// after the next regeneration.
func (a *app) follow(w *fsnotify.Watcher, args []string) {
	out, _ := filepath.Abs(a.path(flagOut))
	var roots []string
	profiles, err := a.profileArgs(args, true)
	if err == nil {
		for _, p := range profiles {
			roots = append(roots, filepath.Dir(p))
		}
	}
	if t := a.path(flagTmpl); t != "" {
		roots = append(roots, t)
	}
	watched := map[string]bool{}
	for _, d := range w.WatchList() {
		watched[d] = true
	}
	add := func(dir string) {
		abs, err := filepath.Abs(dir)
		if err != nil || watched[abs] || len(watched) >= maxWatchedFolders {
			return
		}
		if err := w.Add(abs); err == nil {
			watched[abs] = true
		}
	}
	if a.configDir != "" {
		add(a.configDir)
	}
	for _, root := range roots {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return nil
			}
			abs, _ := filepath.Abs(p)
			if abs == out || (strings.HasPrefix(d.Name(), ".") && p != root) {
				return filepath.SkipDir
			}
			add(p)
			return nil
		})
	}
}

// relevant tells whether a change to name can change the output: YAML
// (profiles, team files, the settings file) and templates, outside the
// output root and obsgen's own temporary files.
func (a *app) relevant(name string) bool {
	out, _ := filepath.Abs(a.path(flagOut))
	if abs, err := filepath.Abs(name); err == nil && (abs == out || strings.HasPrefix(abs, out+string(os.PathSeparator))) {
		return false
	}
	base := filepath.Base(name)
	if strings.HasPrefix(base, ".obsgen-") {
		return false
	}
	switch filepath.Ext(base) {
	case ".yaml", ".yml", ".tmpl":
		return true
	}
	return false
}
