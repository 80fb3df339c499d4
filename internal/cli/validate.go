package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"obsgen.dev/obsgen/internal/output"
)

func (a *app) validateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "validate [PROFILE...]",
		Short: "Check profiles, generate them in memory and prove their network policies; write nothing",
		Long: `Validate loads each profile, reports every problem with its position, generates
all files in memory, and proves the network policies against a synthetic cluster:
every connection monitoring needs is allowed and the ones it must not open are
denied (reports/connectivity.md lists each check), with obsgen's own
evaluators. obsgen-verify adds Prometheus' and Alertmanager's own loaders
and np-guard's netpol-analyzer as a second evaluator.

Warnings are printed to stderr; with --strict they fail validation as errors do.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			args, err := a.profileArgs(args, false)
			if err != nil {
				return err
			}
			// Nothing is written: each generator's data goes as soon as it
			// is done, and only the sizes stay (the ConfigMap limits).
			results, err := a.runAllSettling(args, func(_ string, files []output.File) []output.File { return output.Forget(files) })
			if err != nil {
				return err
			}
			if err := a.warn(results); err != nil {
				return err
			}
			for i, res := range results {
				fmt.Fprintf(a.stdout, "%s: ok: scrape strategy %s, %d scrape jobs, %d files\n",
					args[i], res.Plan.Scrape.Strategy, len(res.Plan.Jobs), len(res.Files))
				proof := res.Proof.Result
				required, allowed, forbidden, denied := proof.Counts()
				if proof.Enforced {
					fmt.Fprintf(a.stdout, "%s: network: %d/%d required connections allowed, %d/%d forbidden connections denied (%s)\n",
						args[i], allowed, required, denied, forbidden, proof.Model)
				} else {
					fmt.Fprintf(a.stdout, "%s: network: stance open, no policies: %d required connections, nothing isolated\n", args[i], required)
				}
			}
			return nil
		},
	}
	strictFlag(cmd)
	return cmd
}
