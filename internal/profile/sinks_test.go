package profile_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"obsgen.dev/obsgen/internal/profile"
)

// sinkProfile places a value in every field that reaches an interpreter;
// each case replaces one placeholder with a hostile value.
const sinkProfile = `apiVersion: obsgen.dev/v1alpha1
kind: Profile
metadata:
  name: sinks
cluster:
  name: "CLUSTER"
monitoring:
  runbookBaseURL: "RUNBOOK"
  prometheus:
    externalLabels:
      region: "EXTERNAL"
alerting:
  labels:
    env: "GLOBALLABEL"
teams:
  - name: a
    namespaces: [a]
    alerting:
      labels:
        owner: "TEAMLABEL"
    services:
      - {name: web, namespace: a, port: 8080, path: "PATH"}
dashboards:
  datasource:
    name: "DATASOURCE"
  platformFolder: "FOLDER"
  extraRows:
    - title: "ROWTITLE"
      panels:
        - {title: "PANELTITLE", queries: [{expr: "sum(rate(x_total[$__rate_interval]))"}]}
`

var sinkDefaults = map[string]string{
	"CLUSTER": "prod", "RUNBOOK": "https://runbooks.example.com/", "EXTERNAL": "eu",
	"GLOBALLABEL": "prod", "TEAMLABEL": "payments", "PATH": "/metrics",
	"DATASOURCE": "Prometheus", "FOLDER": "platform", "ROWTITLE": "Queues of $team", "PANELTITLE": "Depth in ${namespace}",
}

func sinkCase(placeholder, value string) []byte {
	text := sinkProfile
	for k, v := range sinkDefaults {
		if k == placeholder {
			v = value
		}
		text = strings.Replace(text, `"`+k+`"`, `'`+strings.ReplaceAll(v, "'", "''")+`'`, 1)
	}
	return []byte(text)
}

func TestTheSinkProfileIsValid(t *testing.T) {
	_, err := profile.Load("sinks.yaml", sinkCase("", ""))
	require.NoError(t, err, "the placeholders' defaults, which name allowed variables, are valid")
}

// Every user string that lands where something else interprets it is
// refused at its position, with the interpreter named.
func TestUserStringsThatAnInterpreterWouldExpandAreRefused(t *testing.T) {
	tests := map[string]struct {
		placeholder, value string
		want               string
	}{
		"a Prometheus template in a team's alert label": {
			placeholder: "TEAMLABEL", value: `{{ $labels.instance }}`,
			want: `sinks.yaml:20:16: teams[0].alerting.labels["owner"]: Prometheus expands {{ }} templates in alert labels`,
		},
		"a capture-group reference in a team's alert label (an alert relabel replacement)": {
			placeholder: "TEAMLABEL", value: `pay$1`,
			want: `sinks.yaml:20:16: teams[0].alerting.labels["owner"]: relabeling expands $1 and ${name} in the replacement it lands in (got "pay$1")`,
		},
		"a named reference in a team's alert label": {
			placeholder: "TEAMLABEL", value: `${team}`,
			want: `sinks.yaml:20:16: teams[0].alerting.labels["owner"]: relabeling expands $1 and ${name}`,
		},
		"a Prometheus template in a global alert label": {
			placeholder: "GLOBALLABEL", value: `{{ printf "x" }}`,
			want: `sinks.yaml:14:10: alerting.labels["env"]: Prometheus expands {{ }} templates in alert labels`,
		},
		"a Prometheus template in the runbook annotation's base URL": {
			placeholder: "RUNBOOK", value: `https://r.example.com/{{ .Value }}/`,
			want: `sinks.yaml:8:19: monitoring.runbookBaseURL: Prometheus expands {{ }} templates in the runbook_url annotation`,
		},
		"an environment reference in an external label": {
			placeholder: "EXTERNAL", value: `${HOSTNAME}`,
			want: `sinks.yaml:11:15: monitoring.prometheus.externalLabels["region"]: Prometheus expands $VAR and ${VAR} in external labels`,
		},
		"an environment reference in the cluster name (the cluster external label)": {
			placeholder: "CLUSTER", value: `prod-$USER`,
			want: `sinks.yaml:6:9: cluster.name: Prometheus expands $VAR and ${VAR} in external labels`,
		},
		"a capture-group reference in a metrics path (a relabel replacement)": {
			placeholder: "PATH", value: `/metrics$1`,
			want: `sinks.yaml:22:53: teams[0].services[0].path: relabeling expands $1 and ${name} in the replacement`,
		},
		"an unknown Grafana variable in a row title": {
			placeholder: "ROWTITLE", value: `Cost in $__user`,
			want: `sinks.yaml:28:14: dashboards.extraRows[0].title: Grafana interpolates "$__user" as a dashboard variable`,
		},
		"an old-style Grafana variable in a panel title": {
			placeholder: "PANELTITLE", value: `Depth [[team]]`,
			want: `sinks.yaml:30:19: dashboards.extraRows[0].panels[0].title: Grafana interpolates "[[" as a dashboard variable`,
		},
		"a Grafana variable in the datasource name": {
			placeholder: "DATASOURCE", value: `$datasource`,
			want: `sinks.yaml:25:11: dashboards.datasource.name: Grafana interpolates "$datasource" as a dashboard variable`,
		},
		"a Grafana variable in the platform folder": {
			placeholder: "FOLDER", value: `${team}`,
			want: `sinks.yaml:26:19: dashboards.platformFolder: Grafana interpolates "${team" as a dashboard variable`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := profile.Load("sinks.yaml", sinkCase(tc.placeholder, tc.value))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
