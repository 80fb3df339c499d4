package grafana

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWithMatcherAddsTheClusterToEverySelector(t *testing.T) {
	m := labels.MustNewMatcher(labels.MatchEqual, clusterLabel, "$"+clusterVar)
	for name, tc := range map[string]struct{ in, want string }{
		"a rate over Grafana's interval": {
			in:   `sum by (response_code) (rate(istio_requests_total{reporter="destination", team="$team", destination_workload_namespace=~"$namespace"}[$__rate_interval]))`,
			want: `sum by (response_code) (rate(istio_requests_total{cluster="$cluster",destination_workload_namespace=~"$namespace",reporter="destination",team="$team"}[$__rate_interval]))`,
		},
		"both sides of a binary operation, a subquery and an offset": {
			in:   `max_over_time(up[1h:$__interval]) / up offset $__range`,
			want: `max_over_time(up{cluster="$cluster"}[1h:$__interval]) / up{cluster="$cluster"} offset $__range`,
		},
		"a number from a variable": {
			in: `topk($n, up)`, want: `topk($n, up{cluster="$cluster"})`,
		},
		"a selector that names the cluster keeps its own": {
			in:   `up{cluster="prod"} - on (job) up`,
			want: `up{cluster="prod"} - on (job) up{cluster="$cluster"}`,
		},
		"variables in strings stay text, label_replace's $1 too": {
			in:   `label_replace(up{job=~"${team}/.+"}, "w", "$1", "pod", "(.+)")`,
			want: `label_replace(up{cluster="$cluster",job=~"${team}/.+"}, "w", "$1", "pod", "(.+)")`,
		},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := withMatcher(tc.in, m)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	_, err := withMatcher(`sum by ($label) (up)`, m)
	assert.Error(t, err, "a variable where the parser takes no duration")
}
