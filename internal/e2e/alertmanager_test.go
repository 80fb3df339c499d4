package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"obsgen.dev/obsgen/generators/alertmanager"
	"obsgen.dev/obsgen/internal/output"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/testtools"
)

// severities are the values of the severity label obsgen's alerts carry.
var severities = []string{"critical", "warning", "info"}

// amExample is an example that sends alerts, with its alertmanager.yml.
type amExample struct {
	example
	data []byte
}

// alertmanagerExamples returns the examples with their alertmanager.yml:
// every example's alerts are evaluated somewhere (with an agent, by the
// ruler, which notifies the Alertmanager this file configures).
func alertmanagerExamples(t *testing.T) []amExample {
	t.Helper()
	var out []amExample
	for _, ex := range examples(t) {
		i := slices.IndexFunc(ex.result.Files, func(f output.File) bool { return f.Path == alertmanager.Path })
		require.GreaterOrEqual(t, i, 0, "%s: its alerts reach no Alertmanager", ex.file)
		out = append(out, amExample{example: ex, data: ex.result.Files[i].Data})
	}
	require.GreaterOrEqual(t, len(out), 5, "examples with an Alertmanager configuration")
	return out
}

// watchdogAlert has the labels the rules give the always-firing Watchdog:
// alertname="Watchdog", severity="none" and the platform team, plus the
// cluster external label.
func watchdogAlert(p *plan.Plan) model.LabelSet {
	return model.LabelSet{"alertname": model.LabelValue(plan.WatchdogAlert), "severity": "none",
		"team": model.LabelValue(p.Alerting.PlatformTeam), "cluster": model.LabelValue(p.Cluster.Name)}
}

// TestAmtoolChecksAndRoutesEveryAlertmanagerConfig runs the real amtool
// (built from the pinned Alertmanager module) on every example's
// alertmanager.yml: check-config accepts it, and `config routes test` sends
// each team's alerts, by severity, to the receiver the profile names, the
// platform team's to its receiver, an alert without a known team to the
// root receiver, and the Watchdog to its heartbeat receiver.
func TestAmtoolChecksAndRoutesEveryAlertmanagerConfig(t *testing.T) {
	amtool := testtools.Find(t, "amtool")
	for _, ex := range alertmanagerExamples(t) {
		p := ex.result.Plan
		file := filepath.Join(t.TempDir(), "alertmanager.yml")
		require.NoError(t, os.WriteFile(file, ex.data, 0o644))
		out, err := exec.Command(amtool, "check-config", file).CombinedOutput()
		require.NoError(t, err, "%s: amtool check-config:\n%s", ex.file, out)
		assert.Contains(t, string(out), "SUCCESS")

		route := func(labels ...string) string {
			out, err := exec.Command(amtool, append([]string{"config", "routes", "test", "--config.file=" + file}, labels...)...).CombinedOutput()
			require.NoError(t, err, "%s: amtool config routes test %v:\n%s", ex.file, labels, out)
			return strings.TrimSpace(string(out))
		}
		for _, team := range p.Teams {
			for _, sev := range severities {
				want := team.Receiver
				if r, ok := team.SeverityReceivers.Get(sev); ok {
					want = r
				}
				assert.Equal(t, want, route("alertname=KubePodCrashLooping", "team="+team.Name, "severity="+sev), "%s: team %s, %s", ex.file, team.Name, sev)
			}
		}
		assert.Equal(t, p.Alerting.Receiver, route("alertname=IstiodDown", "team="+p.Alerting.PlatformTeam, "severity=critical"), ex.file)
		assert.Equal(t, p.Alerting.Receiver, route("alertname=Custom", "team=unknown-team"), ex.file)
		assert.Equal(t, p.Alerting.Watchdog.Receiver,
			route("alertname=Watchdog", "severity=none", "team="+p.Alerting.PlatformTeam, "cluster="+p.Cluster.Name), ex.file)
	}
}

// TestEveryTeamAndSeverityReachesAnIntegration routes an alert of every
// team and severity, of the platform team, and of no known team through
// Alertmanager's own routing tree (its dispatch package): every receiver
// an alert reaches must notify someone.
func TestEveryTeamAndSeverityReachesAnIntegration(t *testing.T) {
	for _, ex := range alertmanagerExamples(t) {
		cfg, err := amconfig.Load(string(ex.data))
		require.NoError(t, err, ex.file)
		assert.Empty(t, silentRoutes(cfg, teamAlerts(ex.result.Plan)), ex.file)
	}
}

// TestTheRoutingCheckCatchesASilentReceiver: the check above fails when a
// routed receiver loses its integrations.
func TestTheRoutingCheckCatchesASilentReceiver(t *testing.T) {
	ex := alertmanagerExamples(t)[0]
	cfg, err := amconfig.Load(string(ex.data))
	require.NoError(t, err)
	p := ex.result.Plan
	team := p.Teams[0]
	i := slices.IndexFunc(cfg.Receivers, func(r amconfig.Receiver) bool { return r.Name == team.Receiver })
	require.GreaterOrEqual(t, i, 0)
	cfg.Receivers[i] = amconfig.Receiver{Name: team.Receiver}
	problems := silentRoutes(cfg, teamAlerts(p))
	assert.NotEmpty(t, problems)
	assert.Contains(t, strings.Join(problems, "\n"), fmt.Sprintf("receiver %q, which has no integration", team.Receiver))
}

// teamAlerts are alerts of every team and severity, of the platform team,
// and of a team no route knows.
func teamAlerts(p *plan.Plan) []model.LabelSet {
	var out []model.LabelSet
	alert := func(name, team, sev, ns string) model.LabelSet {
		return model.LabelSet{"alertname": model.LabelValue(name), "team": model.LabelValue(team), "severity": model.LabelValue(sev),
			"namespace": model.LabelValue(ns), "cluster": model.LabelValue(p.Cluster.Name)}
	}
	for _, sev := range severities {
		for _, team := range p.Teams {
			out = append(out, alert("KubePodCrashLooping", team.Name, sev, team.Namespaces[0]))
		}
		out = append(out, alert("TargetDown", p.Alerting.PlatformTeam, sev, p.Monitoring.Namespace),
			alert("Custom", "unknown-team", sev, "elsewhere"))
	}
	return out
}

// silentRoutes routes each alert through the real routing tree and names
// every receiver reached that has no integration.
func silentRoutes(cfg *amconfig.Config, alerts []model.LabelSet) []string {
	tree := dispatch.NewRoute(cfg.Route, nil)
	var out []string
	for _, a := range alerts {
		for _, r := range tree.Match(a) {
			if receiver, ok := receiverNamed(cfg, r.RouteOpts.Receiver); !ok || integrations(receiver) == 0 {
				out = append(out, fmt.Sprintf("%v reaches receiver %q, which has no integration", a, r.RouteOpts.Receiver))
			}
		}
	}
	return out
}

// TestWatchdogReachesItsHeartbeatReceiverAndNoTeam: in every example the
// Watchdog takes one route, its own, ahead of the platform team's route
// its team label would otherwise match, and reaches a receiver that
// notifies.
func TestWatchdogReachesItsHeartbeatReceiverAndNoTeam(t *testing.T) {
	for _, ex := range alertmanagerExamples(t) {
		cfg, err := amconfig.Load(string(ex.data))
		require.NoError(t, err, ex.file)
		assert.Empty(t, watchdogProblems(cfg, ex.result.Plan), ex.file)
	}
}

// TestTheWatchdogCheckCatchesATeamRouteFirst: the check above fails when
// the Watchdog's route no longer comes first.
func TestTheWatchdogCheckCatchesATeamRouteFirst(t *testing.T) {
	ex := alertmanagerExamples(t)[0]
	cfg, err := amconfig.Load(string(ex.data))
	require.NoError(t, err)
	routes := cfg.Route.Routes
	cfg.Route.Routes = append(slices.Clone(routes[1:]), routes[0])
	problems := watchdogProblems(cfg, ex.result.Plan)
	assert.NotEmpty(t, problems)
	assert.Contains(t, strings.Join(problems, "\n"), fmt.Sprintf("reaches %q", ex.result.Plan.Alerting.Receiver))
}

func watchdogProblems(cfg *amconfig.Config, p *plan.Plan) []string {
	var out []string
	matched := dispatch.NewRoute(cfg.Route, nil).Match(watchdogAlert(p))
	for _, r := range matched {
		if r.RouteOpts.Receiver != p.Alerting.Watchdog.Receiver {
			out = append(out, fmt.Sprintf("the Watchdog reaches %q, not %q", r.RouteOpts.Receiver, p.Alerting.Watchdog.Receiver))
		}
		if slices.ContainsFunc(r.Matchers, func(m *labels.Matcher) bool { return m.Name == "team" }) {
			out = append(out, fmt.Sprintf("the Watchdog takes a team's route %v", r.Matchers))
		}
	}
	if len(matched) != 1 {
		out = append(out, fmt.Sprintf("the Watchdog takes %d routes, not one", len(matched)))
	}
	if r, ok := receiverNamed(cfg, p.Alerting.Watchdog.Receiver); !ok || integrations(r) == 0 {
		out = append(out, fmt.Sprintf("the Watchdog's receiver %q notifies nobody", p.Alerting.Watchdog.Receiver))
	}
	return out
}

// TestNoCredentialIsWrittenInline: every example's integrations read their
// secrets from files of the receivers' Secret, and no generated file holds
// an inline secret field.
func TestNoCredentialIsWrittenInline(t *testing.T) {
	for _, ex := range alertmanagerExamples(t) {
		assert.Empty(t, inlineSecrets(t, ex.data, ex.result.Plan.Alerting.SecretDir), ex.file)
		for _, f := range ex.result.Files {
			assert.Empty(t, inlineSecretLine.FindAllString(string(f.Data), -1), "%s: %s", ex.file, f.Path)
		}
	}
}

// TestTheCredentialCheckCatchesInlineSecrets: the checks above fail on an
// inline routing key, a Slack URL outside the Secret's folder, and a
// global secret.
func TestTheCredentialCheckCatchesInlineSecrets(t *testing.T) {
	broken := `global:
  slack_api_url: https://hooks.slack.com/services/T0/B0/x
route: {receiver: pager}
receivers:
  - name: pager
    pagerduty_configs:
      - routing_key: 0123456789abcdef
  - name: chat
    slack_configs:
      - api_url_file: /tmp/slack-url
`
	problems := strings.Join(inlineSecrets(t, []byte(broken), "/etc/alertmanager/secrets/am/"), "\n")
	assert.Contains(t, problems, "pager: pagerduty_configs[0] writes routing_key inline")
	assert.Contains(t, problems, "pager: pagerduty_configs[0] lacks routing_key_file")
	assert.Contains(t, problems, "chat: slack_configs[0] reads api_url_file /tmp/slack-url outside /etc/alertmanager/secrets/am/")
	assert.Contains(t, problems, "global: slack_api_url holds a secret")
	assert.Len(t, inlineSecretLine.FindAllString(broken, -1), 2)
}

// inlineSecretKeys are each integration's inline secret fields, and
// secretFileKeys the *_file field obsgen writes instead (Alertmanager
// v0.34.0: config/notifiers.go and notify/*/config.go).
var (
	inlineSecretKeys = map[string][]string{
		"slack_configs": {"api_url", "app_token"}, "pagerduty_configs": {"routing_key", "service_key"},
		"opsgenie_configs": {"api_key"}, "webhook_configs": {"url"}, "email_configs": {"auth_password", "auth_secret"},
		"msteamsv2_configs": {"webhook_url"}, "msteams_configs": {"webhook_url"},
	}
	secretFileKeys = map[string]string{
		"slack_configs": "api_url_file", "pagerduty_configs": "routing_key_file", "opsgenie_configs": "api_key_file",
		"webhook_configs": "url_file", "msteamsv2_configs": "webhook_url_file",
	}
	// inlineSecretLine finds a YAML key that only ever holds a secret.
	inlineSecretLine = regexp.MustCompile(`(?m)^\s*(- )?(routing_key|service_key|api_key|app_token|auth_password|auth_secret|webhook_url|slack_api_url|opsgenie_api_key|smtp_auth_password):`)
)

func inlineSecrets(t *testing.T, data []byte, dir string) []string {
	t.Helper()
	var cfg struct {
		Global    map[string]any   `yaml:"global"`
		Receivers []map[string]any `yaml:"receivers"`
	}
	require.NoError(t, yaml.Unmarshal(data, &cfg))
	var out []string
	for key := range cfg.Global {
		if strings.Contains(key, "api_url") || strings.Contains(key, "key") || strings.Contains(key, "password") ||
			strings.Contains(key, "secret") || strings.Contains(key, "token") {
			out = append(out, "global: "+key+" holds a secret")
		}
	}
	for _, r := range cfg.Receivers {
		for kind, list := range r {
			configs, _ := list.([]any)
			for i, c := range configs {
				out = append(out, configSecrets(fmt.Sprintf("%v: %s[%d]", r["name"], kind, i), kind, c.(map[string]any), dir)...)
			}
		}
	}
	slices.Sort(out)
	return out
}

func configSecrets(where, kind string, c map[string]any, dir string) []string {
	var out []string
	for _, key := range inlineSecretKeys[kind] {
		if _, ok := c[key]; ok {
			out = append(out, fmt.Sprintf("%s writes %s inline", where, key))
		}
	}
	fileKey, needed := secretFileKeys[kind]
	if kind == "email_configs" && c["auth_username"] != nil {
		fileKey, needed = "auth_password_file", true
	}
	if !needed {
		return out
	}
	file, _ := c[fileKey].(string)
	switch {
	case file == "":
		out = append(out, fmt.Sprintf("%s lacks %s", where, fileKey))
	case !strings.HasPrefix(file, dir):
		out = append(out, fmt.Sprintf("%s reads %s %s outside %s", where, fileKey, file, dir))
	}
	return out
}

// TestExamplesUseEveryIntegration: between them, the examples show each
// integration obsgen models.
func TestExamplesUseEveryIntegration(t *testing.T) {
	used := map[string]bool{}
	for _, ex := range alertmanagerExamples(t) {
		cfg, err := amconfig.Load(string(ex.data))
		require.NoError(t, err)
		for _, r := range cfg.Receivers {
			v := reflect.ValueOf(r)
			for i := range v.NumField() {
				if name := v.Type().Field(i).Name; strings.HasSuffix(name, "Configs") && v.Field(i).Len() > 0 {
					used[name] = true
				}
			}
		}
	}
	for _, kind := range []string{"SlackConfigs", "PagerdutyConfigs", "OpsGenieConfigs", "WebhookConfigs", "EmailConfigs", "MSTeamsV2Configs"} {
		assert.True(t, used[kind], "no example uses %s", kind)
	}
}

func receiverNamed(cfg *amconfig.Config, name string) (amconfig.Receiver, bool) {
	i := slices.IndexFunc(cfg.Receivers, func(r amconfig.Receiver) bool { return r.Name == name })
	if i < 0 {
		return amconfig.Receiver{}, false
	}
	return cfg.Receivers[i], true
}

// integrations counts a receiver's integrations of any kind: every
// *Configs list of Alertmanager's Receiver.
func integrations(r amconfig.Receiver) int {
	n := 0
	v := reflect.ValueOf(r)
	for i := range v.NumField() {
		if strings.HasSuffix(v.Type().Field(i).Name, "Configs") {
			n += v.Field(i).Len()
		}
	}
	return n
}
