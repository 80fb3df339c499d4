package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/profile"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/templates"
)

// initData is what the starter-profile template sees.
type initData struct {
	Name, File, Mesh, DataPlane, MTLS, Stance, Engine string
}

func (a *app) initCommand() *cobra.Command {
	d := initData{}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Print a commented starter profile",
		Example: `  obsgen init --mtls STRICT --network default-deny > profiles/new.yaml
  obsgen init --name edge --data-plane ambient --mtls STRICT > profiles/edge.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.init(d)
		},
	}
	f := cmd.Flags()
	f.StringVar(&d.Name, "name", "my-cluster", "metadata.name: the output folder")
	f.StringVar(&d.Mesh, "mesh", "istio", enumUsage("mesh provider", v1alpha1.MeshProvider("")))
	f.StringVar(&d.DataPlane, "data-plane", "sidecar", enumUsage("Istio data plane", v1alpha1.DataPlane("")))
	f.StringVar(&d.MTLS, "mtls", "PERMISSIVE", enumUsage("mesh-wide mTLS mode", v1alpha1.MTLSMode("")))
	f.StringVar(&d.Stance, "network", "open", enumUsage("network-policy stance", v1alpha1.NetworkStance("")))
	f.StringVar(&d.Engine, "engine", "", enumUsage("network-policy engine (default: calico for global-deny, else kubernetes)", v1alpha1.NetworkEngine("")))
	for flag, e := range map[string]v1alpha1.Enum{"mesh": v1alpha1.MeshProvider(""), "data-plane": v1alpha1.DataPlane(""),
		"mtls": v1alpha1.MTLSMode(""), "network": v1alpha1.NetworkStance(""), "engine": v1alpha1.NetworkEngine("")} {
		// Shell completion offers the enum's values.
		_ = cmd.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(e.Values(), cobra.ShellCompDirectiveNoFileComp))
	}
	return cmd
}

func enumUsage(what string, e v1alpha1.Enum) string {
	return fmt.Sprintf("%s: %s", what, strings.Join(e.Values(), ", "))
}

func (a *app) init(d initData) error {
	if d.Engine == "" {
		d.Engine = string(v1alpha1.EngineKubernetes)
		if d.Stance == string(v1alpha1.StanceGlobalDeny) {
			d.Engine = string(v1alpha1.EngineCalico)
		}
	}
	d.MTLS = strings.ToUpper(d.MTLS)
	for _, f := range []struct {
		flag, value string
		enum        v1alpha1.Enum
	}{
		{"--mesh", d.Mesh, v1alpha1.MeshProvider("")}, {"--data-plane", d.DataPlane, v1alpha1.DataPlane("")},
		{"--mtls", d.MTLS, v1alpha1.MTLSMode("")}, {"--network", d.Stance, v1alpha1.NetworkStance("")},
		{"--engine", d.Engine, v1alpha1.NetworkEngine("")},
	} {
		if !slices.Contains(f.enum.Values(), f.value) {
			return usageError{fmt.Errorf("%s %q: must be one of %s", f.flag, f.value, strings.Join(f.enum.Values(), ", "))}
		}
	}
	d.File = "profiles/" + d.Name + ".yaml"
	engine, err := render.New(templates.FS, a.path(flagTmpl))
	if err != nil {
		return err
	}
	out, err := engine.Render("init/profile.yaml.tmpl", d)
	if err != nil {
		return err
	}
	// The starter must be a valid profile as printed.
	if _, err := profile.Load("(obsgen init)", out); err != nil {
		return usageError{fmt.Errorf("these flags make no valid profile:\n%w", err)}
	}
	_, err = a.stdout.Write(out)
	return err
}
