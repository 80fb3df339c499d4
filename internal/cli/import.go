package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"obsgen.dev/obsgen/internal/clusterstate"
	"obsgen.dev/obsgen/internal/importer"
	"obsgen.dev/obsgen/internal/profile"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/templates"
)

const flagTeamLabel = "team-label"

func (a *app) importCommand() *cobra.Command {
	var opts importer.Options
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Draft a commented profile from a cluster's state",
		Long: `obsgen import drafts a profile from what a cluster runs: teams from a namespace
label (--team-label), services from the Services and pods that expose metrics
(a port named for metrics, or prometheus.io/* annotations), the mesh from
istiod's pod, the namespaces' ambient labels and the mesh-wide
PeerAuthentication, and the network stance from the policies present. What it
cannot decide is marked REVIEW in a comment; the draft always validates.

The state comes from files (--cluster-state, as obsgen doctor reads them) or,
without it, from the cluster of --kubeconfig/--context.`,
		Example: `  ` + clusterstate.KubectlCommand + `
  obsgen import --cluster-state cluster.yaml --team-label owner --name prod-eu-1 > profiles/prod-eu-1.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			states, _ := f.GetStringArray(flagClusterState)
			kubeconfig, _ := f.GetString(flagKubeconfig)
			kubeContext, _ := f.GetString(flagContext)
			if len(states) > 0 && (kubeconfig != "" || kubeContext != "") {
				return usageError{fmt.Errorf("--%s reads files; --%s and --%s read a live cluster: use one or the other", flagClusterState, flagKubeconfig, flagContext)}
			}
			var st *clusterstate.State
			var err error
			if len(states) > 0 {
				st, err = clusterstate.Load(states)
			} else {
				st, err = liveState(cmd.Context(), kubeconfig, kubeContext)
			}
			if err != nil {
				return usageError{err}
			}
			if st.Empty() {
				return usageError{clusterstate.ErrEmpty}
			}
			return a.writeImport(importer.Make(st, opts))
		},
	}
	f := cmd.Flags()
	f.StringArray(flagClusterState, nil, "`FILE|DIR` of cluster objects (kubectl get ... -o yaml|json); repeatable")
	f.String(flagKubeconfig, "", "`PATH` of the kubeconfig for live mode (default $KUBECONFIG or ~/.kube/config)")
	f.String(flagContext, "", "kubeconfig `NAME` of the context for live mode")
	f.StringVar(&opts.TeamLabel, flagTeamLabel, "team", "namespace label whose value names the owning team")
	f.StringVar(&opts.Name, "name", "imported", "metadata.name of the draft")
	return cmd
}

func (a *app) writeImport(d *importer.Draft) error {
	engine, err := render.New(templates.FS, a.path(flagTmpl))
	if err != nil {
		return err
	}
	out, err := engine.Render("import/profile.yaml.tmpl", d)
	if err != nil {
		return err
	}
	if _, err := profile.Load("(obsgen import)", out); err != nil {
		return fmt.Errorf("the drafted profile does not validate; please report it:\n%w\n--- draft ---\n%s", err, out)
	}
	_, err = a.stdout.Write(out)
	return err
}
