package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/internal/clusterstate"
	"obsgen.dev/obsgen/internal/doctor"
	"obsgen.dev/obsgen/internal/plan"
)

const (
	flagClusterState = "cluster-state"
	flagTargets      = "targets"
	flagKubeconfig   = "kubeconfig"
	flagContext      = "context"
	flagPrometheus   = "prometheus"
	flagOutput       = "output"
)

// errFindings marks a diagnosis with findings: exit 1, the report said it.
var errFindings = errors.New("doctor found problems")

func (a *app) doctorCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "doctor PROFILE",
		Short: "Explain why monitoring is broken on a cluster: compare what the profile needs with what the cluster runs",
		Long: `obsgen doctor reads the cluster's state and Prometheus' targets and reports, for
every target the profile expects (team services, gateways, istiod), whether
Prometheus scrapes it and, when it does not, why: the last scrape error and the
cluster's own objects that explain it (a pod without its sidecar, a STRICT
PeerAuthentication, a NetworkPolicy or Calico policy that drops the flow, an
AuthorizationPolicy that denies Prometheus, a Service port that makes Istio
sniff another protocol), with the fix. It also checks the profile's flows
against the cluster's policies, obsgen's objects against the cluster's copies,
and what runs on the cluster that the profile does not describe.

The state comes from files (--cluster-state, repeatable: the output of
  ` + clusterstate.KubectlCommand + `
plus, where used, Calico's and the AdminNetworkPolicy API's kinds) or, without
--cluster-state, from the cluster of --kubeconfig/--context with read-only list
calls. Targets come from --targets (the JSON of Prometheus' /api/v1/targets) or
--prometheus URL; without them causes are predicted from the state alone.

Exit codes: 0 healthy, 1 findings, 2 bad input.`,
		Example: `  kubectl get namespaces,pods,services,networkpolicies,peerauthentications,authorizationpolicies -A -o yaml > cluster.yaml
  curl -s http://prometheus.monitoring:9090/api/v1/targets > targets.json
  obsgen doctor profiles/strict-deny.yaml --cluster-state cluster.yaml --targets targets.json
  obsgen doctor profile.yaml --context prod --prometheus http://localhost:9090 --output json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runDoctor(cmd.Context(), cmd, args)
		},
	}
	f := cmd.Flags()
	f.StringArray(flagClusterState, nil, "`FILE|DIR` of cluster objects (kubectl get ... -o yaml|json); repeatable")
	f.String(flagTargets, "", "`FILE` with the JSON of Prometheus' /api/v1/targets")
	f.String(flagKubeconfig, "", "`PATH` of the kubeconfig for live mode (default $KUBECONFIG or ~/.kube/config)")
	f.String(flagContext, "", "kubeconfig `NAME` of the context for live mode")
	f.String(flagPrometheus, "", "`URL` of Prometheus, whose /api/v1/targets and /api/v1/status/config are read")
	f.StringP(flagOutput, "o", "text", "report format: text or json")
	_ = cmd.RegisterFlagCompletionFunc(flagOutput, cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (a *app) runDoctor(ctx context.Context, cmd *cobra.Command, args []string) error {
	f := cmd.Flags()
	states, _ := f.GetStringArray(flagClusterState)
	targetsFile, _ := f.GetString(flagTargets)
	kubeconfig, _ := f.GetString(flagKubeconfig)
	kubeContext, _ := f.GetString(flagContext)
	promURL, _ := f.GetString(flagPrometheus)
	format, _ := f.GetString(flagOutput)
	switch {
	case format != "text" && format != "json":
		return usageError{fmt.Errorf("--%s %q: want text or json", flagOutput, format)}
	case len(states) > 0 && (kubeconfig != "" || kubeContext != ""):
		return usageError{fmt.Errorf("--%s reads files; --%s and --%s read a live cluster: use one or the other", flagClusterState, flagKubeconfig, flagContext)}
	case targetsFile != "" && promURL != "":
		return usageError{fmt.Errorf("--%s and --%s both give Prometheus' targets: use one", flagTargets, flagPrometheus)}
	}
	results, err := a.runAll(args)
	if err != nil {
		return usageError{err}
	}
	res := results[0]
	if ctx == nil {
		ctx = context.Background()
	}
	var st *clusterstate.State
	if len(states) > 0 {
		st, err = clusterstate.Load(states)
	} else {
		st, err = liveState(ctx, kubeconfig, kubeContext)
	}
	if err != nil {
		return usageError{err}
	}
	if st.Empty() {
		return usageError{clusterstate.ErrEmpty}
	}
	in := doctor.Input{Plan: res.Plan, Profile: res.Loaded.Profile, Policies: res.Policies, Files: res.Files, OutDir: a.outDirForMessages(), State: st}
	var running []string
	switch {
	case targetsFile != "":
		data, err := os.ReadFile(targetsFile)
		if err != nil {
			return usageError{fmt.Errorf("--%s: %w", flagTargets, err)}
		}
		if in.Targets, err = doctor.ParseTargets(data); err != nil {
			return usageError{fmt.Errorf("--%s %s: %w", flagTargets, targetsFile, err)}
		}
	case promURL != "":
		if in.Targets, running, err = readPrometheus(ctx, promURL); err != nil {
			return usageError{fmt.Errorf("--%s: %w", flagPrometheus, err)}
		}
	}
	report := doctor.Diagnose(in)
	if running != nil {
		report.Notes = append(report.Notes, missingJobs(res.Plan.Jobs, running)...)
	}
	if format == "json" {
		err = report.WriteJSON(a.stdout)
	} else {
		err = report.WriteText(a.stdout)
	}
	if err != nil {
		return err
	}
	if !report.Healthy() {
		return errFindings
	}
	return nil
}

// outDirForMessages is the output root fixes name.
func (a *app) outDirForMessages() string {
	if out := a.path(flagOut); out != "" {
		return out
	}
	return defaultOut
}

func liveState(ctx context.Context, kubeconfig, kubeContext string) (*clusterstate.State, error) {
	cfg, err := clusterstate.RESTConfig(kubeconfig, kubeContext)
	if err != nil {
		return nil, fmt.Errorf("%w (or give the state as files with --%s)", err, flagClusterState)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return clusterstate.FromAPI(ctx, cfg)
}

// readPrometheus reads the targets and the job names of the configuration
// Prometheus runs.
func readPrometheus(ctx context.Context, base string) (*doctor.Targets, []string, error) {
	base = strings.TrimSuffix(base, "/")
	client := &http.Client{Timeout: 30 * time.Second}
	get := func(path string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 512<<20))
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return body, err
	}
	data, err := get("/api/v1/targets")
	if err != nil {
		return nil, nil, err
	}
	targets, err := doctor.ParseTargets(data)
	if err != nil {
		return nil, nil, err
	}
	data, err = get("/api/v1/status/config")
	if err != nil {
		return targets, nil, nil // targets alone are enough
	}
	var cfg struct {
		Data struct {
			YAML string `json:"yaml"`
		} `json:"data"`
	}
	var jobs struct {
		ScrapeConfigs []struct {
			JobName string `yaml:"job_name"`
		} `yaml:"scrape_configs"`
	}
	if yamlJSON(data, &cfg) != nil || yaml.Unmarshal([]byte(cfg.Data.YAML), &jobs) != nil {
		return targets, nil, nil
	}
	running := []string{}
	for _, j := range jobs.ScrapeConfigs {
		running = append(running, j.JobName)
	}
	return targets, running, nil
}

func yamlJSON(data []byte, v any) error { return yaml.Unmarshal(data, v) }

// missingJobs notes the profile's jobs the running configuration lacks:
// Prometheus runs an older output (or the operator's, whose job names
// differ).
func missingJobs(jobs []plan.Job, running []string) []string {
	var missing []string
	for _, j := range jobs {
		if !slices.Contains(running, j.Name) {
			missing = append(missing, j.Name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("the configuration Prometheus runs has no job %s: it runs an older output, or the operator's configuration (whose jobs are named after their objects)", strings.Join(missing, ", "))}
}
