// Package simcluster simulates a small Kubernetes cluster for end-to-end
// tests of generated Prometheus configurations. It runs a fake Kubernetes API
// server good enough for Prometheus' kubernetes_sd_configs, real HTTP(S)
// listeners behind the pod and node IPs (loopback addresses), a test CA whose
// client certificate plays the Istio workload certificate, and the real
// Prometheus binary.
//
// Typical use:
//
//	c := simcluster.New(t)
//	c.AddNode(simcluster.Node{Name: "node-1"})
//	c.AddPod(simcluster.Pod{Namespace: "shop", Name: "web-1", ...})
//	c.Start()
//	targets := simcluster.RunPrometheus(t, c.RewriteConfig(generated))
//
// Pod and node IPs are allocated from 127.B.0.2 upwards, where the second
// octet B is claimed per cluster so that clusters of tests running in
// parallel (also in other packages, which are other processes) never share
// addresses: a cluster holds a listener on 127.B.255.254:blockClaimPort for
// its lifetime, and a block whose claim is taken is in use.
// Linux routes all of 127.0.0.0/8 to the loopback interface.
package simcluster

import (
	"fmt"
	"math/rand/v2"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Port is a named container port.
type Port struct {
	Name   string
	Number int32
}

// Container is a pod container with its declared ports.
type Container struct {
	Name  string
	Ports []Port
	// Args are the container's arguments, as the pod spec lists them.
	Args []string
	// Image defaults to simcluster/<name>.
	Image string
}

// Pod is a pod of the simulated cluster. Serve lists the real listeners
// started on the pod IP; a container port without a listener refuses
// connections, like a port nothing listens on.
type Pod struct {
	Namespace   string
	Name        string
	Labels      map[string]string
	Annotations map[string]string
	// Node is the name of the node the pod runs on (optional).
	Node string
	// HostNetwork gives the pod its node's IP (Node must be added first).
	HostNetwork bool
	// Phase defaults to Running.
	Phase      corev1.PodPhase
	Containers []Container
	Serve      []Listener
	// IP is allocated by AddPod when empty.
	IP string
}

// Node is a node of the simulated cluster. Its kubelet listens on
// IP:KubeletPort over HTTPS with the service-account bearer token (mode
// BearerTLS) and serves /metrics, /metrics/cadvisor, /metrics/probes and
// /metrics/resource.
type Node struct {
	Name        string
	Labels      map[string]string
	Annotations map[string]string
	// KubeletPort defaults to 10250.
	KubeletPort int
	// IP (the InternalIP) is allocated by AddNode when empty.
	IP string
}

// ServicePort is a service port; TargetPort defaults to Port and is the
// port of the endpoints.
type ServicePort struct {
	Name       string
	Port       int32
	TargetPort int32
}

// Service is a service of the simulated cluster. Its Endpoints and
// EndpointSlice list the pods of its namespace that match Selector, or the
// explicit Addresses when it has no selector (like default/kubernetes).
type Service struct {
	Namespace   string
	Name        string
	Labels      map[string]string
	Annotations map[string]string
	Selector    map[string]string
	Ports       []ServicePort
	Addresses   []string
}

// Cluster is a simulated Kubernetes cluster. Add objects, then Start it;
// everything it starts is stopped at test cleanup.
type Cluster struct {
	t          testing.TB
	block      int // second octet of the allocated loopback addresses
	nextHost   int
	namespaces []namespace
	pods       []*Pod
	nodes      []*Node
	services   []*Service
	objects    []extraObject
	listeners  map[string]Listener // host:port -> listener
	ca         *authority
	token      string
	certDir    string
	saDir      string
	api        *apiServer
	started    bool
	scrapes    scrapeLog
}

type namespace struct {
	name   string
	labels map[string]string
}

// Option configures a new cluster.
type Option func(*Cluster)

// WithAddressBlock fixes the second octet of the cluster's addresses
// (127.B.0.2 upwards, 1 <= B <= 254) instead of a random one, for tests
// whose outcome depends on the addresses (hashmod sharding). Fixed blocks
// should lie in 1..99, which random claims never take; clusters asking for
// the same block wait for each other.
func WithAddressBlock(b int) Option {
	return func(c *Cluster) {
		if b < 1 || b > 254 {
			c.t.Fatalf("simcluster: address block %d is not within 1..254", b)
		}
		c.block = b
	}
}

// New returns an empty cluster with a fresh test CA, client certificate
// files and service-account token.
func New(t testing.TB, opts ...Option) *Cluster {
	t.Helper()
	ca, err := newAuthority()
	if err != nil {
		t.Fatalf("simcluster: %v", err)
	}
	c := &Cluster{
		t: t, nextHost: 2,
		listeners: map[string]Listener{}, ca: ca, token: "simcluster-" + strconv.FormatUint(rand.Uint64(), 36),
	}
	for _, o := range opts {
		o(c)
	}
	c.claimBlock()
	dir := t.TempDir()
	c.certDir, c.saDir = filepath.Join(dir, "prom-certs"), filepath.Join(dir, "serviceaccount")
	if err := ca.writeClientFiles(c.certDir); err != nil {
		t.Fatalf("simcluster: %v", err)
	}
	if err := writeServiceAccount(c.saDir, c.token, ca.certPEM); err != nil {
		t.Fatalf("simcluster: %v", err)
	}
	return c
}

// blockClaimPort is the port of the listener that claims an address block.
const blockClaimPort = 47999

// claimBlock takes the cluster's address block: the fixed one
// (WithAddressBlock), waiting for another test to release it, or a free
// random one. The claim is released at test cleanup.
func (c *Cluster) claimBlock() {
	c.t.Helper()
	claim := func(b int) net.Listener {
		l, err := net.Listen("tcp", fmt.Sprintf("127.%d.255.254:%d", b, blockClaimPort))
		if err != nil {
			return nil
		}
		return l
	}
	var l net.Listener
	if c.block != 0 {
		for deadline := time.Now().Add(2 * time.Minute); l == nil; {
			if l = claim(c.block); l == nil {
				if time.Now().After(deadline) {
					c.t.Fatalf("simcluster: address block %d stayed in use by another test for 2 minutes", c.block)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	} else {
		// Random order spreads parallel clusters; blocks 1..99 are left to
		// the fixed ones tests ask for.
		for _, b := range rand.Perm(155) {
			if l = claim(100 + b); l != nil {
				c.block = 100 + b
				break
			}
		}
		if l == nil {
			c.t.Fatal("simcluster: every address block 100..254 is in use")
		}
	}
	c.t.Cleanup(func() { _ = l.Close() })
}

// AddNamespace adds a namespace. Namespaces of added pods and services are
// added implicitly.
func (c *Cluster) AddNamespace(name string, labels map[string]string) {
	c.t.Helper()
	c.mustNotBeStarted()
	if i := c.namespaceIndex(name); i >= 0 {
		c.namespaces[i].labels = labels
		return
	}
	c.namespaces = append(c.namespaces, namespace{name: name, labels: labels})
}

func (c *Cluster) namespaceIndex(name string) int {
	return slices.IndexFunc(c.namespaces, func(n namespace) bool { return n.name == name })
}

func (c *Cluster) ensureNamespace(name string) {
	if c.namespaceIndex(name) < 0 {
		c.namespaces = append(c.namespaces, namespace{name: name})
	}
}

// AddPod adds a pod and its listeners and returns its IP.
func (c *Cluster) AddPod(p Pod) string {
	c.t.Helper()
	c.mustNotBeStarted()
	if p.Namespace == "" || p.Name == "" {
		c.t.Fatalf("simcluster: pod %q/%q needs a namespace and a name", p.Namespace, p.Name)
	}
	if slices.ContainsFunc(c.pods, func(q *Pod) bool { return q.Namespace == p.Namespace && q.Name == p.Name }) {
		c.t.Fatalf("simcluster: pod %s/%s added twice", p.Namespace, p.Name)
	}
	p.IP = c.podIP(p)
	if p.Phase == "" {
		p.Phase = corev1.PodRunning
	}
	c.ensureNamespace(p.Namespace)
	for _, l := range p.Serve {
		c.Serve(p.IP, l)
	}
	c.pods = append(c.pods, &p)
	return p.IP
}

func (c *Cluster) podIP(p Pod) string {
	c.t.Helper()
	switch {
	case p.IP != "":
		return p.IP
	case p.HostNetwork:
		n := c.node(p.Node)
		if n == nil {
			c.t.Fatalf("simcluster: host-network pod %s/%s: node %q not added", p.Namespace, p.Name, p.Node)
		}
		return n.IP
	default:
		return c.AllocateIP()
	}
}

func (c *Cluster) node(name string) *Node {
	i := slices.IndexFunc(c.nodes, func(n *Node) bool { return n.Name == name })
	if i < 0 {
		return nil
	}
	return c.nodes[i]
}

// AddNode adds a node and its kubelet listener and returns its IP.
func (c *Cluster) AddNode(n Node) string {
	c.t.Helper()
	c.mustNotBeStarted()
	if n.Name == "" || c.node(n.Name) != nil {
		c.t.Fatalf("simcluster: node %q: empty or added twice", n.Name)
	}
	if n.IP == "" {
		n.IP = c.AllocateIP()
	}
	if n.KubeletPort == 0 {
		n.KubeletPort = 10250
	}
	c.Serve(n.IP, Listener{Port: n.KubeletPort, Mode: BearerTLS,
		Paths: []string{"/metrics", "/metrics/cadvisor", "/metrics/probes", "/metrics/resource"}})
	c.nodes = append(c.nodes, &n)
	return n.IP
}

// AddService adds a service; its endpoints are computed at Start, so pods
// may be added before or after it.
func (c *Cluster) AddService(s Service) {
	c.t.Helper()
	c.mustNotBeStarted()
	if s.Namespace == "" || s.Name == "" {
		c.t.Fatalf("simcluster: service %q/%q needs a namespace and a name", s.Namespace, s.Name)
	}
	c.ensureNamespace(s.Namespace)
	c.services = append(c.services, &s)
}

// AddAPIServer adds the default/kubernetes service (port https 443 to
// 6443) with one endpoint on a new IP, where an HTTPS listener with the
// test CA's server certificate requires the service-account bearer token
// and serves /metrics. It returns the endpoint IP.
func (c *Cluster) AddAPIServer() string {
	c.t.Helper()
	ip := c.AllocateIP()
	c.Serve(ip, Listener{Port: 6443, Mode: BearerTLS})
	c.AddService(Service{Namespace: "default", Name: "kubernetes",
		Labels:    map[string]string{"component": "apiserver", "provider": "kubernetes"},
		Ports:     []ServicePort{{Name: "https", Port: 443, TargetPort: 6443}},
		Addresses: []string{ip}})
	return ip
}

// Serve adds a listener on ip (any loopback address, also one no object
// uses). Each host:port can be served once.
func (c *Cluster) Serve(ip string, l Listener) {
	c.t.Helper()
	c.mustNotBeStarted()
	addr := net.JoinHostPort(ip, strconv.Itoa(l.Port))
	if _, dup := c.listeners[addr]; dup {
		c.t.Fatalf("simcluster: %s is served twice", addr)
	}
	c.listeners[addr] = l
}

// AllocateIP returns a new loopback address of the cluster's block, for a
// listener that no object owns (see Serve).
func (c *Cluster) AllocateIP() string {
	for {
		h := c.nextHost
		c.nextHost++
		if lo := h % 256; lo != 0 && lo != 255 {
			return fmt.Sprintf("127.%d.%d.%d", c.block, h/256, lo)
		}
	}
}

func (c *Cluster) mustNotBeStarted() {
	c.t.Helper()
	if c.started {
		c.t.Fatal("simcluster: the cluster is already started; add objects before Start")
	}
}

// Start builds the API objects, starts the fake API server and every
// listener. Everything is stopped at test cleanup.
func (c *Cluster) Start() {
	c.t.Helper()
	c.mustNotBeStarted()
	c.started = true
	st, err := c.buildStore()
	if err != nil {
		c.t.Fatalf("simcluster: %v", err)
	}
	c.api = startAPIServer(st)
	c.t.Cleanup(c.api.close)
	if err := c.startListeners(); err != nil {
		c.t.Fatalf("simcluster: %v", err)
	}
}

// APIServerURL is the fake API server's base URL (http://127.0.0.1:PORT).
func (c *Cluster) APIServerURL() string {
	c.t.Helper()
	c.mustBeStarted()
	return c.api.srv.URL
}

func (c *Cluster) mustBeStarted() {
	c.t.Helper()
	if !c.started {
		c.t.Fatal("simcluster: Start the cluster first")
	}
}

// CertDir holds the Istio-style client certificate files root-cert.pem (the
// test CA), cert-chain.pem and key.pem; it stands in for /etc/prom-certs/.
func (c *Cluster) CertDir() string { return c.certDir }

// ServiceAccountDir holds token, ca.crt (the test CA) and namespace; it
// stands in for /var/run/secrets/kubernetes.io/serviceaccount/.
func (c *Cluster) ServiceAccountDir() string { return c.saDir }

// Token is the service-account bearer token BearerTLS listeners require.
func (c *Cluster) Token() string { return c.token }

// CACertPEM is the PEM-encoded test CA certificate.
func (c *Cluster) CACertPEM() []byte { return slices.Clone(c.ca.certPEM) }

// Requests returns the requests the fake API server has received so far.
func (c *Cluster) Requests() []Request {
	c.t.Helper()
	c.mustBeStarted()
	return c.api.log()
}

// Scrapes returns what the listeners have served so far, one entry per
// address, path and transport, sorted.
func (c *Cluster) Scrapes() []Scrape { return c.scrapes.list() }

// scrapeLog counts the successful requests of the listeners.
type scrapeLog struct {
	mu     sync.Mutex
	counts map[Scrape]int
}
