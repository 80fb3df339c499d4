package alertmanager

import (
	"io/fs"
	"path"
	"slices"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"obsgen.dev/obsgen/generators/rules"
	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
	"obsgen.dev/obsgen/internal/profile"
	"obsgen.dev/obsgen/internal/render"
	"obsgen.dev/obsgen/profiles"
	"obsgen.dev/obsgen/templates"
)

// testPlan scrapes Istio metrics with envoy-stats (istio-certs).
func testPlan() *plan.Plan {
	off := false
	return plan.Resolve(&v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind, Metadata: v1alpha1.Metadata{Name: "am"},
		Mesh:     v1alpha1.Mesh{MTLS: v1alpha1.MTLSStrict, MetricsMerging: &off},
		Alerting: v1alpha1.Alerts{PlatformTeam: "infra", SeverityReceivers: map[string]string{"critical": "infra-pager"}},
		Teams: []v1alpha1.Team{
			{Name: "shop", Namespaces: []string{"shop"}, Alerting: v1alpha1.Alerting{Receiver: "shop-chat", SeverityReceivers: map[string]string{"critical": "shop-pager"}},
				Services: []v1alpha1.Service{{Name: "web", Namespace: "shop", Port: 8080, Selector: map[string]string{"app": "web"},
					SLOs: &v1alpha1.SLOs{Availability: &v1alpha1.AvailabilitySLO{Target: 99.9}}}}},
			{Name: "search", Namespaces: []string{"search"}},
		}})
}

func load(t *testing.T, p *plan.Plan) *amconfig.Config {
	t.Helper()
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	files, err := Generate(p, engine, dependents(p))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	require.Equal(t, Path, files[0].Path)
	cfg, err := amconfig.Load(string(files[0].Data))
	require.NoError(t, err)
	return cfg
}

// TestRoutesByTeamAndSeverity routes alerts through Alertmanager's own
// dispatch tree.
func TestRoutesByTeamAndSeverity(t *testing.T) {
	route := dispatch.NewRoute(load(t, testPlan()).Route, nil)
	receiver := func(labels model.LabelSet) []string {
		var out []string
		for _, r := range route.Match(labels) {
			out = append(out, r.RouteOpts.Receiver)
		}
		return out
	}
	assert.Equal(t, []string{"shop-pager"}, receiver(model.LabelSet{"team": "shop", "severity": "critical"}))
	assert.Equal(t, []string{"shop-chat"}, receiver(model.LabelSet{"team": "shop", "severity": "warning"}))
	assert.Equal(t, []string{"search"}, receiver(model.LabelSet{"team": "search", "severity": "critical"}), "the receiver defaults to the team name")
	assert.Equal(t, []string{"infra-pager"}, receiver(model.LabelSet{"team": "infra", "severity": "critical", "alertname": "IstiodDown"}))
	assert.Equal(t, []string{"infra"}, receiver(model.LabelSet{"team": "infra", "severity": "warning"}))
	assert.Equal(t, []string{"infra"}, receiver(model.LabelSet{"team": "nobody"}), "unknown teams go to the platform receiver")
	grouping := route.Match(model.LabelSet{"team": "shop", "severity": "warning"})[0].RouteOpts.GroupBy
	assert.Len(t, grouping, len(plan.DefaultGroupBy))
	for _, l := range plan.DefaultGroupBy {
		assert.Contains(t, grouping, model.LabelName(l), "pods of one namespace share a notification")
	}
}

// TestInhibition evaluates the inhibition rules as Alertmanager does: a
// firing source mutes a target when both sets of matchers match and the
// equal labels agree.
func TestInhibition(t *testing.T) {
	cfg := load(t, testPlan())
	muted := func(source, target model.LabelSet) bool { return muted(cfg, source, target) }
	envoyDown := model.LabelSet{"alertname": "TargetDown", "job": "envoy-stats", "namespace": "shop", "team": "shop", "severity": "warning"}
	errors := model.LabelSet{"alertname": "IstioHighErrorRate", "team": "shop", "namespace": "shop", "destination_workload_namespace": "shop",
		"destination_canonical_service": "web", "severity": "warning"}
	assert.True(t, muted(envoyDown, errors), "envoy-stats down in shop mutes shop's Istio warnings")
	other := errors.Clone()
	other["team"], other["namespace"], other["destination_workload_namespace"] = "search", "search", "search"
	assert.False(t, muted(envoyDown, other), "but not another namespace's")
	page := model.LabelSet{"alertname": "ErrorBudgetBurn", "team": "shop", "namespace": "shop", "destination_workload_namespace": "shop",
		"destination_canonical_service": "web", "slo": "availability", "severity": "critical"}
	assert.False(t, muted(envoyDown, page), "a page is never muted by TargetDown")

	ksmDown := model.LabelSet{"alertname": "TargetDown", "job": "kube-state-metrics", "namespace": "monitoring", "team": "infra", "severity": "warning"}
	crash := model.LabelSet{"alertname": "KubePodCrashLooping", "team": "shop", "namespace": "shop", "pod": "web-1", "container": "web", "severity": "warning"}
	assert.True(t, muted(ksmDown, crash), "kube-state-metrics down mutes its warnings in every namespace")
	assert.False(t, muted(envoyDown, crash), "envoy-stats down does not mute kube-state-metrics' alerts")

	ticket := page.Clone()
	ticket["severity"] = "warning"
	assert.True(t, muted(page, ticket), "the SLO page mutes the ticket of the same objective")
	otherSLO := ticket.Clone()
	otherSLO["slo"] = "latency"
	assert.False(t, muted(page, otherSLO), "but not another objective's")
	otherPod := crash.Clone()
	otherPod["pod"] = "web-2"
	critical := crash.Clone()
	critical["severity"] = "critical"
	assert.False(t, muted(critical, otherPod), "a critical alert mutes only its own object's warning")
}

// firedAlerts are the label sets of every alert as the rules' unit tests
// expect them to fire (promtool checks each against Prometheus' own
// evaluation), by alert name, with the plan's external labels Prometheus
// adds when it sends them.
func firedAlerts(t *testing.T, p *plan.Plan) map[string][]model.LabelSet {
	t.Helper()
	files, err := rules.Generate(p, nil)
	require.NoError(t, err)
	type testFile struct {
		Tests []struct {
			AlertRuleTest []struct {
				AlertName string `json:"alertname"`
				ExpAlerts []struct {
					ExpLabels map[string]string `json:"exp_labels"`
				} `json:"exp_alerts"`
			} `json:"alert_rule_test"`
		} `json:"tests"`
	}
	out := map[string][]model.LabelSet{}
	for _, f := range files {
		if path.Base(path.Dir(f.Path)) != "tests" {
			continue
		}
		var tf testFile // fresh: decoding into a used one merges its maps
		require.NoError(t, yaml.Unmarshal(f.Data, &tf), f.Path)
		for _, g := range tf.Tests {
			for _, at := range g.AlertRuleTest {
				for _, exp := range at.ExpAlerts {
					ls := model.LabelSet{"alertname": model.LabelValue(at.AlertName)}
					for _, l := range p.ExternalLabels {
						ls[model.LabelName(l.Name)] = model.LabelValue(l.Value)
					}
					for k, v := range exp.ExpLabels {
						ls[model.LabelName(k)] = model.LabelValue(v)
					}
					out[at.AlertName] = append(out[at.AlertName], ls)
				}
			}
		}
	}
	return out
}

// TestTargetDownMutesOnlyTheNamespaceItBlinds takes every alert of the
// examples as it really fires (firedAlerts) and TargetDown as Prometheus
// would raise it for the targets the alert's data comes from (their
// namespace, the team that namespace's owner gives them or the platform's),
// and asks Alertmanager's inhibition rules: TargetDown of a team-labelled
// job there mutes a warning that reads that job, and TargetDown of the same
// job in another namespace of the team, or in one no team owns, does not.
// A waypoint's targets are in its own namespace, which need not be the
// namespace of the services it reports for (the shared-waypoint variant).
func TestTargetDownMutesOnlyTheNamespaceItBlinds(t *testing.T) {
	names, err := fs.Glob(profiles.FS, "*.yaml")
	require.NoError(t, err)
	type example struct {
		name string
		p    *plan.Plan
	}
	var examples []example
	for _, name := range names {
		data, err := profiles.FS.ReadFile(name)
		require.NoError(t, err)
		l, err := profile.Load(name, data)
		require.NoError(t, err)
		examples = append(examples, example{name, plan.Resolve(l.Profile)})
		if name == "ambient.yaml" {
			shared := *l.Profile
			shared.Mesh.Waypoints = []v1alpha1.Waypoint{{Name: "shared", Namespace: "waypoints", Namespaces: []string{"media"}},
				{Name: "other", Namespace: "waypoints", Namespaces: []string{"batch"}}}
			examples = append(examples, example{"ambient with a waypoint in another namespace", plan.Resolve(&shared)})
		}
	}
	for _, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			p := ex.p
			if !rules.Evaluated(p) || (!p.Monitoring.RawFlavour && !p.Monitoring.OperatorFlavour) {
				t.Skip("no Alertmanager configuration with TargetDown inhibitions")
			}
			owner := map[string]string{}
			for _, team := range p.Teams {
				for _, ns := range team.Namespaces {
					owner[ns] = team.Name
				}
			}
			teamOf := func(ns string) string {
				if o := owner[ns]; o != "" {
					return o
				}
				return p.Alerting.PlatformTeam // TargetDown's label_replace
			}
			cfg := load(t, p)
			fired := firedAlerts(t, p)
			require.NotEmpty(t, fired["TargetDown"])
			targetDown := fired["TargetDown"][0]
			checked := 0
			for _, j := range p.Jobs {
				if !j.CarriesTeam() {
					continue
				}
				// TargetDown of the job's targets in namespace (of
				// waypoint, for the waypoints' job: its targets carry
				// their waypoint's name).
				downOf := func(namespace, waypoint string) model.LabelSet {
					ls := targetDown.Clone()
					ls["job"], ls["namespace"], ls["team"] = model.LabelValue(j.Name), model.LabelValue(namespace), model.LabelValue(teamOf(namespace))
					if waypoint != "" {
						ls[plan.WaypointTargetLabel] = model.LabelValue(waypoint)
					}
					return ls
				}
				// targetsOf is the namespace, and for the waypoints' job
				// the waypoint, of the targets whose metrics an alert on
				// namespace ns reads; "" when no target reports for it.
				targetsOf := func(ns string) (string, string) {
					if j.Kind != plan.JobWaypoints {
						return ns, ""
					}
					for _, w := range p.Mesh.Waypoints {
						if slices.Contains(w.Namespaces, ns) {
							return w.Namespace, w.Name
						}
					}
					return "", ""
				}
				for _, in := range cfg.InhibitRules {
					if !slices.ContainsFunc(in.SourceMatchers, func(m *labels.Matcher) bool {
						return m.Name == "job" && m.Type == labels.MatchEqual && m.Value == j.Name
					}) {
						continue // not a rule of this job's TargetDown
					}
					for _, alerts := range fired {
						for _, a := range alerts {
							if a["severity"] == "critical" || !labels.Matchers(in.TargetMatchers).Matches(a) {
								continue
							}
							ns := string(a["namespace"])
							require.NotEmpty(t, ns, "%s may be muted by TargetDown but has no namespace: %v", a["alertname"], a)
							from, waypoint := targetsOf(ns)
							down := func(namespace string) model.LabelSet { return downOf(namespace, waypoint) }
							if from == "" || !labels.Matchers(in.SourceMatchers).Matches(down(from)) {
								continue
							}
							assert.True(t, muted(cfg, down(from), a), "TargetDown of %s in %s must mute %v", j.Name, from, a)
							sameTeam := from + "-other"
							for _, team := range p.Teams {
								if team.Name == teamOf(from) {
									for _, o := range team.Namespaces {
										if o2, _ := targetsOf(o); o != from && o2 != from {
											sameTeam = o
										}
									}
								}
							}
							assert.False(t, muted(cfg, down(sameTeam), a), "TargetDown of %s in %s must not mute %v", j.Name, sameTeam, a)
							assert.False(t, muted(cfg, down("unowned"), a), "TargetDown of %s in a namespace no team owns must not mute %v", j.Name, a)
							for _, w := range p.Mesh.Waypoints {
								if j.Kind == plan.JobWaypoints && w.Namespace == from && !slices.Contains(w.Namespaces, ns) {
									assert.False(t, muted(cfg, downOf(from, w.Name), a), "TargetDown of waypoint %s, which does not serve %s, must not mute %v", w.Name, ns, a)
								}
							}
							checked++
						}
					}
				}
			}
			assert.Positive(t, checked, "no alert reads a team-labelled job")
		})
	}
}

// muted tells whether a firing source alert mutes target under cfg's
// inhibition rules, as Alertmanager's inhibitor decides: both sets of
// matchers match and every equal label has the same value in both (a
// missing label is the empty value).
func muted(cfg *amconfig.Config, source, target model.LabelSet) bool {
	for _, r := range cfg.InhibitRules {
		if !labels.Matchers(r.SourceMatchers).Matches(source) || !labels.Matchers(r.TargetMatchers).Matches(target) {
			continue
		}
		equal := true
		for _, l := range r.Equal {
			equal = equal && source[model.LabelName(l)] == target[model.LabelName(l)]
		}
		if equal {
			return true
		}
	}
	return false
}

// TestJobDependentsCoverTheirAlerts: every alert that reads a job's
// metrics is a target of that job's TargetDown rule.
func TestJobDependentsCoverTheirAlerts(t *testing.T) {
	cfg, err := Build(testPlan(), dependents(testPlan()))
	require.NoError(t, err)
	targets := map[string]string{}
	for _, in := range cfg.Inhibit[2:] {
		targets[in.Source[1]] = in.Target[0]
	}
	assert.Contains(t, targets[`job="kube-state-metrics"`], "KubePodCrashLooping")
	assert.Contains(t, targets[`job="cadvisor"`], "CPUThrottlingHigh")
	assert.Contains(t, targets[`job="kubelet"`], "KubePersistentVolumeFillingUp")
	assert.Contains(t, targets[`job="envoy-stats"`], "IstioHighLatency", "through the recording rules")
	assert.Contains(t, targets[`job="envoy-stats"`], "ErrorBudgetBurn", "through the SLO recording rules")
	assert.Contains(t, targets[`job="istiod"`], "IstiodXdsPushErrors")
	assert.Contains(t, targets[`job="alertmanager"`], "AlertmanagerFailedToSendAlerts")
	assert.NotContains(t, targets, `job="node-exporter"`, "no alert reads node-exporter")
}

// TestNoRulesNoAlertmanagerConfig: without an evaluator no alert exists
// to route; an agent's ruler still has one (tested on the examples).
func TestNoRulesNoAlertmanagerConfig(t *testing.T) {
	p := testPlan()
	p.Rules.Global = ""
	files, err := Generate(p, nil, dependents(p))
	require.NoError(t, err)
	assert.Empty(t, files)
}

// integrationsPlan defines a receiver of every kind obsgen models, a
// heartbeat receiver, and routes to each.
func integrationsPlan(flavours ...v1alpha1.Flavour) *plan.Plan {
	yes, no := true, false
	return plan.Resolve(&v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind, Metadata: v1alpha1.Metadata{Name: "am"},
		Monitoring: v1alpha1.Monitoring{Namespace: "obs", Flavours: flavours},
		Alerting: v1alpha1.Alerts{PlatformTeam: "infra", Receiver: "infra-mail", Secret: "am-creds",
			SeverityReceivers: map[string]string{"critical": "infra-pager", "warning": "infra-genie"},
			Watchdog:          v1alpha1.Watchdog{Receiver: "heartbeat", RepeatInterval: "3m"},
			Receivers: []v1alpha1.Receiver{
				{Name: "infra-mail", Email: &v1alpha1.EmailReceiver{To: []string{"a@example.com", "b@example.com"}, From: "am@example.com",
					Smarthost: "smtp.example.com:587", AuthUsername: "am", RequireTLS: &yes}},
				{Name: "infra-pager", PagerDuty: &v1alpha1.PagerDutyReceiver{URL: "https://events.eu.pagerduty.com/v2/enqueue"}},
				{Name: "infra-genie", Opsgenie: &v1alpha1.OpsgenieReceiver{APIURL: "https://api.eu.opsgenie.com/", SendResolved: &no}},
				{Name: "shop-chat", Slack: &v1alpha1.SlackReceiver{Channel: "#shop", SendResolved: &yes}, MSTeams: &v1alpha1.MSTeamsReceiver{}},
				{Name: "heartbeat", Webhook: &v1alpha1.WebhookReceiver{SendResolved: &no}},
			}},
		Teams: []v1alpha1.Team{{Name: "shop", Namespaces: []string{"shop"}, Alerting: v1alpha1.Alerting{Receiver: "shop-chat"}}},
	})
}

// watchdog are the labels the rules give the Watchdog alert.
func watchdog(team string) model.LabelSet {
	return model.LabelSet{"alertname": "Watchdog", "severity": "none", "team": model.LabelValue(team), "cluster": "am"}
}

func TestWatchdogGoesFirstToItsReceiverAtAHeartbeatsPace(t *testing.T) {
	route := dispatch.NewRoute(load(t, integrationsPlan()).Route, nil)
	matched := route.Match(watchdog("infra"))
	require.Len(t, matched, 1, "one route, and no team's")
	opts := matched[0].RouteOpts
	assert.Equal(t, "heartbeat", opts.Receiver, "not the platform team's receiver, though the Watchdog carries its team label")
	assert.Equal(t, time.Duration(0), opts.GroupWait, "the first heartbeat leaves at once")
	assert.Equal(t, time.Minute, opts.GroupInterval)
	assert.Equal(t, 3*time.Minute, opts.RepeatInterval, "the heartbeat's period is alerting.watchdog.repeatInterval")
	assert.Equal(t, route.Routes[0], matched[0], "the Watchdog's route comes before every team route")

	shopWatchdog := watchdog("shop")
	assert.Equal(t, "heartbeat", route.Match(shopWatchdog)[0].RouteOpts.Receiver, "whatever its team label")
	other := watchdog("infra")
	other["alertname"] = "WatchdogLike"
	assert.Equal(t, "infra-mail", route.Match(other)[0].RouteOpts.Receiver, "only the Watchdog takes that route")
}

func TestWatchdogNeverInhibited(t *testing.T) {
	for _, r := range load(t, integrationsPlan()).InhibitRules {
		assert.False(t, labels.Matchers(r.TargetMatchers).Matches(watchdog("infra")), "inhibition %v mutes the heartbeat", r.TargetMatchers)
	}
}

func TestWatchdogWithoutAReceiverGoesNowhereOnPurpose(t *testing.T) {
	p := testPlan()
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	files, err := Generate(p, engine, dependents(p))
	require.NoError(t, err)
	assert.Contains(t, string(files[0].Data), `receiver "watchdog" has no integration on purpose`)
	cfg := load(t, p)
	assert.Equal(t, "watchdog", dispatch.NewRoute(cfg.Route, nil).Match(watchdog("infra"))[0].RouteOpts.Receiver)
	i := slices.IndexFunc(cfg.Receivers, func(r amconfig.Receiver) bool { return r.Name == "watchdog" })
	require.GreaterOrEqual(t, i, 0, "Alertmanager needs every routed receiver to exist")
	assert.Equal(t, amconfig.Receiver{Name: "watchdog", Labels: cfg.Receivers[i].Labels}, cfg.Receivers[i], "a name and no integration")
}

// TestEveryCredentialIsReadFromTheSecret decodes the receivers with
// Alertmanager's own types: every secret field is a *_file under the
// Secret's folder, every inline secret field is empty, and the settings
// the profile gives arrive where Alertmanager reads them.
func TestEveryCredentialIsReadFromTheSecret(t *testing.T) {
	cfg := load(t, integrationsPlan())
	dir := "/etc/alertmanager/secrets/am-creds/"
	byName := map[string]amconfig.Receiver{}
	for _, r := range cfg.Receivers {
		byName[r.Name] = r
	}
	mail := byName["infra-mail"].EmailConfigs[0]
	assert.Equal(t, dir+"infra-mail.email-auth-password", mail.AuthPasswordFile)
	assert.Empty(t, mail.AuthPassword)
	assert.Equal(t, "a@example.com, b@example.com", mail.To)
	assert.Equal(t, "smtp.example.com:587", mail.Smarthost.String())
	assert.Equal(t, "am", mail.AuthUsername)
	assert.True(t, *mail.RequireTLS)

	pager := byName["infra-pager"].PagerdutyConfigs[0]
	assert.Equal(t, dir+"infra-pager.pagerduty-routing-key", pager.RoutingKeyFile)
	assert.Empty(t, pager.RoutingKey)
	assert.Empty(t, pager.ServiceKey, "Events API v2 takes a routing key")
	assert.Equal(t, "https://events.eu.pagerduty.com/v2/enqueue", pager.URL.String())

	genie := byName["infra-genie"].OpsGenieConfigs[0]
	assert.Equal(t, dir+"infra-genie.opsgenie-api-key", genie.APIKeyFile)
	assert.Empty(t, genie.APIKey)
	assert.Equal(t, "https://api.eu.opsgenie.com/", genie.APIURL.String())
	assert.False(t, genie.SendResolved())

	chat := byName["shop-chat"]
	require.Len(t, chat.SlackConfigs, 1)
	assert.Equal(t, dir+"shop-chat.slack-api-url", chat.SlackConfigs[0].APIURLFile)
	assert.Nil(t, chat.SlackConfigs[0].APIURL)
	assert.Equal(t, "#shop", chat.SlackConfigs[0].Channel)
	assert.True(t, chat.SlackConfigs[0].SendResolved())
	require.Len(t, chat.MSTeamsV2Configs, 1)
	assert.Equal(t, dir+"shop-chat.msteams-webhook-url", chat.MSTeamsV2Configs[0].WebhookURLFile)
	assert.Nil(t, chat.MSTeamsV2Configs[0].WebhookURL)

	hook := byName["heartbeat"].WebhookConfigs[0]
	assert.Equal(t, dir+"heartbeat.webhook-url", hook.URLFile)
	assert.Empty(t, hook.URL)
	assert.False(t, hook.SendResolved(), "a resolution must not count as a heartbeat")
}

func TestPodPatchMountsTheSecretWhereTheConfigReadsIt(t *testing.T) {
	engine, err := render.New(templates.FS, "")
	require.NoError(t, err)
	files, err := Generate(integrationsPlan(v1alpha1.FlavourPrometheus), engine, dependents(integrationsPlan(v1alpha1.FlavourPrometheus)))
	require.NoError(t, err)
	require.Equal(t, 3, len(files), "alertmanager.yml, the pod patch and its Component")
	assert.Equal(t, PodPatchPath, files[1].Path)
	assert.Equal(t, "alertmanager/kustomization.yaml", files[2].Path)
	var sts appsv1.StatefulSet
	require.NoError(t, yaml.UnmarshalStrict(files[1].Data, &sts))
	assert.Equal(t, "alertmanager", sts.Name)
	assert.Equal(t, "obs", sts.Namespace)
	pod := sts.Spec.Template.Spec
	require.Len(t, pod.Volumes, 1)
	require.NotNil(t, pod.Volumes[0].Secret)
	assert.Equal(t, "am-creds", pod.Volumes[0].Secret.SecretName)
	require.Len(t, pod.Containers, 1)
	mount := pod.Containers[0].VolumeMounts[0]
	assert.Equal(t, pod.Volumes[0].Name, mount.Name)
	assert.True(t, mount.ReadOnly)
	for _, r := range load(t, integrationsPlan()).Receivers {
		for _, f := range []string{fileOf(r.SlackConfigs, func(c *amconfig.SlackConfig) string { return c.APIURLFile }),
			fileOf(r.WebhookConfigs, func(c *webhook.WebhookConfig) string { return c.URLFile })} {
			if f != "" {
				assert.Equal(t, mount.MountPath, path.Dir(f), "%s reads %s, outside the mount", r.Name, f)
			}
		}
	}
	assert.Contains(t, string(files[1].Data), "--from-file=infra-genie.opsgenie-api-key=./infra-genie.opsgenie-api-key \\\n")
	assert.Contains(t, string(files[1].Data), "--from-file=shop-chat.slack-api-url=./shop-chat.slack-api-url\napiVersion", "every key, the last without a continuation")

	files, err = Generate(integrationsPlan(v1alpha1.FlavourOperator), engine, dependents(integrationsPlan(v1alpha1.FlavourOperator)))
	require.NoError(t, err)
	assert.Equal(t, 1, len(files), "the operator mounts spec.secrets itself")
	files, err = Generate(testPlan(), engine, dependents(testPlan()))
	require.NoError(t, err)
	assert.Equal(t, 1, len(files), "nothing to mount without credentials")
}

func fileOf[C any](configs []C, file func(C) string) string {
	if len(configs) == 0 {
		return ""
	}
	return file(configs[0])
}

// dependents are the alerts that read each job, as the rules generator
// hands them to Generate.
func dependents(p *plan.Plan) map[string][]string {
	deps, err := rules.JobDependents(p, rules.Files(p))
	if err != nil {
		panic(err)
	}
	return deps
}

// TestEachEvaluatorHasItsOwnHeartbeat: with shards and a Mimir ruler, the
// ruler's Watchdog (evaluator=mimir-ruler, as the rules give it) and the
// servers' reach Alertmanager by different ways; grouped together, either
// would keep one heartbeat going while the other's alerts are lost. Each
// goes to its own heartbeat receiver, and the servers' to the usual one.
func TestEachEvaluatorHasItsOwnHeartbeat(t *testing.T) {
	no := false
	p := plan.Resolve(&v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind, Metadata: v1alpha1.Metadata{Name: "am"},
		Monitoring: v1alpha1.Monitoring{Namespace: "obs", Prometheus: v1alpha1.Prometheus{Shards: 2,
			RemoteWrite: []v1alpha1.RemoteWrite{{Name: "mimir", URL: "http://mimir.mimir:8080/api/v1/push"}}}},
		Dashboards: v1alpha1.Dashboards{Datasource: v1alpha1.Datasource{URL: "http://mimir.mimir:8080/prometheus"}},
		Alerting: v1alpha1.Alerts{PlatformTeam: "infra", Secret: "am-creds",
			Watchdog: v1alpha1.Watchdog{Receiver: "heartbeat", RulerReceiver: "heartbeat-ruler", RepeatInterval: "3m"},
			Receivers: []v1alpha1.Receiver{
				{Name: "infra", Webhook: &v1alpha1.WebhookReceiver{}},
				{Name: "heartbeat", Webhook: &v1alpha1.WebhookReceiver{SendResolved: &no}},
				{Name: "heartbeat-ruler", Webhook: &v1alpha1.WebhookReceiver{SendResolved: &no}},
			}},
	})
	require.Equal(t, "mimir-ruler", p.Alerting.Watchdog.Ruler)
	route := dispatch.NewRoute(load(t, p).Route, nil)
	ruler := watchdog("infra")
	ruler[plan.WatchdogEvaluatorLabel] = "mimir-ruler"
	server := watchdog("infra")
	server["shard"] = "1"
	rm, sm := route.Match(ruler), route.Match(server)
	require.Len(t, rm, 1)
	require.Len(t, sm, 1)
	assert.Equal(t, "heartbeat-ruler", rm[0].RouteOpts.Receiver)
	assert.Equal(t, "heartbeat", sm[0].RouteOpts.Receiver)
	assert.NotEqual(t, rm[0].ID(), sm[0].ID(), "one route, hence one aggregation group, each")
	assert.Equal(t, 3*time.Minute, rm[0].RouteOpts.RepeatInterval, "at the same pace")

	one := plan.Resolve(&v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind, Metadata: v1alpha1.Metadata{Name: "am"},
		Monitoring: v1alpha1.Monitoring{Namespace: "obs"}})
	assert.Empty(t, one.Alerting.Watchdog.RulerReceiver, "one server, one evaluator, one heartbeat")
}

// sidecarServicePlan has one team service, shop/web, with an objective and
// no metrics port of its own: with metrics merging team-services scrapes
// it on its sidecar.
func sidecarServicePlan(t *testing.T) *plan.Plan {
	t.Helper()
	p := plan.Resolve(&v1alpha1.Profile{APIVersion: v1alpha1.APIVersion, Kind: v1alpha1.Kind, Metadata: v1alpha1.Metadata{Name: "am"},
		Mesh: v1alpha1.Mesh{MTLS: v1alpha1.MTLSPermissive},
		Teams: []v1alpha1.Team{{Name: "shop", Namespaces: []string{"shop"},
			Services: []v1alpha1.Service{{Name: "web", Namespace: "shop", Port: 8080, Selector: map[string]string{"app": "web"},
				SLOs: &v1alpha1.SLOs{Availability: &v1alpha1.AvailabilitySLO{Target: 99.9}}}}}}})
	require.Len(t, p.ServiceTargets, 1)
	return p
}

// TestTargetDownOfAServiceScrapedOnItsSidecarMutesItsIstioWarnings: with
// metrics merging a team service without a metrics port of its own is
// scraped on its sidecar's :15020 by team-services, under the job label
// <team>/<service>, and the proxies' job leaves its pods alone. When those
// targets are down, the Istio warnings of its namespace see partial data,
// as when the proxies' job is down.
func TestTargetDownOfAServiceScrapedOnItsSidecarMutesItsIstioWarnings(t *testing.T) {
	p := sidecarServicePlan(t)
	require.Equal(t, plan.PortMergedMetrics, p.ServiceTargets[0].Endpoint.Port, "the service is scraped on its sidecar")
	cfg := load(t, p)
	down := model.LabelSet{"alertname": "TargetDown", "job": model.LabelValue(p.ServiceTargets[0].Job), "namespace": "shop", "team": "shop", "severity": "warning"}
	errors := model.LabelSet{"alertname": "IstioHighErrorRate", "team": "shop", "namespace": "shop", "destination_workload_namespace": "shop",
		"destination_canonical_service": "web", "severity": "warning"}
	assert.True(t, muted(cfg, down, errors), "shop/web down mutes its Istio warnings")
	sibling := errors.Clone()
	sibling["destination_canonical_service"] = "cart"
	assert.False(t, muted(cfg, down, sibling), "not those of another service of its namespace, whose requests are all seen")
	other := errors.Clone()
	other["team"], other["namespace"], other["destination_workload_namespace"] = "search", "search", "search"
	assert.False(t, muted(cfg, down, other), "but not another namespace's")
	page := errors.Clone()
	page["alertname"], page["slo"], page["severity"] = "ErrorBudgetBurn", "availability", "critical"
	assert.False(t, muted(cfg, down, page), "nor a page")
}

// TestTheProxiesTargetDownLeavesServicesWithAJobOfTheirOwn: the proxies'
// job (istio-merged) drops the pods team-services scrapes on their
// sidecars, so its targets being down in a namespace blinds the other
// services there, not those: their request warnings read only their own
// job's series and must still go out.
func TestTheProxiesTargetDownLeavesServicesWithAJobOfTheirOwn(t *testing.T) {
	p := sidecarServicePlan(t)
	require.True(t, slices.ContainsFunc(p.Jobs, func(j plan.Job) bool { return j.Name == "istio-merged" }))
	cfg := load(t, p)
	down := model.LabelSet{"alertname": "TargetDown", "job": "istio-merged", "namespace": "shop", "team": "shop", "severity": "warning"}
	web := model.LabelSet{"alertname": "IstioHighErrorRate", "team": "shop", "namespace": "shop", "destination_workload_namespace": "shop",
		"destination_canonical_service": "web", "severity": "warning"}
	assert.False(t, muted(cfg, down, web), "web's requests come from shop/web's job, which is up")
	cart := web.Clone()
	cart["destination_canonical_service"] = "cart"
	assert.True(t, muted(cfg, down, cart), "cart's proxies are istio-merged's: its warnings see partial data")
	cert := model.LabelSet{"alertname": "IstioWorkloadCertificateExpiring", "team": "shop", "namespace": "shop", "pod": "web-1", "severity": "warning"}
	assert.False(t, muted(cfg, down, cert), "a certificate a pod's own series show expiring is never muted: missing data can only hide it")
}

// TestIstiodDownLeavesTheHealthyReplicasRootWarning: each istiod reports
// the expiry of its own root; with one replica of two down, TargetDown of
// istiod must not mute the warning the healthy one raises (Alertmanager's
// inhibition compares cluster only there).
func TestIstiodDownLeavesTheHealthyReplicasRootWarning(t *testing.T) {
	p := sidecarServicePlan(t)
	require.True(t, p.Mesh.IstiodCA())
	cfg := load(t, p)
	down := model.LabelSet{"alertname": "TargetDown", "job": "istiod", "namespace": "istio-system", "team": "platform", "severity": "warning"}
	root := model.LabelSet{"alertname": "IstioRootCertificateExpiring", "job": "istiod", "namespace": "istio-system", "pod": "istiod-2", "team": "platform", "severity": "warning"}
	assert.False(t, muted(cfg, down, root))
	push := model.LabelSet{"alertname": "IstiodXdsPushErrors", "team": "platform", "severity": "warning"}
	assert.True(t, muted(cfg, down, push), "a warning on istiod's partial data still is")
}
