package clusterstate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// collection is one list call of the live mode.
type collection struct {
	path, apiVersion, kind string
	// optional collections belong to APIs a cluster may not serve (Istio,
	// Calico, AdminNetworkPolicy): a 404 skips them.
	optional bool
	// fieldSelector narrows the list; a list the credentials may not make
	// (403) is then skipped with a note rather than failing the run.
	fieldSelector string
}

var collections = []collection{
	{"/api/v1/namespaces", "v1", "Namespace", false, ""},
	{"/api/v1/pods", "v1", "Pod", false, ""},
	{"/api/v1/services", "v1", "Service", false, ""},
	{"/apis/discovery.k8s.io/v1/endpointslices", "discovery.k8s.io/v1", "EndpointSlice", true, ""},
	{"/apis/networking.k8s.io/v1/networkpolicies", "networking.k8s.io/v1", "NetworkPolicy", true, ""},
	// security.istio.io/v1 is served from Istio 1.22 on; older releases
	// serve v1beta1 only (manifests/charts/base crd-all.gen.yaml).
	{"/apis/security.istio.io/v1/peerauthentications", "security.istio.io/v1", "PeerAuthentication", true, ""},
	{"/apis/security.istio.io/v1beta1/peerauthentications", "security.istio.io/v1beta1", "PeerAuthentication", true, ""},
	{"/apis/security.istio.io/v1/authorizationpolicies", "security.istio.io/v1", "AuthorizationPolicy", true, ""},
	{"/apis/security.istio.io/v1beta1/authorizationpolicies", "security.istio.io/v1beta1", "AuthorizationPolicy", true, ""},
	{"/apis/policy.networking.k8s.io/v1alpha1/adminnetworkpolicies", "policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy", true, ""},
	{"/apis/policy.networking.k8s.io/v1alpha1/baselineadminnetworkpolicies", "policy.networking.k8s.io/v1alpha1", "BaselineAdminNetworkPolicy", true, ""},
	{"/apis/projectcalico.org/v3/globalnetworkpolicies", "projectcalico.org/v3", "GlobalNetworkPolicy", true, ""},
	{"/apis/projectcalico.org/v3/networkpolicies", "projectcalico.org/v3", "NetworkPolicy", true, ""},
	// Cilium's agent configuration (kube-system/cilium-config): whether
	// ipBlock peers select node addresses (policy-cidr-match-mode).
	{"/api/v1/configmaps", "v1", "ConfigMap", true, "metadata.name=" + CiliumConfigName},
}

// RESTConfig loads a kubeconfig as kubectl does: path "" uses $KUBECONFIG
// or ~/.kube/config, context "" its current context.
func RESTConfig(path, context string) (*rest.Config, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if path != "" {
		rules.ExplicitPath = path
	}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return cfg, nil
}

// FromAPI reads the state with read-only list calls, page by page. It
// needs list on the collections above (a ClusterRole such as `view` plus
// list on namespaces and the policy kinds).
func FromAPI(ctx context.Context, cfg *rest.Config) (*State, error) {
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	base := strings.TrimSuffix(cfg.Host, "/")
	if !strings.Contains(base, "://") {
		base = "https://" + base
	}
	st := &State{Skipped: map[string]int{}, Sources: []string{base}}
	served := map[string]bool{}
	for _, c := range collections {
		kind := c.kind + " " + strings.Split(c.apiVersion, "/")[0]
		if served[kind] {
			continue // the newer version was served
		}
		ok, err := st.list(ctx, client, base, c)
		if err != nil {
			return nil, err
		}
		served[kind] = ok
	}
	if !served["GlobalNetworkPolicy projectcalico.org"] {
		st.Notes = append(st.Notes, "projectcalico.org/v3 is not served (no Calico API server): Calico policies were not read; export them with calicoctl get globalnetworkpolicies,networkpolicies -A -o yaml and pass the file with --cluster-state")
	}
	st.Sort()
	return st, nil
}

func (st *State) list(ctx context.Context, client *http.Client, base string, c collection) (bool, error) {
	err := st.listPages(ctx, client, base, c)
	if errors.Is(err, errNotServed) {
		return false, nil
	}
	return err == nil, err
}

var errNotServed = errors.New("not served")

func (st *State) listPages(ctx context.Context, client *http.Client, base string, c collection) error {
	cont := ""
	for {
		q := url.Values{"limit": {"500"}}
		if c.fieldSelector != "" {
			q.Set("fieldSelector", c.fieldSelector)
		}
		if cont != "" {
			q.Set("continue", cont)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+c.path+"?"+q.Encode(), nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("list %s: %w", c.path, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("list %s: %w", c.path, err)
		}
		switch {
		case resp.StatusCode == http.StatusNotFound && c.optional:
			return errNotServed
		case resp.StatusCode == http.StatusForbidden && c.fieldSelector != "":
			st.Notes = append(st.Notes, fmt.Sprintf("%s (%s) was not read: %s; grant list on %s to check it", c.kind, c.fieldSelector, resp.Status, plural(c.path)))
			return nil
		case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized:
			return fmt.Errorf("list %s: %s: the credentials may not list %s; grant list on it (kubectl auth can-i list %s -A)", c.path, resp.Status, c.kind, plural(c.path))
		case resp.StatusCode != http.StatusOK:
			return fmt.Errorf("list %s: %s: %s", c.path, resp.Status, firstLine(body))
		}
		var list struct {
			Metadata struct {
				Continue string `json:"continue"`
			} `json:"metadata"`
			Items []map[string]any `json:"items"`
		}
		if err := json.Unmarshal(body, &list); err != nil {
			return fmt.Errorf("list %s: %w", c.path, err)
		}
		for _, item := range list.Items {
			// List items carry no kind (the list does).
			item["apiVersion"], item["kind"] = c.apiVersion, c.kind
			data, err := json.Marshal(item)
			if err == nil {
				err = st.add(c.apiVersion, c.kind, data)
			}
			if err != nil {
				return fmt.Errorf("list %s: %w", c.path, err)
			}
		}
		if cont = list.Metadata.Continue; cont == "" {
			return nil
		}
	}
}

func plural(path string) string { return path[strings.LastIndex(path, "/")+1:] }

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// ErrEmpty is returned when a state holds nothing to diagnose.
var ErrEmpty = errors.New("the cluster state holds no namespace and no pod; write it with `" + KubectlCommand + "`")
