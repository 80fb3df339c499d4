package v1alpha1

// Alerts is the profile's `alerting` section: the cluster-wide alerts'
// owner, the Alertmanager receivers and their integrations, the routing
// tree's grouping and timings, the Watchdog's route, and the knobs that
// change the generated alerts for every team. Teams refine them under
// teams[].alerting.
type Alerts struct {
	// PlatformTeam is the `team` label of the cluster-wide alerts: the
	// Istio control plane, the monitoring stack, and targets of platform
	// jobs (kubelet, kube-state-metrics, ...). A DNS-1123 label.
	PlatformTeam string `yaml:"platformTeam,omitempty" json:"platformTeam,omitempty" jsonschema:"default=platform"`
	// Receiver gets the platform team's alerts and every alert no team
	// route matches. Default: the platform team's name.
	Receiver string `yaml:"receiver,omitempty" json:"receiver,omitempty"`
	// SeverityReceivers override Receiver per severity for the platform
	// team, for example {critical: platform-pager}.
	SeverityReceivers map[string]string `yaml:"severityReceivers,omitempty" json:"severityReceivers,omitempty"`
	// GroupBy are the labels Alertmanager groups notifications by. Default:
	// [alertname, team, namespace, cluster], so a namespace-wide outage is
	// one notification per alert, not one per pod, and clusters sharing an
	// Alertmanager are never mixed in one notification.
	GroupBy []string `yaml:"groupBy,omitempty" json:"groupBy,omitempty" jsonschema:"uniqueItems=true"`
	// GroupWait is how long Alertmanager waits to batch a new group's first
	// notification.
	GroupWait string `yaml:"groupWait,omitempty" json:"groupWait,omitempty" jsonschema:"default=30s"`
	// GroupInterval is how long Alertmanager waits before notifying about
	// new alerts of a group it already notified.
	GroupInterval string `yaml:"groupInterval,omitempty" json:"groupInterval,omitempty" jsonschema:"default=5m"`
	// RepeatInterval is how long Alertmanager waits before repeating a
	// notification.
	RepeatInterval string `yaml:"repeatInterval,omitempty" json:"repeatInterval,omitempty" jsonschema:"default=4h"`
	// Labels are added to every generated alert.
	Labels map[string]string `yaml:"labels,omitempty" json:"labels,omitempty"`
	// Disable lists alerts (by name, e.g. CPUThrottlingHigh) and rule
	// groups (by name, e.g. obsgen-istio-control-plane) obsgen does not
	// generate.
	Disable []string `yaml:"disable,omitempty" json:"disable,omitempty" jsonschema:"uniqueItems=true"`
	// Overrides change an alert's threshold or `for`, by alert name, for
	// every team.
	Overrides map[string]AlertOverride `yaml:"overrides,omitempty" json:"overrides,omitempty"`
	// Receivers are the Alertmanager receivers and how each notifies: the
	// names teams[].alerting.receiver, severityReceivers, alerting.receiver
	// and alerting.watchdog.receiver route to. A routed receiver that is
	// not defined here, or has no integration, drops its notifications
	// (validate warns).
	Receivers []Receiver `yaml:"receivers,omitempty" json:"receivers,omitempty"`
	// Secret is the Kubernetes Secret, in Alertmanager's namespace, that
	// holds every credential of the receivers, one key per receiver and
	// integration (<receiver>.<integration>-<field>, such as
	// payments-pager.pagerduty-routing-key). Alertmanager reads each from a
	// file of the Secret mounted at /etc/alertmanager/secrets/<secret>/, where
	// the Prometheus Operator mounts an Alertmanager's spec.secrets; obsgen
	// never writes a credential.
	Secret string `yaml:"secret,omitempty" json:"secret,omitempty" jsonschema:"default=alertmanager-receivers"`
	// Watchdog routes the always-firing Watchdog alert (a dead man's
	// switch) to an external heartbeat service.
	Watchdog Watchdog `yaml:"watchdog,omitempty" json:"watchdog,omitempty"`
}

// Watchdog routes the Watchdog alert: it always fires while Prometheus,
// its rules and Alertmanager work, so a heartbeat service that stops
// hearing it can tell that alerting itself is broken.
type Watchdog struct {
	// Receiver gets the Watchdog alert, ahead of every team route. Point it
	// at a heartbeat service (a webhook to healthchecks.io or Dead Man's
	// Snitch, an Opsgenie heartbeat, ...), never at people: it notifies
	// every repeatInterval.
	Receiver string `yaml:"receiver,omitempty" json:"receiver,omitempty" jsonschema:"default=watchdog"`
	// RepeatInterval is how often the heartbeat is sent (a Prometheus
	// duration, at least 1m); the heartbeat service should expect one at
	// that period plus a minute of slack.
	RepeatInterval string `yaml:"repeatInterval,omitempty" json:"repeatInterval,omitempty" jsonschema:"default=5m"`
	// RulerReceiver gets the ruler's Watchdog when a ruler evaluates the
	// rules that need every series while the Prometheus servers evaluate
	// the others (monitoring.rules): the ruler's Watchdog carries
	// evaluator=<thanos-ruler|mimir-ruler>. Both ways to Alertmanager need
	// a heartbeat of their own: in one group the servers' Watchdog would
	// keep the heartbeat going while every alert of the ruler (the service
	// alerts and SLO pages) is lost, and the reverse.
	RulerReceiver string `yaml:"rulerReceiver,omitempty" json:"rulerReceiver,omitempty" jsonschema:"default=watchdog-ruler"`
}

// Receiver is one Alertmanager receiver and its integrations. Each
// integration reads its credential from the alerting.secret Secret's key
// <name>.<integration>-<field>.
type Receiver struct {
	// Name of the receiver, unique; letters, digits, '-' and '_' (it is
	// part of the Secret's keys).
	Name string `yaml:"name" json:"name" jsonschema:"required,pattern=^[A-Za-z0-9_-]+$"`
	// Slack posts to a Slack incoming webhook; its URL is the Secret key
	// <name>.slack-api-url (Alertmanager's api_url_file).
	Slack *SlackReceiver `yaml:"slack,omitempty" json:"slack,omitempty"`
	// PagerDuty opens incidents through PagerDuty's Events API v2; the
	// integration's routing key is the Secret key
	// <name>.pagerduty-routing-key (routing_key_file).
	PagerDuty *PagerDutyReceiver `yaml:"pagerduty,omitempty" json:"pagerduty,omitempty"`
	// Opsgenie creates Opsgenie alerts; the API key is the Secret key
	// <name>.opsgenie-api-key (api_key_file).
	Opsgenie *OpsgenieReceiver `yaml:"opsgenie,omitempty" json:"opsgenie,omitempty"`
	// Webhook POSTs Alertmanager's JSON payload to a URL, which is the
	// Secret key <name>.webhook-url (url_file): webhook URLs often carry a
	// token.
	Webhook *WebhookReceiver `yaml:"webhook,omitempty" json:"webhook,omitempty"`
	// Email sends mail through an SMTP smarthost; with authUsername, the
	// password is the Secret key <name>.email-auth-password
	// (auth_password_file).
	Email *EmailReceiver `yaml:"email,omitempty" json:"email,omitempty"`
	// MSTeams posts to a Microsoft Teams Workflows (Power Automate)
	// webhook, Alertmanager's msteamsv2_configs (Alertmanager 0.28 or
	// later; an older one refuses the whole configuration); its URL is the
	// Secret key <name>.msteams-webhook-url (webhook_url_file).
	MSTeams *MSTeamsReceiver `yaml:"msteams,omitempty" json:"msteams,omitempty"`
}

// Integrations counts the integrations the receiver sets; a receiver
// without any drops its notifications.
func (r Receiver) Integrations() int {
	n := 0
	for _, set := range []bool{r.Slack != nil, r.PagerDuty != nil, r.Opsgenie != nil, r.Webhook != nil, r.Email != nil, r.MSTeams != nil} {
		if set {
			n++
		}
	}
	return n
}

// SlackReceiver is a Slack integration.
type SlackReceiver struct {
	// Channel overrides the webhook's channel: #channel or @user.
	Channel string `yaml:"channel,omitempty" json:"channel,omitempty"`
	// SendResolved also notifies when alerts resolve. Default:
	// Alertmanager's, false for Slack.
	SendResolved *bool `yaml:"sendResolved,omitempty" json:"sendResolved,omitempty"`
}

// PagerDutyReceiver is a PagerDuty Events API v2 integration.
type PagerDutyReceiver struct {
	// URL of the Events API v2 endpoint. Default: Alertmanager's,
	// https://events.pagerduty.com/v2/enqueue; EU accounts use
	// https://events.eu.pagerduty.com/v2/enqueue.
	URL string `yaml:"url,omitempty" json:"url,omitempty"`
	// SendResolved resolves the incident when the alerts resolve.
	// Default: Alertmanager's, true for PagerDuty.
	SendResolved *bool `yaml:"sendResolved,omitempty" json:"sendResolved,omitempty"`
}

// OpsgenieReceiver is an Opsgenie integration.
type OpsgenieReceiver struct {
	// APIURL is Opsgenie's API. Default: Alertmanager's,
	// https://api.opsgenie.com/; EU accounts use https://api.eu.opsgenie.com/.
	APIURL string `yaml:"apiURL,omitempty" json:"apiURL,omitempty"`
	// SendResolved closes the Opsgenie alert when the alerts resolve.
	// Default: Alertmanager's, true for Opsgenie.
	SendResolved *bool `yaml:"sendResolved,omitempty" json:"sendResolved,omitempty"`
}

// WebhookReceiver is a generic webhook integration.
type WebhookReceiver struct {
	// SendResolved also posts when alerts resolve. Default:
	// Alertmanager's, true for webhooks; set it to false for a heartbeat
	// service, which would count a resolution as a heartbeat.
	SendResolved *bool `yaml:"sendResolved,omitempty" json:"sendResolved,omitempty"`
}

// EmailReceiver is an email integration.
type EmailReceiver struct {
	// To are the recipients' addresses.
	To []string `yaml:"to" json:"to" jsonschema:"required,minItems=1"`
	// From is the sender's address.
	From string `yaml:"from" json:"from" jsonschema:"required"`
	// Smarthost is the SMTP server, host:port, such as smtp.example.com:587.
	Smarthost string `yaml:"smarthost" json:"smarthost" jsonschema:"required"`
	// AuthUsername logs in to the smarthost; the password is then the
	// Secret key <receiver>.email-auth-password. Default: no login.
	AuthUsername string `yaml:"authUsername,omitempty" json:"authUsername,omitempty"`
	// RequireTLS refuses to send without STARTTLS. Default: Alertmanager's,
	// true.
	RequireTLS *bool `yaml:"requireTLS,omitempty" json:"requireTLS,omitempty"`
	// SendResolved also mails when alerts resolve. Default:
	// Alertmanager's, false for email.
	SendResolved *bool `yaml:"sendResolved,omitempty" json:"sendResolved,omitempty"`
}

// MSTeamsReceiver is a Microsoft Teams integration through a Workflows
// webhook (Alertmanager's msteamsv2_configs; Microsoft is retiring the
// Office 365 connectors the older msteams_configs post to).
type MSTeamsReceiver struct {
	// SendResolved also posts when alerts resolve. Default:
	// Alertmanager's, true for Teams.
	SendResolved *bool `yaml:"sendResolved,omitempty" json:"sendResolved,omitempty"`
}

// AlertOverride changes one alert.
type AlertOverride struct {
	// Threshold replaces the alert's threshold, in the unit of the
	// catalogue (docs/alerts.md): a percentage for TargetDown, CPUThrottlingHigh
	// and IstioHighErrorRate, milliseconds for IstioHighLatency.
	Threshold *float64 `yaml:"threshold,omitempty" json:"threshold,omitempty"`
	// For replaces how long the condition must hold before the alert
	// fires, a Prometheus duration such as 30m.
	For string `yaml:"for,omitempty" json:"for,omitempty"`
}
