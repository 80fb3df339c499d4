package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"obsgen.dev/obsgen/templates"
)

func (a *app) templatesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "templates",
		Short: "Work with the built-in templates",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "dump DIR",
		Short: "Write the built-in templates to DIR, to edit and pass with --templates DIR",
		Long: `Write the built-in templates to DIR. Keep only the files you change: with
--templates DIR, each file replaces the built-in template of the same path,
and a file with no built-in twin is an error.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.dumpTemplates(args[0])
		},
	})
	return cmd
}

func (a *app) dumpTemplates(dir string) error {
	return fs.WalkDir(templates.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".tmpl" {
			return err
		}
		target := filepath.Join(dir, filepath.FromSlash(p))
		if _, err := os.Stat(target); err == nil {
			return fmt.Errorf("%s exists; dump into an empty directory", target)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		data, err := fs.ReadFile(templates.FS, p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(target, data, 0o644); err != nil {
			return err
		}
		fmt.Fprintln(a.stdout, target)
		return nil
	})
}
