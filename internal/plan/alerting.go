package plan

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
)

// DefaultGroupBy are the labels Alertmanager groups by unless the profile
// says otherwise: one notification per alert, team and namespace, and per
// cluster, since alerts of several clusters may share one Alertmanager
// (every alert carries the `cluster` external label).
var DefaultGroupBy = []string{"alertname", "team", "namespace", ClusterLabel}

// SecretsDir is where the Prometheus Operator mounts each Secret an
// Alertmanager resource lists in spec.secrets, under a folder named after
// the Secret: "The Secrets are mounted into
// `/etc/alertmanager/secrets/<secret-name>` in the 'alertmanager'
// container" (prometheus-operator pkg/apis/monitoring/v1/alertmanager_types.go,
// AlertmanagerSpec.Secrets, v0.94.1). The raw flavour's pod patch mounts the
// Secret at the same path, so one alertmanager.yml fits both.
const SecretsDir = "/etc/alertmanager/secrets/"

// The Watchdog alert and its route. The alert always fires (the rules
// give it alertname="Watchdog", severity="none" and the platform team), so
// its route comes first: a team route would take it otherwise. Timings
// follow a heartbeat's needs (PromLabs, "End-to-End Watchdog Alerts":
// route it to an external service "with a repeat interval of only a few
// minutes"; kube-prometheus' alertmanager.libsonnet routes it first, to a
// receiver of its own): no group wait, so the first heartbeat leaves as
// soon as Alertmanager starts, and a one-minute group interval, the tick
// at which a due repeat is sent.
const (
	WatchdogAlert         = "Watchdog"
	WatchdogGroupWait     = "0s"
	WatchdogGroupInterval = "1m"
)

// Alerting is the resolved alerting section.
type Alerting struct {
	// PlatformTeam owns the cluster-wide alerts.
	PlatformTeam      string
	Receiver          string
	SeverityReceivers Labels
	GroupBy           []string
	GroupWait         string
	GroupInterval     string
	RepeatInterval    string
	// Labels are added to every alert.
	Labels Labels
	// Disabled holds the names of disabled alerts and rule groups.
	Disabled []string
	// Overrides change an alert (by name) for every team.
	Overrides map[string]Override
	// Secret is the Kubernetes Secret holding the receivers' credentials,
	// mounted at SecretDir.
	Secret    string
	SecretDir string
	// Receivers are the receivers the profile defines, sorted by name.
	Receivers []Receiver
	// Watchdog routes the always-firing Watchdog alert.
	Watchdog Watchdog
}

// Watchdog is the Watchdog alert's route.
type Watchdog struct {
	Receiver       string
	GroupWait      string
	GroupInterval  string
	RepeatInterval string
	// RulerReceiver gets the ruler's Watchdog, which carries
	// WatchdogEvaluatorLabel, when both a ruler and the servers evaluate
	// rules; "" otherwise (one evaluator, one heartbeat).
	RulerReceiver string
	// Ruler is that ruler's evaluator (thanos-ruler, mimir-ruler).
	Ruler string
}

// WatchdogEvaluatorLabel tells the ruler's Watchdog from the servers'.
const WatchdogEvaluatorLabel = "evaluator"

// Receiver is a receiver the profile defines, with its integrations (nil
// when absent). SendResolved and RequireTLS fields hold "true", "false",
// or "" for Alertmanager's default. The fields named in the comments below
// are Alertmanager v0.34.0's, as github.com/prometheus/alertmanager (the
// version in go.mod, which also checks the output) declares them; every
// integration has send_resolved (config/common/notifierconfig.go,
// NotifierConfig.VSendResolved).
type Receiver struct {
	Name      string
	Slack     *Slack
	PagerDuty *PagerDuty
	Opsgenie  *Opsgenie
	Webhook   *Webhook
	Email     *Email
	MSTeams   *MSTeams
}

// SecretFile is one key of the receivers' Secret and the file Alertmanager
// reads it from.
type SecretFile struct {
	Key  string
	Path string
}

// Slack posts to an incoming webhook read from APIURLFile: slack_configs
// (config/notifiers.go, SlackConfig).
type Slack struct {
	APIURLFile   SecretFile // api_url_file
	Channel      string     // channel
	SendResolved string
}

// PagerDuty sends Events API v2 events with the routing key in
// RoutingKeyFile: pagerduty_configs (notify/pagerduty/config.go,
// PagerdutyConfig; routing_key is Events API v2's, service_key v1's).
type PagerDuty struct {
	RoutingKeyFile SecretFile // routing_key_file
	URL            string     // url; "" keeps global.pagerduty_url
	SendResolved   string
}

// Opsgenie creates alerts with the API key in APIKeyFile: opsgenie_configs
// (notify/opsgenie/config.go, OpsGenieConfig).
type Opsgenie struct {
	APIKeyFile   SecretFile // api_key_file
	APIURL       string     // api_url; "" keeps global.opsgenie_api_url
	SendResolved string
}

// Webhook posts to the URL in URLFile: webhook_configs
// (notify/webhook/config.go, WebhookConfig).
type Webhook struct {
	URLFile      SecretFile // url_file
	SendResolved string
}

// Email mails To through Smarthost; AuthPasswordFile is set with
// AuthUsername: email_configs (config/notifiers.go, EmailConfig).
type Email struct {
	To               string      // to, an address list: comma-separated
	From             string      // from
	Smarthost        string      // smarthost, host:port
	AuthUsername     string      // auth_username
	AuthPasswordFile *SecretFile // auth_password_file
	RequireTLS       string      // require_tls
	SendResolved     string
}

// MSTeams posts to the Workflows webhook in WebhookURLFile:
// msteamsv2_configs (notify/msteamsv2/config.go, MSTeamsV2Config), which
// v0.34.0 has next to the older msteams_configs.
type MSTeams struct {
	WebhookURLFile SecretFile // webhook_url_file
	SendResolved   string
}

// The Secret keys' last part, per integration: the key is
// <receiver>.<field>. Receiver names hold no '.', so no two receivers'
// keys can meet.
const (
	KeySlackAPIURL       = "slack-api-url"
	KeyPagerDutyRouting  = "pagerduty-routing-key"
	KeyOpsgenieAPIKey    = "opsgenie-api-key"
	KeyWebhookURL        = "webhook-url"
	KeyEmailAuthPassword = "email-auth-password"
	KeyMSTeamsWebhookURL = "msteams-webhook-url"
	secretKeySeparator   = "."
)

// SecretKey is the key of the receivers' Secret that holds a receiver's
// credential for one integration field.
func SecretKey(receiver, field string) string { return receiver + secretKeySeparator + field }

// Integrations counts the receiver's integrations; a receiver without any
// drops its notifications.
func (r Receiver) Integrations() int { return len(r.integrations()) }

// integrations are the receiver's integrations, by Alertmanager's name.
func (r Receiver) integrations() []string {
	var out []string
	for _, i := range []struct {
		set  bool
		name string
	}{
		{r.Email != nil, "email"}, {r.MSTeams != nil, "msteamsv2"}, {r.Opsgenie != nil, "opsgenie"},
		{r.PagerDuty != nil, "pagerduty"}, {r.Slack != nil, "slack"}, {r.Webhook != nil, "webhook"},
	} {
		if i.set {
			out = append(out, i.name)
		}
	}
	return out
}

// SecretFiles are the Secret keys the receiver reads, sorted by key.
func (r Receiver) SecretFiles() []SecretFile {
	var out []SecretFile
	add := func(set bool, f func() SecretFile) {
		if set {
			out = append(out, f())
		}
	}
	add(r.Slack != nil, func() SecretFile { return r.Slack.APIURLFile })
	add(r.PagerDuty != nil, func() SecretFile { return r.PagerDuty.RoutingKeyFile })
	add(r.Opsgenie != nil, func() SecretFile { return r.Opsgenie.APIKeyFile })
	add(r.Webhook != nil, func() SecretFile { return r.Webhook.URLFile })
	add(r.Email != nil && r.Email.AuthPasswordFile != nil, func() SecretFile { return *r.Email.AuthPasswordFile })
	add(r.MSTeams != nil, func() SecretFile { return r.MSTeams.WebhookURLFile })
	slices.SortFunc(out, func(a, b SecretFile) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// ReceiverSecretFiles are the Secret keys a receiver of the profile reads,
// sorted, as the plan resolves them.
func ReceiverSecretFiles(r v1alpha1.Receiver, secret string) []SecretFile {
	return resolveReceiver(r, SecretsDir+secret+"/").SecretFiles()
}

// SecretFiles are every key the receivers' Secret must hold, sorted.
func (a Alerting) SecretFiles() []SecretFile {
	var out []SecretFile
	for _, r := range a.Receivers {
		out = append(out, r.SecretFiles()...)
	}
	slices.SortFunc(out, func(a, b SecretFile) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// SecretVolume names the volume of the receivers' Secret as the Prometheus
// Operator does: "Each Secret is added to the StatefulSet definition as a
// volume named `secret-<secret-name>`" (AlertmanagerSpec.Secrets, as
// SecretsDir).
func (a Alerting) SecretVolume() string { return "secret-" + a.Secret }

// Defined returns the receiver the profile defines under name.
func (a Alerting) Defined(name string) (Receiver, bool) {
	i := slices.IndexFunc(a.Receivers, func(r Receiver) bool { return r.Name == name })
	if i < 0 {
		return Receiver{}, false
	}
	return a.Receivers[i], true
}

// Override changes an alert's threshold (nil keeps it) or `for` ("" keeps
// it).
type Override struct {
	Threshold *float64
	For       string
}

func resolveAlerting(a v1alpha1.Alerts) Alerting {
	out := Alerting{
		PlatformTeam: a.PlatformTeam, Receiver: a.Receiver, SeverityReceivers: SortedLabels(a.SeverityReceivers),
		GroupBy: slices.Clone(a.GroupBy), GroupWait: a.GroupWait, GroupInterval: a.GroupInterval, RepeatInterval: a.RepeatInterval,
		Labels: SortedLabels(a.Labels), Disabled: sortedCopy(a.Disable), Overrides: overrides(a.Overrides),
		Secret: a.Secret, SecretDir: SecretsDir + a.Secret + "/",
		Watchdog: Watchdog{Receiver: a.Watchdog.Receiver, GroupWait: WatchdogGroupWait,
			GroupInterval: WatchdogGroupInterval, RepeatInterval: a.Watchdog.RepeatInterval},
	}
	if out.Receiver == "" {
		out.Receiver = out.PlatformTeam
	}
	if len(out.GroupBy) == 0 {
		out.GroupBy = slices.Clone(DefaultGroupBy)
	}
	for _, r := range a.Receivers {
		out.Receivers = append(out.Receivers, resolveReceiver(r, out.SecretDir))
	}
	slices.SortFunc(out.Receivers, func(a, b Receiver) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func resolveReceiver(r v1alpha1.Receiver, dir string) Receiver {
	file := func(field string) SecretFile {
		key := SecretKey(r.Name, field)
		return SecretFile{Key: key, Path: dir + key}
	}
	out := Receiver{Name: r.Name}
	if s := r.Slack; s != nil {
		out.Slack = &Slack{APIURLFile: file(KeySlackAPIURL), Channel: s.Channel, SendResolved: optionalBool(s.SendResolved)}
	}
	if pd := r.PagerDuty; pd != nil {
		out.PagerDuty = &PagerDuty{RoutingKeyFile: file(KeyPagerDutyRouting), URL: pd.URL, SendResolved: optionalBool(pd.SendResolved)}
	}
	if og := r.Opsgenie; og != nil {
		out.Opsgenie = &Opsgenie{APIKeyFile: file(KeyOpsgenieAPIKey), APIURL: og.APIURL, SendResolved: optionalBool(og.SendResolved)}
	}
	if w := r.Webhook; w != nil {
		out.Webhook = &Webhook{URLFile: file(KeyWebhookURL), SendResolved: optionalBool(w.SendResolved)}
	}
	if e := r.Email; e != nil {
		out.Email = resolveEmail(*e, file)
	}
	if t := r.MSTeams; t != nil {
		out.MSTeams = &MSTeams{WebhookURLFile: file(KeyMSTeamsWebhookURL), SendResolved: optionalBool(t.SendResolved)}
	}
	return out
}

func resolveEmail(e v1alpha1.EmailReceiver, file func(string) SecretFile) *Email {
	out := &Email{To: strings.Join(e.To, ", "), From: e.From, Smarthost: e.Smarthost,
		AuthUsername: e.AuthUsername, RequireTLS: optionalBool(e.RequireTLS), SendResolved: optionalBool(e.SendResolved)}
	if e.AuthUsername != "" {
		f := file(KeyEmailAuthPassword)
		out.AuthPasswordFile = &f
	}
	return out
}

// optionalBool renders an optional boolean: "" leaves Alertmanager's
// default.
func optionalBool(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

func overrides(in map[string]v1alpha1.AlertOverride) map[string]Override {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]Override, len(in))
	for _, name := range slices.Sorted(maps.Keys(in)) {
		o := in[name]
		out[name] = Override{Threshold: o.Threshold, For: o.For}
	}
	return out
}

// ReceiverRoute is one place the routing tree sends alerts to a receiver,
// with the profile field that names it, so a problem with the receiver
// can be reported there.
type ReceiverRoute struct {
	Receiver string
	// Source is the profile field naming the receiver, such as
	// teams[0].alerting.severityReceivers["critical"].
	Source string
	// What describes the alerts that reach it.
	What string
	// Default says where the name comes from when the profile does not
	// write it (such as "the team's name"); empty when it does.
	Default string
	// Watchdog tells that this is the Watchdog's route.
	Watchdog bool
}

// ReceiverRoutes lists, for a profile with its defaults applied, every
// route of the alertmanager.yml obsgen writes and the receiver it names:
// the Watchdog's, the platform route (the root's receiver too), each
// team's route and its severity routes. raw is the profile as written, to
// tell a defaulted name from a written one. With an agent the routes are
// the same: the ruler's alerts go to the Alertmanager they configure.
func ReceiverRoutes(p, raw *v1alpha1.Profile) []ReceiverRoute {
	a := p.Alerting
	out := []ReceiverRoute{
		{Receiver: a.Watchdog.Receiver, Source: "alerting.watchdog.receiver", Watchdog: true,
			What: "the " + WatchdogAlert + " alert (the dead man's switch)", Default: defaulted(raw.Alerting.Watchdog.Receiver, "the default")},
	}
	if r := resolveRules(p); r.TwoEvaluators() {
		out = append(out, ReceiverRoute{Receiver: a.Watchdog.RulerReceiver, Source: "alerting.watchdog.rulerReceiver", Watchdog: true,
			What: "the " + r.GlobalName() + "'s " + WatchdogAlert + " alert (its dead man's switch)", Default: defaulted(raw.Alerting.Watchdog.RulerReceiver, "the default")})
	}
	out = append(out, ReceiverRoute{Receiver: cmp.Or(a.Receiver, a.PlatformTeam), Source: "alerting.receiver", Default: defaulted(raw.Alerting.Receiver, "the platform team's name"),
		What: "the platform team's alerts and every alert no team route matches"})
	if !slices.ContainsFunc(p.Teams, func(t v1alpha1.Team) bool { return t.Name == a.PlatformTeam }) {
		out = append(out, severityRoutes("alerting", "the platform team", a.SeverityReceivers)...)
	}
	for i, t := range p.Teams {
		path := fmt.Sprintf("teams[%d].alerting", i)
		out = append(out, ReceiverRoute{Receiver: t.Alerting.Receiver, Source: path + ".receiver",
			What: "the alerts of team " + t.Name, Default: defaulted(raw.Teams[i].Alerting.Receiver, "the team's name")})
		out = append(out, severityRoutes(path, "team "+t.Name, t.Alerting.SeverityReceivers)...)
	}
	return out
}

func severityRoutes(path, whose string, receivers map[string]string) []ReceiverRoute {
	var out []ReceiverRoute
	for _, sev := range slices.Sorted(maps.Keys(receivers)) {
		out = append(out, ReceiverRoute{Receiver: receivers[sev], Source: fmt.Sprintf("%s.severityReceivers[%q]", path, sev),
			What: fmt.Sprintf("the %s alerts of %s", sev, whose)})
	}
	return out
}

// defaulted returns why when the profile leaves a name out.
func defaulted(written, why string) string {
	if written != "" {
		return ""
	}
	return why
}
