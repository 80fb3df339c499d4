package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) validateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "validate PROFILE...",
		Short: "Check profiles and generate them in memory; report every problem, write nothing",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			results, err := a.runAll(args)
			if err != nil {
				return err
			}
			for i, res := range results {
				fmt.Fprintf(a.stdout, "%s: ok: scrape strategy %s, %d scrape jobs, %d files\n",
					args[i], res.Plan.Scrape.Strategy, len(res.Plan.Jobs), len(res.Files))
			}
			return nil
		},
	}
}
