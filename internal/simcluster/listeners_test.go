package simcluster

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clients returns HTTP clients trusting the test CA, with and without the
// client certificate.
func clients(t *testing.T, c *Cluster) (withCert, withoutCert *http.Client) {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(c.CACertPEM()))
	cert, err := tls.LoadX509KeyPair(filepath.Join(c.CertDir(), "cert-chain.pem"),
		filepath.Join(c.CertDir(), "key.pem"))
	require.NoError(t, err)
	mk := func(certs []tls.Certificate) *http.Client {
		return &http.Client{Transport: &http.Transport{DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: certs, MinVersion: tls.VersionTLS12}}}
	}
	return mk([]tls.Certificate{cert}), mk(nil)
}

// fetch returns the status and body of a GET, or the error as the body with
// status 0.
func fetch(client *http.Client, url, token string) (int, string) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestListenersAcceptOnlyTheirMode(t *testing.T) {
	c := New(t)
	node := c.AddNode(Node{Name: "node-1"})
	plain := c.AddPod(Pod{Namespace: "a", Name: "plain", Serve: []Listener{{Port: 8080}}})
	strict := c.AddPod(Pod{Namespace: "a", Name: "strict", Serve: []Listener{{Port: 8080, Mode: MutualTLS}}})
	permissive := c.AddPod(Pod{Namespace: "a", Name: "permissive",
		Serve: []Listener{{Port: 9090, Mode: Permissive, Paths: []string{"/stats/prometheus"}}}})
	local := c.AddPod(Pod{Namespace: "a", Name: "local", Serve: []Listener{{Port: 15020, Mode: LocalhostOnly, Paths: []string{"/stats/prometheus"}}}})
	c.Start()
	withCert, withoutCert := clients(t, c)
	token := c.Token()

	tests := []struct {
		name   string
		client *http.Client
		url    string
		token  string
		status int
		body   string
	}{
		{"plain over http", withoutCert, "http://" + plain + ":8080/metrics", "", 200, `transport="plain"`},
		{"plain: other paths are 404", withoutCert, "http://" + plain + ":8080/other", "", 404, ""},
		{"plain over https fails", withCert, "https://" + plain + ":8080/metrics", "", 0, "http: server gave HTTP response to HTTPS client"},
		{"strict over http is reset", withoutCert, "http://" + strict + ":8080/metrics", "", 0, "connection reset by peer"},
		{"strict without client certificate fails", withoutCert, "https://" + strict + ":8080/metrics", "", 0, "certificate"},
		{"strict with client certificate", withCert, "https://" + strict + ":8080/metrics", "", 200, `transport="mtls"`},
		{"permissive over http", withoutCert, "http://" + permissive + ":9090/stats/prometheus", "", 200, `transport="plain"`},
		{"permissive with client certificate", withCert, "https://" + permissive + ":9090/stats/prometheus", "", 200, `transport="mtls"`},
		{"permissive TLS without client certificate fails", withoutCert, "https://" + permissive + ":9090/stats/prometheus", "", 0, "certificate"},
		{"localhost-only refuses outside callers", withoutCert, "http://" + local + ":15020/stats/prometheus", "", 403, "Only requests from localhost are allowed"},
		{"kubelet without token", withoutCert, "https://" + node + ":10250/metrics", "", 401, "Unauthorized"},
		{"kubelet with token", withoutCert, "https://" + node + ":10250/metrics/cadvisor", token, 200, `path="/metrics/cadvisor",transport="tls"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := fetch(tc.client, tc.url, tc.token)
			assert.Equal(t, tc.status, status, body)
			assert.Contains(t, body, tc.body)
		})
	}
	assert.Contains(t, c.Scrapes(), Scrape{Addr: strict + ":8080", Path: "/metrics", Transport: "mtls", Count: 1})
}

func TestServiceAccountAndCertFiles(t *testing.T) {
	c := New(t)
	for dir, files := range map[string][]string{
		c.CertDir():           {"root-cert.pem", "cert-chain.pem", "key.pem"},
		c.ServiceAccountDir(): {"token", "ca.crt", "namespace"},
	} {
		for _, f := range files {
			data, err := os.ReadFile(filepath.Join(dir, f))
			require.NoError(t, err)
			assert.NotEmpty(t, data, f)
		}
	}
	token, err := os.ReadFile(filepath.Join(c.ServiceAccountDir(), "token"))
	require.NoError(t, err)
	assert.Equal(t, c.Token(), string(token))
}

func TestAddressesSkipNetworkAndBroadcastOctets(t *testing.T) {
	c := New(t, WithAddressBlock(7))
	c.nextHost = 253
	var got []string
	for range 4 {
		got = append(got, c.AllocateIP())
	}
	assert.Equal(t, []string{"127.7.0.253", "127.7.0.254", "127.7.1.1", "127.7.1.2"}, got)
}
