package simcluster

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Target is an active target as /api/v1/targets reports it.
type Target struct {
	ScrapePool       string            `json:"scrapePool"`
	ScrapeURL        string            `json:"scrapeUrl"`
	Labels           map[string]string `json:"labels"`
	DiscoveredLabels map[string]string `json:"discoveredLabels"`
	// Health is "up", "down" or "unknown" (not scraped yet).
	Health     string    `json:"health"`
	LastError  string    `json:"lastError"`
	LastScrape time.Time `json:"lastScrape"`
}

// Job is the target's job label.
func (t Target) Job() string { return t.Labels["job"] }

// String renders the target as "JOB URL HEALTH label=value ..." with the
// labels other than job and instance, sorted, and the last error if any.
func (t Target) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", t.Job(), t.ScrapeURL, t.Health)
	for _, k := range slices.Sorted(maps.Keys(t.Labels)) {
		if k != "job" && k != "instance" {
			fmt.Fprintf(&b, " %s=%s", k, t.Labels[k])
		}
	}
	if t.LastError != "" {
		fmt.Fprintf(&b, " error=%q", t.LastError)
	}
	return b.String()
}

// Targets are Prometheus' active targets, sorted by job and URL, and the
// number of dropped targets.
type Targets struct {
	Active []Target
	// Dropped is the number of targets relabeling dropped, over all pools.
	Dropped int
	// DroppedByPool is the number of dropped targets per scrape pool.
	DroppedByPool map[string]int
}

// Job returns the active targets with the given job label.
func (ts Targets) Job(job string) []Target {
	var out []Target
	for _, t := range ts.Active {
		if t.Job() == job {
			out = append(out, t)
		}
	}
	return out
}

// Pool returns the active targets of a scrape pool (job_name).
func (ts Targets) Pool(pool string) []Target {
	var out []Target
	for _, t := range ts.Active {
		if t.ScrapePool == pool {
			out = append(out, t)
		}
	}
	return out
}

// Down returns the active targets whose last scrape failed.
func (ts Targets) Down() []Target {
	var out []Target
	for _, t := range ts.Active {
		if t.Health != "up" {
			out = append(out, t)
		}
	}
	return out
}

// Lines renders every active target with Target.String.
func (ts Targets) Lines() []string {
	out := make([]string, len(ts.Active))
	for i, t := range ts.Active {
		out[i] = t.String()
	}
	return out
}

// String renders every active target on its own line, then the dropped
// count.
func (ts Targets) String() string {
	return strings.Join(append(ts.Lines(), fmt.Sprintf("(%d dropped)", ts.Dropped)), "\n")
}

func (ts Targets) sort() {
	slices.SortFunc(ts.Active, func(a, b Target) int {
		return strings.Compare(a.Job()+" "+a.ScrapeURL, b.Job()+" "+b.ScrapeURL)
	})
}

// key identifies the set of active targets, ignoring scrape state.
func (ts Targets) key() string {
	var b strings.Builder
	for _, t := range ts.Active {
		fmt.Fprintf(&b, "%s %s %v\n", t.ScrapePool, t.ScrapeURL, t.Labels)
	}
	return b.String()
}

// allScraped says whether every active target has been scraped.
func (ts Targets) allScraped() bool {
	for _, t := range ts.Active {
		if t.LastScrape.IsZero() || t.Health == "unknown" {
			return false
		}
	}
	return true
}
