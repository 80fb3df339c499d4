package alertmanager

import (
	"errors"
	"fmt"
	"slices"
	"time"

	amcommon "github.com/prometheus/alertmanager/config/common"
	"github.com/prometheus/alertmanager/matcher/compat"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v2"
)

// check checks a rendered alertmanager.yml at generate time. Alertmanager's
// own loader (config.Load) links the code of every notifier; obsgen-verify
// and the tests run it. This check decodes strictly, as Alertmanager does
// (gopkg.in/yaml.v2), what the routing depends on, with Alertmanager's own
// light types: the route tree with its matchers (config/common.Matchers,
// parsed by Alertmanager's matcher parser), the inhibition rules
// (config/common.InhibitRule), and it applies config.Load's checks of
// them: a root route with a receiver and no matchers, every routed
// receiver and time interval defined, receiver names unique, valid and
// unique group_by labels, non-zero intervals. Each key elsewhere, the
// integrations' settings included, must be one Alertmanager reads at that
// place (settings.go); the values of settings obsgen does not write are
// left to Alertmanager's loader.
func check(data []byte) error {
	var c amFile
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return err
	}
	if err := known(c.Other, amTopLevel, "the configuration"); err != nil {
		return err
	}
	if c.Global != nil {
		if err := known(c.Global.Other, amGlobal, "global"); err != nil {
			return err
		}
	}
	receivers, err := checkReceivers(c.Receivers)
	if err != nil {
		return err
	}
	intervals, err := intervalNames(c.MuteTimeIntervals, c.TimeIntervals)
	if err != nil {
		return err
	}
	return checkRoot(c.Route, receivers, intervals)
}

type amFile struct {
	Global            *amGlobalConfig        `yaml:"global"`
	Route             *amRoute               `yaml:"route"`
	InhibitRules      []amcommon.InhibitRule `yaml:"inhibit_rules"`
	Receivers         []*amReceiver          `yaml:"receivers"`
	Templates         []string               `yaml:"templates"`
	MuteTimeIntervals []*named               `yaml:"mute_time_intervals"`
	TimeIntervals     []*named               `yaml:"time_intervals"`
	Other             map[string]any         `yaml:",inline"`
}

type amGlobalConfig struct {
	ResolveTimeout model.Duration `yaml:"resolve_timeout"`
	Other          map[string]any `yaml:",inline"`
}

// amRoute is Alertmanager's Route, every field.
type amRoute struct {
	Receiver            string                `yaml:"receiver"`
	GroupBy             []string              `yaml:"group_by"`
	Match               map[string]string     `yaml:"match"`
	MatchRE             amcommon.MatchRegexps `yaml:"match_re"`
	Matchers            amcommon.Matchers     `yaml:"matchers"`
	MuteTimeIntervals   []string              `yaml:"mute_time_intervals"`
	ActiveTimeIntervals []string              `yaml:"active_time_intervals"`
	Continue            bool                  `yaml:"continue"`
	Routes              []*amRoute            `yaml:"routes"`
	GroupWait           *model.Duration       `yaml:"group_wait"`
	GroupInterval       *model.Duration       `yaml:"group_interval"`
	RepeatInterval      *model.Duration       `yaml:"repeat_interval"`
	Labels              model.LabelSet        `yaml:"labels"`
}

type amReceiver struct {
	Name   string            `yaml:"name"`
	Labels map[string]string `yaml:"labels"`
	// Integrations are the <kind>_configs lists.
	Integrations map[string][]map[string]any `yaml:",inline"`
}

// named is a time interval; only its name matters here.
type named struct {
	Name  string         `yaml:"name"`
	Other map[string]any `yaml:",inline"`
}

// checkReceivers checks names and integration settings and returns the
// receivers' names.
func checkReceivers(list []*amReceiver) (map[string]bool, error) {
	names := map[string]bool{}
	for _, r := range list {
		if r == nil || r.Name == "" {
			return nil, errors.New("missing name in receiver")
		}
		if v, ok := r.Labels["name"]; ok && v != r.Name {
			return nil, fmt.Errorf("receiver label \"name\" must match receiver name %q, got %q", r.Name, v)
		}
		if names[r.Name] {
			return nil, fmt.Errorf("notification config name %q is not unique", r.Name)
		}
		names[r.Name] = true
		for _, kind := range sortedKeys(r.Integrations) {
			settings, ok := amIntegrations[kind]
			if !ok {
				return nil, fmt.Errorf("receiver %q: field %s not found (not an Alertmanager integration)", r.Name, kind)
			}
			for i, cfg := range r.Integrations[kind] {
				if cfg == nil {
					return nil, fmt.Errorf("receiver %q: empty %s[%d]", r.Name, kind, i)
				}
				if err := known(cfg, settings, fmt.Sprintf("receiver %q %s[%d]", r.Name, kind, i)); err != nil {
					return nil, err
				}
			}
		}
	}
	return names, nil
}

func intervalNames(lists ...[]*named) (map[string]bool, error) {
	names := map[string]bool{}
	for _, list := range lists {
		for _, ti := range list {
			if ti == nil {
				return nil, errors.New("empty time interval")
			}
			if names[ti.Name] {
				return nil, fmt.Errorf("time interval %q is not unique", ti.Name)
			}
			names[ti.Name] = true
		}
	}
	return names, nil
}

// checkRoot applies config.Load's checks of the root route, then of every
// route.
func checkRoot(root *amRoute, receivers, intervals map[string]bool) error {
	switch {
	case root == nil:
		return errors.New("no route provided in config")
	case root.Receiver == "":
		return errors.New("root route must specify a default receiver")
	case len(root.Match) > 0 || len(root.MatchRE) > 0 || len(root.Matchers) > 0:
		return errors.New("root route must not have any matchers")
	case len(root.MuteTimeIntervals) > 0:
		return errors.New("root route must not have any mute time intervals")
	case len(root.ActiveTimeIntervals) > 0:
		return errors.New("root route must not have any active time intervals")
	}
	return checkRoute(root, receivers, intervals)
}

// checkRoute is Route.UnmarshalYAML, checkReceiver and checkTimeInterval.
func checkRoute(r *amRoute, receivers, intervals map[string]bool) error {
	if r == nil {
		return errors.New("empty route")
	}
	for k := range r.Match {
		if !model.LabelNameRE.MatchString(k) {
			return fmt.Errorf("invalid label name %q", k)
		}
	}
	for k := range r.Labels {
		if !compat.IsValidLabelName(k) {
			return fmt.Errorf("invalid label name %q in route labels", k)
		}
	}
	if err := checkGroupBy(r.GroupBy); err != nil {
		return err
	}
	if r.GroupInterval != nil && time.Duration(*r.GroupInterval) == 0 {
		return errors.New("group_interval cannot be zero")
	}
	if r.RepeatInterval != nil && time.Duration(*r.RepeatInterval) == 0 {
		return errors.New("repeat_interval cannot be zero")
	}
	if r.Receiver != "" && !receivers[r.Receiver] {
		return fmt.Errorf("undefined receiver %q used in route", r.Receiver)
	}
	for _, ti := range slices.Concat(r.MuteTimeIntervals, r.ActiveTimeIntervals) {
		if !intervals[ti] {
			return fmt.Errorf("undefined time interval %q used in route", ti)
		}
	}
	for _, child := range r.Routes {
		if err := checkRoute(child, receivers, intervals); err != nil {
			return err
		}
	}
	return nil
}

func checkGroupBy(groupBy []string) error {
	seen := map[string]bool{}
	for _, l := range groupBy {
		if l != "..." && !compat.IsValidLabelName(model.LabelName(l)) {
			return fmt.Errorf("invalid label name %q in group_by list", l)
		}
		if seen[l] {
			return fmt.Errorf("duplicated label %q in group_by", l)
		}
		seen[l] = true
	}
	if seen["..."] && len(groupBy) > 1 {
		return errors.New("cannot have wildcard group_by (`...`) and other labels at the same time")
	}
	return nil
}

// known fails on a key that is not an Alertmanager setting at that place.
func known(other map[string]any, settings []string, where string) error {
	for _, key := range sortedKeys(other) {
		if !slices.Contains(settings, key) {
			return fmt.Errorf("field %s not found in %s (not an Alertmanager setting)", key, where)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
