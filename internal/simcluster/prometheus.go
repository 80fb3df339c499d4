package simcluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"obsgen.dev/obsgen/internal/testtools"
)

// Default timings of RunPrometheus.
const (
	// DefaultTimeout bounds starting Prometheus and waiting for its targets.
	DefaultTimeout = 60 * time.Second
	// DefaultSettle is how long the active targets must stay unchanged.
	DefaultSettle = 2 * time.Second
)

// Prometheus is a real Prometheus server started by StartPrometheus; it is
// killed at test cleanup.
type Prometheus struct {
	// URL is the server's base URL, http://127.0.0.1:PORT.
	URL string

	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
	err    error // the process's exit error, once exited is closed
	shown  bool  // the log is already in a failure message
}

// RunPrometheus starts Prometheus with config and returns its targets once
// they are stable and scraped (see WaitForTargets). It skips the test when
// the prometheus binary is missing (fails under CI=true).
func RunPrometheus(t testing.TB, config string) Targets {
	t.Helper()
	return StartPrometheus(t, config).WaitForTargets(t, DefaultTimeout, DefaultSettle)
}

// StartPrometheus starts the prometheus binary (testtools.Find) with config
// and waits until it is ready. The scrape manager applies discovered
// targets every 500ms instead of 5s. The log is reported when the test
// fails.
func StartPrometheus(t testing.TB, config string, args ...string) *Prometheus {
	t.Helper()
	return StartPrometheusWithFiles(t, config, nil, args...)
}

// StartPrometheusWithFiles is StartPrometheus with more files (rule files,
// by path relative to the configuration file) next to the configuration.
func StartPrometheusWithFiles(t testing.TB, config string, files map[string][]byte, args ...string) *Prometheus {
	t.Helper()
	bin := testtools.Find(t, "prometheus")
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(config), 0o600); err != nil {
		t.Fatalf("simcluster: write Prometheus configuration: %v", err)
	}
	for name, data := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("simcluster: %v", err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatalf("simcluster: write %s: %v", name, err)
		}
	}
	addr, err := freeAddr()
	if err != nil {
		t.Fatalf("simcluster: %v", err)
	}
	p := &Prometheus{URL: "http://" + addr, out: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"--config.file=" + cfgFile,
		storageFlag(args) + "=" + filepath.Join(dir, "data"), "--web.listen-address=" + addr,
		"--scrape.discovery-reload-interval=500ms"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("simcluster: start %s: %v", bin, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.stop(t) })
	if err := p.waitReady(DefaultTimeout); err != nil {
		p.shown = true
		t.Fatalf("simcluster: %v\nPrometheus log:\n%s", err, p.Log())
	}
	return p
}

// stop kills the process and reports its log if the test failed.
func (p *Prometheus) stop(t testing.TB) {
	_ = p.cmd.Process.Kill()
	<-p.exited
	if t.Failed() && !p.shown {
		t.Logf("Prometheus log:\n%s", tail(p.Log(), 200))
	}
}

// Log is everything Prometheus has logged so far.
func (p *Prometheus) Log() string { return p.out.String() }

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitReady polls /-/ready.
func (p *Prometheus) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(p.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.exited:
			return fmt.Errorf("prometheus exited before it was ready: %v", p.err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("prometheus not ready after %s", timeout)
		}
	}
}

// WaitForTargets polls /api/v1/targets until the active targets (scrape
// pool, URL and labels) have not changed for settle and every one has been
// scraped at least once, and returns them. It fails the test after timeout.
func (p *Prometheus) WaitForTargets(t testing.TB, timeout, settle time.Duration) Targets {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last Targets
	var lastKey string
	var since time.Time
	for {
		ts, err := p.Targets(context.Background())
		if err == nil {
			if key := ts.key(); key != lastKey || since.IsZero() {
				lastKey, since = key, time.Now()
			}
			last = ts
			if ts.allScraped() && time.Since(since) >= settle {
				return ts
			}
		}
		select {
		case <-p.exited:
			p.shown = true
			t.Fatalf("simcluster: prometheus exited: %v\nPrometheus log:\n%s", p.err, tail(p.Log(), 100))
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("simcluster: targets not stable and scraped after %s (last error: %v); last targets:\n%s",
				timeout, err, last)
		}
	}
}

// targetsResponse is the body of /api/v1/targets.
type targetsResponse struct {
	Status string `json:"status"`
	Data   struct {
		ActiveTargets       []Target       `json:"activeTargets"`
		DroppedTargetCounts map[string]int `json:"droppedTargetCounts"`
	} `json:"data"`
}

// Targets fetches the current targets once.
func (p *Prometheus) Targets(ctx context.Context) (Targets, error) {
	var body targetsResponse
	if err := p.getJSON(ctx, "/api/v1/targets?state=any", &body); err != nil {
		return Targets{}, err
	}
	ts := Targets{Active: body.Data.ActiveTargets, DroppedByPool: body.Data.DroppedTargetCounts}
	for _, n := range ts.DroppedByPool {
		ts.Dropped += n
	}
	ts.sort()
	return ts, nil
}

// RuleGroup is a rule group as Prometheus' /api/v1/rules reports it.
type RuleGroup struct {
	Name  string `json:"name"`
	File  string `json:"file"`
	Rules []struct {
		Name           string    `json:"name"`
		Type           string    `json:"type"`
		Health         string    `json:"health"`
		LastError      string    `json:"lastError"`
		LastEvaluation time.Time `json:"lastEvaluation"`
	} `json:"rules"`
}

// Rules fetches the loaded rule groups.
func (p *Prometheus) Rules(ctx context.Context) ([]RuleGroup, error) {
	var body struct {
		Data struct {
			Groups []RuleGroup `json:"groups"`
		} `json:"data"`
	}
	if err := p.getJSON(ctx, "/api/v1/rules", &body); err != nil {
		return nil, err
	}
	return body.Data.Groups, nil
}

// Query evaluates an instant PromQL query.
func (p *Prometheus) Query(ctx context.Context, expr string) (model.Vector, error) {
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string       `json:"resultType"`
			Result     model.Vector `json:"result"`
		} `json:"data"`
	}
	if err := p.getJSON(ctx, "/api/v1/query?query="+url.QueryEscape(expr), &body); err != nil {
		return nil, err
	}
	if body.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %q: result type %q, want vector", expr, body.Data.ResultType)
	}
	return body.Data.Result, nil
}

func (p *Prometheus) getJSON(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+path, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: decode: %w", path, err)
	}
	return nil
}

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends to the buffer.
func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns the buffer's contents.
func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... %d lines before", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// storageFlag picks the storage path flag: agent mode refuses the server's.
func storageFlag(args []string) string {
	if slices.Contains(args, "--agent") {
		return "--storage.agent.path"
	}
	return "--storage.tsdb.path"
}
