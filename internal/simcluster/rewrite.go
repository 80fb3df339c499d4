package simcluster

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// RewriteOptions say how Rewrite adapts a Prometheus configuration to a
// simulated cluster.
type RewriteOptions struct {
	// APIServer is set as api_server of every kubernetes_sd_configs entry
	// (scrape and alerting); kubeconfig_file is removed.
	APIServer string
	// ScrapeInterval and ScrapeTimeout are set in global and in every
	// scrape config that sets its own (when not empty).
	ScrapeInterval, ScrapeTimeout string
	// PathPrefixes maps a path prefix to its replacement in every scalar
	// value that starts with it; the longest prefix wins.
	PathPrefixes map[string]string
}

// Default in-cluster paths that RewriteConfig redirects.
const (
	ServiceAccountPath = "/var/run/secrets/kubernetes.io/serviceaccount/"
	PromCertsPath      = "/etc/prom-certs/"
)

// RewriteConfig adapts a generated Prometheus configuration to the started
// cluster: every kubernetes_sd_configs entry gets the fake API server, the
// service-account directory and /etc/prom-certs/ point at the cluster's
// files, and scrapes run every second with a one-second timeout. It fails
// the test on an invalid configuration. Comments are dropped.
func (c *Cluster) RewriteConfig(config string) string {
	c.t.Helper()
	out, err := Rewrite(config, RewriteOptions{
		APIServer: c.APIServerURL(), ScrapeInterval: "1s", ScrapeTimeout: "1s",
		PathPrefixes: map[string]string{
			ServiceAccountPath: c.saDir + string(filepath.Separator),
			PromCertsPath:      c.certDir + string(filepath.Separator),
		},
	})
	if err != nil {
		c.t.Fatalf("simcluster: %v", err)
	}
	return out
}

// Rewrite applies opts to a Prometheus configuration by editing its YAML
// node tree.
func Rewrite(config string, opts RewriteOptions) (string, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(config), &doc); err != nil {
		return "", fmt.Errorf("rewrite: parse configuration: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return "", errors.New("rewrite: the configuration is not a YAML mapping")
	}
	root := doc.Content[0]
	prefixes := slices.SortedFunc(maps.Keys(opts.PathPrefixes), func(a, b string) int {
		return cmp.Compare(len(b), len(a))
	})
	walk(root, func(n *yaml.Node) {
		rewritePath(n, prefixes, opts.PathPrefixes)
		if opts.APIServer != "" {
			setAPIServer(n, opts.APIServer)
		}
	})
	if err := setIntervals(root, opts); err != nil {
		return "", err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return "", fmt.Errorf("rewrite: encode configuration: %w", err)
	}
	return buf.String(), nil
}

// walk calls fn on n and every node below it.
func walk(n *yaml.Node, fn func(*yaml.Node)) {
	fn(n)
	for _, child := range n.Content {
		walk(child, fn)
	}
}

// rewritePath replaces the longest matching prefix of a scalar value.
func rewritePath(n *yaml.Node, prefixes []string, repl map[string]string) {
	if n.Kind != yaml.ScalarNode {
		return
	}
	for _, p := range prefixes {
		if rest, ok := strings.CutPrefix(n.Value, p); ok {
			n.Value = repl[p] + rest
			return
		}
	}
}

// setAPIServer sets api_server on the entries of a mapping's
// kubernetes_sd_configs.
func setAPIServer(n *yaml.Node, url string) {
	sds := mappingValue(n, "kubernetes_sd_configs")
	if sds == nil || sds.Kind != yaml.SequenceNode {
		return
	}
	for _, sd := range sds.Content {
		if sd.Kind == yaml.MappingNode {
			deleteKey(sd, "kubeconfig_file")
			setScalar(sd, "api_server", url)
		}
	}
}

// setIntervals sets the scrape interval and timeout in global and in every
// scrape config that has its own.
func setIntervals(root *yaml.Node, opts RewriteOptions) error {
	global := mappingValue(root, "global")
	if global == nil {
		global = &yaml.Node{Kind: yaml.MappingNode}
		root.Content = append([]*yaml.Node{{Kind: yaml.ScalarNode, Value: "global"}, global}, root.Content...)
	}
	if global.Kind != yaml.MappingNode {
		return errors.New("rewrite: global is not a mapping")
	}
	scrapes := []*yaml.Node{global}
	if sc := mappingValue(root, "scrape_configs"); sc != nil && sc.Kind == yaml.SequenceNode {
		scrapes = append(scrapes, sc.Content...)
	}
	settings := [][2]string{{"scrape_interval", opts.ScrapeInterval}, {"scrape_timeout", opts.ScrapeTimeout}}
	for i, m := range scrapes {
		for _, kv := range settings {
			if kv[1] != "" && (i == 0 || mappingValue(m, kv[0]) != nil) {
				setScalar(m, kv[0], kv[1])
			}
		}
	}
	return nil
}

// mappingValue returns the value of key in mapping m, or nil.
func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// setScalar sets key to a plain string scalar in mapping m.
func setScalar(m *yaml.Node, key, value string) {
	if v := mappingValue(m, key); v != nil {
		*v = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value}
		return
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: key},
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value})
}

// deleteKey removes key from mapping m.
func deleteKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = slices.Delete(m.Content, i, i+2)
			return
		}
	}
}
