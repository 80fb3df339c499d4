package clusterstate

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"
)

// fakeAPI serves empty lists, except what configmaps answers; the other
// optional APIs are not served.
func fakeAPI(t *testing.T, configmaps func(w http.ResponseWriter, r *http.Request)) *rest.Config {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/v1/configmaps":
			configmaps(w, r)
		case strings.HasPrefix(r.URL.Path, "/api/v1/"):
			_, _ = w.Write([]byte(`{"items":[]}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return &rest.Config{Host: srv.URL}
}

// TestLiveModeReadsCiliumsConfigOnly: the live mode asks for the
// ConfigMap cilium-config alone (a field selector, not every ConfigMap of
// the cluster), and credentials that may not list ConfigMaps leave a note
// instead of failing the diagnosis.
func TestLiveModeReadsCiliumsConfigOnly(t *testing.T) {
	var selector string
	cfg := fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		selector = r.URL.Query().Get("fieldSelector")
		_, _ = w.Write([]byte(`{"items":[{"metadata":{"name":"cilium-config","namespace":"kube-system"},"data":{"policy-cidr-match-mode":"nodes"}}]}`))
	})
	st, err := FromAPI(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, "metadata.name=cilium-config", selector)
	require.NotNil(t, st.CiliumConfig)
	assert.Equal(t, "nodes", st.CiliumConfig.Data["policy-cidr-match-mode"])

	cfg = fakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"kind":"Status","reason":"Forbidden"}`, http.StatusForbidden)
	})
	st, err = FromAPI(context.Background(), cfg)
	require.NoError(t, err, "a ConfigMap the credentials may not read is no reason to stop")
	assert.Nil(t, st.CiliumConfig)
	assert.Contains(t, strings.Join(st.Notes, "\n"), "ConfigMap (metadata.name=cilium-config) was not read: 403 Forbidden")
}

// TestStateFilesKeepOnlyCiliumsConfig: of the ConfigMaps in a state file,
// only cilium-config is kept.
func TestStateFilesKeepOnlyCiliumsConfig(t *testing.T) {
	st := &State{Skipped: map[string]int{}}
	require.NoError(t, st.add("v1", "ConfigMap", []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kube-root-ca.crt","namespace":"shop"},"data":{"ca.crt":"x"}}`)))
	require.NoError(t, st.add("v1", "ConfigMap", []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cilium-config","namespace":"kube-system"},"data":{"policy-cidr-match-mode":""}}`)))
	require.NotNil(t, st.CiliumConfig)
	assert.Equal(t, "kube-system", st.CiliumConfig.Namespace)
	assert.Equal(t, 1, st.Skipped["v1/ConfigMap"])
}
