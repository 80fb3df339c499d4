package doctor

import (
	"encoding/json"
	"fmt"
	"net"
	"net/url"
)

// Targets are Prometheus' scrape targets, as its HTTP API returns them
// (GET /api/v1/targets; prometheus.io docs/prometheus/latest/querying/api,
// "Targets").
type Targets struct {
	Active  []ActiveTarget  `json:"activeTargets"`
	Dropped []DroppedTarget `json:"droppedTargets"`
	// DroppedCounts are the dropped targets per scrape pool; the list above
	// holds at most keep_dropped_targets of them (scrape/scrape.go), so a
	// pool may have dropped more than it lists (web/api/v1/api.go
	// TargetDiscovery.DroppedTargetCounts).
	DroppedCounts map[string]int `json:"droppedTargetCounts"`
}

// unlisted tells how many dropped targets of pool the list leaves out.
func (t *Targets) unlisted(pool string) int {
	listed := 0
	for _, d := range t.Dropped {
		if d.ScrapePool == pool {
			listed++
		}
	}
	return t.DroppedCounts[pool] - listed
}

// ActiveTarget is a target Prometheus scrapes.
type ActiveTarget struct {
	DiscoveredLabels map[string]string `json:"discoveredLabels"`
	Labels           map[string]string `json:"labels"`
	ScrapePool       string            `json:"scrapePool"`
	ScrapeURL        string            `json:"scrapeUrl"`
	LastError        string            `json:"lastError"`
	Health           string            `json:"health"`
}

// DroppedTarget is a discovered target the relabeling dropped.
type DroppedTarget struct {
	DiscoveredLabels map[string]string `json:"discoveredLabels"`
	ScrapePool       string            `json:"scrapePool"`
}

// ParseTargets reads the JSON of /api/v1/targets: the whole response
// ({"status":"success","data":{...}}) or its data object.
func ParseTargets(data []byte) (*Targets, error) {
	var envelope struct {
		Status    string          `json:"status"`
		Data      json.RawMessage `json:"data"`
		Error     string          `json:"error"`
		ErrorType string          `json:"errorType"`
	}
	if err := json.Unmarshal(data, &envelope); err != nil {
		return nil, fmt.Errorf("not the JSON of Prometheus' /api/v1/targets: %w", err)
	}
	body := data
	switch {
	case envelope.Status == "error":
		return nil, fmt.Errorf("Prometheus answered an error: %s: %s", envelope.ErrorType, envelope.Error)
	case envelope.Status != "":
		body = envelope.Data
	}
	var t Targets
	if err := json.Unmarshal(body, &t); err != nil {
		return nil, fmt.Errorf("not the JSON of Prometheus' /api/v1/targets: %w", err)
	}
	if t.Active == nil && t.Dropped == nil {
		var probe map[string]json.RawMessage
		if json.Unmarshal(body, &probe) != nil || (probe["activeTargets"] == nil && probe["droppedTargets"] == nil) {
			return nil, fmt.Errorf("not the JSON of Prometheus' /api/v1/targets: no activeTargets or droppedTargets")
		}
	}
	return &t, nil
}

// host is the address part of a scrape URL.
func (t ActiveTarget) host() (ip, port string) {
	u, err := url.Parse(t.ScrapeURL)
	if err != nil {
		return "", ""
	}
	ip, port, err = net.SplitHostPort(u.Host)
	if err != nil {
		return u.Hostname(), u.Port()
	}
	return ip, port
}
