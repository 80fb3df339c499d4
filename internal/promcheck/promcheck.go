// Package promcheck checks rendered Prometheus configuration at generate
// time, strictly and cheaply. Prometheus' own loader (config.Load with
// every service discovery registered) links the cloud SDKs of remote
// write's sigv4, Azure AD and Google IAM authentication and of the
// discoveries, and client-go: most of a binary that only needs to read
// YAML. obsgen-verify and the tests run that loader on every generated
// configuration; this package checks what templates get wrong:
//
//   - a strict decode (go.yaml.in/yaml/v2, as Prometheus decodes) into
//     the settings obsgen's templates write, with the upstream types where
//     they are light: relabel.Config for every relabeling (so regular
//     expressions, actions, hashmod and target labels are checked by
//     Prometheus' code), common/config's HTTPClientConfig (authorization,
//     TLS) and URL, common/model durations;
//   - every other key must be a setting Prometheus knows at that place (a
//     template override may add one: its value is left to obsgen-verify),
//     so a misspelt field still fails;
//   - the checks config.Load makes on what obsgen writes: job names set and
//     unique, scrape_timeout within scrape_interval, external labels, rule
//     file patterns, remote write URLs, names, headers and queues, static
//     targets that are not URLs, Kubernetes discovery roles, and in agent
//     mode no rules, alerting or remote read.
package promcheck

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/relabel"
	"go.yaml.in/yaml/v2"
)

// Config checks a prometheus.yml; agent applies the restrictions of
// prometheus --agent.
func Config(data []byte, agent bool) error {
	var c config
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return err
	}
	return c.check(agent)
}

// Job is a scrape job as the configuration writes it: what the Prometheus
// Operator flavour's resources copy.
type Job struct {
	Name                 string
	MetricsPath          string // as Prometheus reads it: /metrics when left out, "" when written empty or null
	Scheme               string // as Prometheus reads it: http when left out, "" when written empty or null
	HonorLabels          bool
	RelabelConfigs       []Relabeling
	MetricRelabelConfigs []Relabeling
}

// Relabeling is a relabel_configs entry as written: Separator, Regex and
// Replacement are nil, and Action empty, where the entry leaves them out
// (an operator resource leaves them out too, and the operator's defaults
// are Prometheus'); a null is written as "". Action is the action as
// Prometheus reads it, in lower case (relabel.Action's UnmarshalYAML).
type Relabeling struct {
	SourceLabels []model.LabelName
	Separator    *string
	TargetLabel  string
	Regex        *string
	Modulus      uint64
	Replacement  *string
	Action       string
}

// Check is Config that also returns the scrape jobs as written, in order:
// whoever copies them reads the configuration Config checked, once.
func Check(data []byte, agent bool) ([]Job, error) {
	c, err := Read(data, agent)
	if err != nil {
		return nil, err
	}
	return c.Jobs, nil
}

// Checked is what the operator flavour copies from a configuration: its
// scrape jobs, in order, and alerting.alert_relabel_configs, as written.
type Checked struct {
	Jobs             []Job
	AlertRelabelings []Relabeling
}

// Read is Config that returns what Checked holds.
func Read(data []byte, agent bool) (*Checked, error) {
	var c config
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, err
	}
	if err := c.check(agent); err != nil {
		return nil, err
	}
	out := &Checked{Jobs: make([]Job, len(c.ScrapeConfigs))}
	for i, sc := range c.ScrapeConfigs {
		out.Jobs[i] = Job{Name: sc.JobName, MetricsPath: sc.MetricsPath, Scheme: sc.Scheme,
			HonorLabels: sc.HonorLabels, RelabelConfigs: written(sc.RelabelConfigs), MetricRelabelConfigs: written(sc.MetricRelabelConfigs)}
	}
	if c.Alerting != nil {
		out.AlertRelabelings = written(c.Alerting.AlertRelabelConfigs)
	}
	return out, nil
}

func written(list []*relabelConfig) []Relabeling {
	out := make([]Relabeling, len(list))
	for i, rc := range list {
		out[i] = rc.written
	}
	return out
}

// ScrapeConfigs checks a YAML list of scrape configs, as the Prometheus
// Operator's additionalScrapeConfigs or a scrape_config_files file holds
// them, with the default global settings.
func ScrapeConfigs(data []byte) error {
	var list []*scrapeConfig
	if err := yaml.UnmarshalStrict(data, &list); err != nil {
		return err
	}
	return checkScrapeConfigs(list, defaultGlobal())
}

type config struct {
	Global        *global         `yaml:"global"`
	RuleFiles     []string        `yaml:"rule_files"`
	Alerting      *alerting       `yaml:"alerting"`
	RemoteWrite   []*remoteWrite  `yaml:"remote_write"`
	ScrapeConfigs []*scrapeConfig `yaml:"scrape_configs"`
	Other         map[string]any  `yaml:",inline"`
}

type global struct {
	ScrapeInterval     model.Duration    `yaml:"scrape_interval"`
	ScrapeTimeout      model.Duration    `yaml:"scrape_timeout"`
	EvaluationInterval model.Duration    `yaml:"evaluation_interval"`
	ExternalLabels     map[string]string `yaml:"external_labels"`
	Other              map[string]any    `yaml:",inline"`
}

type alerting struct {
	AlertRelabelConfigs []*relabelConfig        `yaml:"alert_relabel_configs"`
	Alertmanagers       []*alertmanagerEndpoint `yaml:"alertmanagers"`
}

type alertmanagerEndpoint struct {
	KubernetesSDConfigs []*kubernetesSD            `yaml:"kubernetes_sd_configs"`
	StaticConfigs       []*staticConfig            `yaml:"static_configs"`
	RelabelConfigs      []*relabelConfig           `yaml:"relabel_configs"`
	AlertRelabelConfigs []*relabelConfig           `yaml:"alert_relabel_configs"`
	HTTPClientConfig    commoncfg.HTTPClientConfig `yaml:",inline"`
	Other               map[string]any             `yaml:",inline"`
}

type remoteWrite struct {
	Name                string                     `yaml:"name"`
	URL                 *commoncfg.URL             `yaml:"url"`
	Headers             map[string]string          `yaml:"headers"`
	QueueConfig         *queueConfig               `yaml:"queue_config"`
	WriteRelabelConfigs []*relabelConfig           `yaml:"write_relabel_configs"`
	HTTPClientConfig    commoncfg.HTTPClientConfig `yaml:",inline"`
	Other               map[string]any             `yaml:",inline"`
}

// queueConfig is Prometheus' QueueConfig, every field.
type queueConfig struct {
	Capacity          int            `yaml:"capacity"`
	MaxShards         int            `yaml:"max_shards"`
	MinShards         int            `yaml:"min_shards"`
	MaxSamplesPerSend int            `yaml:"max_samples_per_send"`
	BatchSendDeadline model.Duration `yaml:"batch_send_deadline"`
	MinBackoff        model.Duration `yaml:"min_backoff"`
	MaxBackoff        model.Duration `yaml:"max_backoff"`
	RetryOnRateLimit  bool           `yaml:"retry_on_http_429"`
	SampleAgeLimit    model.Duration `yaml:"sample_age_limit"`
}

type scrapeConfig struct {
	JobName              string                     `yaml:"job_name"`
	Scheme               string                     `yaml:"scheme"`
	MetricsPath          string                     `yaml:"metrics_path"`
	HonorLabels          bool                       `yaml:"honor_labels"`
	Params               url.Values                 `yaml:"params"`
	ScrapeInterval       model.Duration             `yaml:"scrape_interval"`
	ScrapeTimeout        model.Duration             `yaml:"scrape_timeout"`
	KubernetesSDConfigs  []*kubernetesSD            `yaml:"kubernetes_sd_configs"`
	StaticConfigs        []*staticConfig            `yaml:"static_configs"`
	RelabelConfigs       []*relabelConfig           `yaml:"relabel_configs"`
	MetricRelabelConfigs []*relabelConfig           `yaml:"metric_relabel_configs"`
	HTTPClientConfig     commoncfg.HTTPClientConfig `yaml:",inline"`
	Other                map[string]any             `yaml:",inline"`
}

type kubernetesSD struct {
	Role       string                     `yaml:"role"`
	Namespaces *namespaceDiscovery        `yaml:"namespaces"`
	HTTPConfig commoncfg.HTTPClientConfig `yaml:",inline"`
	Other      map[string]any             `yaml:",inline"`
}

type namespaceDiscovery struct {
	IncludeOwnNamespace bool     `yaml:"own_namespace"`
	Names               []string `yaml:"names"`
}

type staticConfig struct {
	Targets []string          `yaml:"targets"`
	Labels  map[string]string `yaml:"labels"`
}

// Prometheus' defaults (config.DefaultGlobalConfig, DefaultQueueConfig in
// prometheus/config/config.go).
func defaultGlobal() global {
	return global{ScrapeInterval: model.Duration(time.Minute), ScrapeTimeout: model.Duration(10 * time.Second)}
}

var defaultQueue = queueConfig{MaxShards: 50, MinShards: 1, MaxSamplesPerSend: 2000, Capacity: 10000,
	BatchSendDeadline: model.Duration(5 * time.Second), MinBackoff: model.Duration(30 * time.Millisecond), MaxBackoff: model.Duration(5 * time.Second)}

// patRulePath is config.go's pattern for rule_files.
var patRulePath = regexp.MustCompile(`^[^*]*(\*[^/]*)?$`)

func (c *config) check(agent bool) error {
	if err := known(c.Other, topLevelSettings, "the configuration"); err != nil {
		return err
	}
	g, err := c.global()
	if err != nil {
		return err
	}
	for _, rf := range c.RuleFiles {
		if !patRulePath.MatchString(rf) {
			return fmt.Errorf("invalid rule file path %q", rf)
		}
	}
	if err := checkScrapeConfigs(c.ScrapeConfigs, g); err != nil {
		return err
	}
	if err := c.Alerting.check(); err != nil {
		return err
	}
	if err := checkRemoteWrites(c.RemoteWrite); err != nil {
		return err
	}
	if agent {
		return c.agentProblem()
	}
	return nil
}

// global applies the defaults and checks the global section as
// GlobalConfig.UnmarshalYAML does.
func (c *config) global() (global, error) {
	g := defaultGlobal()
	if c.Global == nil {
		return g, nil
	}
	if err := known(c.Global.Other, globalSettings, "global"); err != nil {
		return g, err
	}
	for name, value := range c.Global.ExternalLabels {
		if !model.UTF8Validation.IsValidLabelName(name) {
			return g, fmt.Errorf("%q is not a valid label name", name)
		}
		if !model.LabelValue(value).IsValid() {
			return g, fmt.Errorf("%q is not a valid label value", value)
		}
	}
	if c.Global.ScrapeInterval != 0 {
		g.ScrapeInterval = c.Global.ScrapeInterval
	}
	if c.Global.ScrapeTimeout > g.ScrapeInterval {
		return g, errors.New("global scrape timeout greater than scrape interval")
	}
	g.ScrapeTimeout = min(g.ScrapeTimeout, g.ScrapeInterval)
	if c.Global.ScrapeTimeout != 0 {
		g.ScrapeTimeout = c.Global.ScrapeTimeout
	}
	return g, nil
}

// agentProblem applies the checks prometheus --agent adds (config.LoadFile
// with agentMode).
func (c *config) agentProblem() error {
	switch {
	case c.Alerting != nil && (len(c.Alerting.Alertmanagers) > 0 || len(c.Alerting.AlertRelabelConfigs) > 0):
		return errors.New("field alerting is not allowed in agent mode")
	case len(c.RuleFiles) > 0:
		return errors.New("field rule_files is not allowed in agent mode")
	case c.Other["remote_read"] != nil:
		return errors.New("field remote_read is not allowed in agent mode")
	}
	return nil
}

func checkScrapeConfigs(list []*scrapeConfig, g global) error {
	jobs := map[string]bool{}
	for i, sc := range list {
		if sc == nil {
			return errors.New("empty or null scrape config section")
		}
		if err := sc.check(g); err != nil {
			if sc.JobName == "" {
				return fmt.Errorf("scrape_configs[%d]: %w", i, err)
			}
			return fmt.Errorf("scrape config with job name %q: %w", sc.JobName, err)
		}
		if jobs[sc.JobName] {
			return fmt.Errorf("found multiple scrape configs with job name %q", sc.JobName)
		}
		jobs[sc.JobName] = true
	}
	return nil
}

// UnmarshalYAML starts from Prometheus' defaults for the settings Check
// returns (config.DefaultScrapeConfig), as ScrapeConfig.UnmarshalYAML
// does: a setting left out keeps its default, one written empty or null
// reads as "".
func (sc *scrapeConfig) UnmarshalYAML(unmarshal func(any) error) error {
	type plain scrapeConfig
	*sc = scrapeConfig{MetricsPath: "/metrics", Scheme: "http"}
	return unmarshal((*plain)(sc))
}

// check is ScrapeConfig.UnmarshalYAML and Validate on what obsgen writes.
func (sc *scrapeConfig) check(g global) error {
	if sc.JobName == "" {
		return errors.New("job_name is empty")
	}
	if err := known(sc.Other, scrapeSettings, "a scrape config"); err != nil {
		return err
	}
	if err := sc.HTTPClientConfig.Validate(); err != nil {
		return err
	}
	interval := cmpOr(sc.ScrapeInterval, g.ScrapeInterval)
	if sc.ScrapeTimeout > interval {
		return errors.New("scrape timeout greater than scrape interval")
	}
	if err := checkDiscovery(sc.KubernetesSDConfigs, sc.StaticConfigs, sc.RelabelConfigs); err != nil {
		return err
	}
	return checkRelabel(sc.RelabelConfigs, sc.MetricRelabelConfigs)
}

func (a *alerting) check() error {
	if a == nil {
		return nil
	}
	if err := checkRelabel(a.AlertRelabelConfigs); err != nil {
		return err
	}
	for _, am := range a.Alertmanagers {
		if am == nil {
			return errors.New("empty or null alertmanager config")
		}
		if err := known(am.Other, alertmanagerSettings, "an alertmanager config"); err != nil {
			return err
		}
		if err := am.HTTPClientConfig.Validate(); err != nil {
			return err
		}
		if err := checkDiscovery(am.KubernetesSDConfigs, am.StaticConfigs, am.RelabelConfigs); err != nil {
			return err
		}
		if err := checkRelabel(am.RelabelConfigs, am.AlertRelabelConfigs); err != nil {
			return err
		}
	}
	return nil
}

// checkDiscovery checks the Kubernetes discoveries (their role, as
// discovery/kubernetes reads it) and, without relabeling, that static
// targets are addresses, not URLs (config.go checkStaticTargets).
func checkDiscovery(k8s []*kubernetesSD, static []*staticConfig, relabeling []*relabelConfig) error {
	for _, sd := range k8s {
		if sd == nil {
			return errors.New("empty or null kubernetes_sd_configs entry")
		}
		if err := known(sd.Other, kubernetesSDSettings, "kubernetes_sd_configs"); err != nil {
			return err
		}
		switch sd.Role {
		case "":
			return errors.New("role missing (one of: pod, service, endpoints, endpointslice, node, ingress)")
		case "pod", "service", "endpoints", "endpointslice", "node", "ingress":
		default:
			return fmt.Errorf("unknown Kubernetes SD role %q", sd.Role)
		}
		if err := sd.HTTPConfig.Validate(); err != nil {
			return err
		}
	}
	if len(relabeling) > 0 {
		return nil
	}
	for _, s := range static {
		for _, t := range s.Targets {
			if strings.Contains(t, "/") {
				return fmt.Errorf("%q is not a valid hostname", t)
			}
		}
	}
	return nil
}

// checkRelabel validates relabel configs as Prometheus does, with UTF-8
// label names (its default).
func checkRelabel(lists ...[]*relabelConfig) error {
	for _, list := range lists {
		for _, rc := range list {
			if rc == nil {
				return errors.New("empty or null relabeling rule")
			}
			if err := rc.Config.Validate(model.UTF8Validation); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkRemoteWrites(list []*remoteWrite) error {
	names := map[string]bool{}
	for _, rw := range list {
		if rw == nil {
			return errors.New("empty or null remote write config section")
		}
		if err := rw.check(); err != nil {
			return fmt.Errorf("remote_write %q: %w", rw.Name, err)
		}
		if names[rw.Name] && rw.Name != "" {
			return fmt.Errorf("found multiple remote write configs with job name %q", rw.Name)
		}
		names[rw.Name] = true
	}
	return nil
}

// check is RemoteWriteConfig.UnmarshalYAML and Validate on what obsgen
// writes.
func (rw *remoteWrite) check() error {
	if err := known(rw.Other, remoteWriteSettings, "a remote_write config"); err != nil {
		return err
	}
	if rw.URL == nil || rw.URL.URL == nil {
		return errors.New("url for remote_write is empty")
	}
	for header := range rw.Headers {
		h := strings.ToLower(header)
		if h == "authorization" {
			return errors.New("authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter")
		}
		if slices.Contains(reservedHeaders, h) {
			return fmt.Errorf("%s is a reserved header. It must not be changed", header)
		}
	}
	if err := rw.HTTPClientConfig.Validate(); err != nil {
		return err
	}
	if err := rw.queue().check(); err != nil {
		return err
	}
	return checkRelabel(rw.WriteRelabelConfigs)
}

// queue fills the defaults Prometheus starts a queue_config from.
func (rw *remoteWrite) queue() queueConfig {
	q := defaultQueue
	if rw.QueueConfig == nil {
		return q
	}
	in := *rw.QueueConfig
	q.Capacity, q.MaxShards, q.MinShards = cmpOr(in.Capacity, q.Capacity), cmpOr(in.MaxShards, q.MaxShards), cmpOr(in.MinShards, q.MinShards)
	q.MaxSamplesPerSend = cmpOr(in.MaxSamplesPerSend, q.MaxSamplesPerSend)
	q.MinBackoff, q.MaxBackoff = cmpOr(in.MinBackoff, q.MinBackoff), cmpOr(in.MaxBackoff, q.MaxBackoff)
	return q
}

// check is QueueConfig.Validate.
func (q queueConfig) check() error {
	switch {
	case q.MaxShards <= 0:
		return errors.New("remote write queue max_shards must be positive")
	case q.MinShards <= 0:
		return errors.New("remote write queue min_shards must be positive")
	case q.MinShards > q.MaxShards:
		return errors.New("remote write queue min_shards must not be greater than max_shards")
	case q.MaxSamplesPerSend <= 0:
		return errors.New("remote write queue max_samples_per_send must be positive")
	case q.Capacity <= 0:
		return errors.New("remote write queue capacity must be positive")
	case q.MaxBackoff < q.MinBackoff:
		return errors.New("remote write queue max_backoff must not be less than min_backoff")
	}
	return nil
}

// cmpOr is cmp.Or for values whose zero means "not set"; a negative value
// is kept, so the checks above see it.
func cmpOr[T int | model.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}

// known fails on a key that is not a Prometheus setting at that place.
func known(other map[string]any, settings []string, where string) error {
	for _, key := range sortedKeys(other) {
		if !slices.Contains(settings, key) {
			return fmt.Errorf("field %s not found in %s (not a Prometheus setting)", key, where)
		}
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// relabelConfig is relabel.Config decoded as its UnmarshalYAML decodes it,
// except that a written regular expression is only checked, not compiled
// (checkRegexp): Validate reads the Regex only to tell a written one from
// relabel.DefaultRelabelConfig.Regex, so every written one gets the same
// stand-in (writtenRegexp). A configuration of thousands of teams holds
// tens of thousands of distinct expressions, and compiling each was half
// the check's time (and kept a few KiB each). written is the entry as
// written.
type relabelConfig struct {
	relabel.Config
	written Relabeling
}

// relabelFields are relabel.Config's YAML fields, with the settings whose
// absence the operator flavour must tell as text
// (TestRelabelFieldsMatchUpstream keeps them in step).
type relabelFields struct {
	SourceLabels model.LabelNames `yaml:"source_labels,flow,omitempty"`
	Separator    *writtenText     `yaml:"separator"`
	Regex        *writtenText     `yaml:"regex,omitempty"`
	Modulus      uint64           `yaml:"modulus,omitempty"`
	TargetLabel  string           `yaml:"target_label,omitempty"`
	Replacement  *writtenText     `yaml:"replacement"`
	Action       *writtenText     `yaml:"action,omitempty"`
}

// writtenText is a setting as written; set tells it was there. Decoded
// into a field that starts as &writtenText{}, it leaves nil for a null,
// which relabel.Config's string fields read as "".
type writtenText struct {
	set  bool
	text string
}

func (w *writtenText) UnmarshalYAML(unmarshal func(any) error) error {
	w.set = true
	return unmarshal(&w.text)
}

// value is the setting's value for relabel.Config (def when left out), and
// as written (nil when left out).
func (w *writtenText) value(def string) (string, *string) {
	switch {
	case w == nil:
		v := ""
		return "", &v
	case w.set:
		v := w.text
		return v, &v
	}
	return def, nil
}

func (c *relabelConfig) UnmarshalYAML(unmarshal func(any) error) error {
	d := relabel.DefaultRelabelConfig
	f := relabelFields{Separator: &writtenText{}, Regex: &writtenText{}, Modulus: d.Modulus,
		TargetLabel: d.TargetLabel, Replacement: &writtenText{}, Action: &writtenText{}}
	if err := unmarshal(&f); err != nil {
		return err
	}
	sep, writtenSep := f.Separator.value(d.Separator)
	repl, writtenRepl := f.Replacement.value(d.Replacement)
	action, writtenAction := f.Action.value(string(d.Action))
	_, writtenRegex := f.Regex.value("")
	c.written = Relabeling{SourceLabels: f.SourceLabels, Separator: writtenSep, TargetLabel: f.TargetLabel,
		Regex: writtenRegex, Modulus: f.Modulus, Replacement: writtenRepl}
	// Left out, the regex stays relabel.DefaultRelabelConfig.Regex itself,
	// which Validate compares by identity (keepequal and dropequal take
	// none).
	c.Config = relabel.Config{SourceLabels: f.SourceLabels, Separator: sep, Modulus: f.Modulus,
		TargetLabel: f.TargetLabel, Replacement: repl, Regex: d.Regex}
	switch {
	case f.Action == nil:
		c.Action = "" // action: null, which Validate refuses
	case writtenAction != nil:
		// relabel.Action's own decoding: lower case, a known action.
		if err := c.Action.UnmarshalYAML(func(v any) error { *v.(*string) = action; return nil }); err != nil {
			return err
		}
		c.written.Action = string(c.Action)
	default:
		c.Action = d.Action
	}
	if writtenRegex != nil {
		return c.compile(*writtenRegex)
	}
	return nil
}

func (c *relabelConfig) compile(expr string) error {
	if err := checkRegexp(expr); err != nil {
		return err
	}
	c.Regex = writtenRegexp
	return nil
}

// writtenRegexp stands for every written expression in a relabelConfig:
// a Regexp of its own, so Validate tells it from the default one (it
// compares them by identity, model/relabel/relabel.go Config.Validate).
var writtenRegexp = relabel.MustNewRegexp("(.*)")

// checkRegexp fails exactly where relabel.NewRegexp(expr) does, with the
// same error, without compiling: NewRegexp compiles "^(?s:" + expr + ")$"
// with github.com/grafana/regexp, whose compile fails only where
// regexp/syntax.Parse with syntax.Perl does (syntax.Compile returns no
// error; TestCheckRegexpFailsWhereRelabelDoes). Expressions found valid
// are remembered, up to maxChecked, as a configuration repeats each in
// every shard and in the operator flavour's copies.
func checkRegexp(expr string) error {
	if _, ok := checkedRegexps.Load(expr); ok {
		return nil
	}
	if _, err := syntax.Parse("^(?s:"+expr+")$", syntax.Perl); err != nil {
		return err
	}
	if checkedCount.Add(1) > maxChecked {
		// A long-running process (generate --watch) would otherwise keep
		// the expressions of every profile it ever saw.
		checkedRegexps.Clear()
		checkedCount.Store(1)
	}
	checkedRegexps.Store(expr, struct{}{})
	return nil
}

// checkedRegexps holds the relabeling expressions found valid so far, up
// to maxChecked: the strings alone, about 25,000 at ten thousand teams.
var (
	checkedRegexps sync.Map
	checkedCount   atomic.Int64
)

const maxChecked = 200000
