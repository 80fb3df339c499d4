package rules

// File is one rule file, prometheus/rules/<Name>.yaml, and its groups.
type File struct {
	Name   string
	Groups []Group
}

// Group is one rule group.
type Group struct {
	Name  string
	Rules []Rule
}

// Rule is a recording rule (Record) or an alerting rule (Alert). Every
// alert carries a Test.
type Rule struct {
	Record      string
	Alert       string
	Expr        string
	For         string
	Labels      map[string]string
	Annotations map[string]string
	Test        *Test
	// Local tells that the rule reads single series, so any server that
	// holds them evaluates it right (a shard, see place.go); the others
	// need every series of the cluster.
	Local bool
	// Heartbeat marks the Watchdog, which runs on every evaluator.
	Heartbeat bool
	// OwnLink marks a Local alert on a server's own link to Alertmanager:
	// the server whose link is broken cannot send it. Where a ruler
	// evaluates too, the ruler evaluates it instead, over the series the
	// servers write to its store, and sends it by the ruler's own way
	// (place.go). With shards, the servers' Watchdog alerts share one
	// heartbeat, so a shard cut off from Alertmanager would otherwise go
	// unnoticed while its remote write still works.
	OwnLink bool
	// Presence marks an alert that fires on what some series show of
	// their own target (plaintext seen, a pod's own failures): targets of
	// its job being down can hide a finding, never make one, so TargetDown
	// does not mute it (JobDependents leaves it out).
	Presence bool
}

// Test is an alert's unit test: a case where it fires and one where it
// stays quiet, in promtool's test format.
type Test struct {
	Fire  Case
	Quiet Case
	// AlsoQuiet are further scenarios in which the alert must stay quiet.
	AlsoQuiet []Case
	// AlwaysFires marks the Watchdog, which has no quiet case.
	AlwaysFires bool
}

// Case is one scenario: input series (1m apart), the evaluation time, and
// for a firing case the labels of each expected alert beyond the rule's own
// labels (hand-worked from the expression).
type Case struct {
	Series []Series
	At     string
	Expect []map[string]string
}

// Series is an input series in promtool's expanding notation.
type Series struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

// The YAML shapes of a rule file and a promtool test file: what the writer
// (yaml.go) writes, and what the tests decode the files into.
type (
	ruleFile struct {
		Groups []groupYAML `yaml:"groups"`
	}
	groupYAML struct {
		Name  string     `yaml:"name"`
		Rules []ruleYAML `yaml:"rules"`
	}
	ruleYAML struct {
		Record      string            `yaml:"record,omitempty"`
		Alert       string            `yaml:"alert,omitempty"`
		Expr        string            `yaml:"expr"`
		For         string            `yaml:"for,omitempty"`
		Labels      map[string]string `yaml:"labels,omitempty"`
		Annotations map[string]string `yaml:"annotations,omitempty"`
	}
	testFile struct {
		RuleFiles          []string        `yaml:"rule_files"`
		EvaluationInterval string          `yaml:"evaluation_interval"`
		Tests              []testGroupYAML `yaml:"tests"`
	}
	testGroupYAML struct {
		Name        string          `yaml:"name"`
		Interval    string          `yaml:"interval"`
		InputSeries []Series        `yaml:"input_series"`
		AlertTests  []alertTestYAML `yaml:"alert_rule_test"`
	}
	alertTestYAML struct {
		EvalTime  string         `yaml:"eval_time"`
		AlertName string         `yaml:"alertname"`
		ExpAlerts []expAlertYAML `yaml:"exp_alerts"`
	}
	expAlertYAML struct {
		ExpLabels      map[string]string `yaml:"exp_labels"`
		ExpAnnotations map[string]string `yaml:"exp_annotations"`
	}
)
