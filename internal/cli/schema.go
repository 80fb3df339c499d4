package cli

import (
	"github.com/spf13/cobra"

	"obsgen.dev/obsgen/internal/schema"
)

func (a *app) schemaCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the profile's JSON Schema (for editor completion and checks)",
		Long: `Print the JSON Schema of obsgen.dev/v1alpha1 profiles. With the YAML language
server, add this first line to a profile:
  # yaml-language-server: $schema=profile.schema.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := a.stdout.Write(schema.JSON)
			return err
		},
	}
}
