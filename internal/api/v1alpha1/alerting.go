package v1alpha1

// Alerts is the profile's `alerting` section: the cluster-wide alerts'
// owner and receivers, the Alertmanager routing tree's grouping and
// timings, and the knobs that change the generated alerts for every team.
// Teams refine them under teams[].alerting.
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
	// [alertname, team, namespace], so a namespace-wide outage is one
	// notification per alert, not one per pod.
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
}

// AlertOverride changes one alert.
type AlertOverride struct {
	// Threshold replaces the alert's threshold, in the unit of the
	// catalogue (README): a percentage for TargetDown, CPUThrottlingHigh
	// and IstioHighErrorRate, milliseconds for IstioHighLatency.
	Threshold *float64 `yaml:"threshold,omitempty" json:"threshold,omitempty"`
	// For replaces how long the condition must hold before the alert
	// fires, a Prometheus duration such as 30m.
	For string `yaml:"for,omitempty" json:"for,omitempty"`
}
