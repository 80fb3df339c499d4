package simcluster

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Mode is how a listener accepts scrapes.
type Mode int

const (
	// Plain serves plaintext HTTP.
	Plain Mode = iota
	// MutualTLS serves HTTPS and requires a client certificate issued by the
	// test CA, like an Istio sidecar under STRICT mTLS; a plaintext
	// connection is reset, as Envoy resets it.
	MutualTLS
	// Permissive serves plaintext HTTP and mutual TLS on the same port, like
	// an Istio sidecar under PERMISSIVE mTLS.
	Permissive
	// BearerTLS serves HTTPS (a server certificate from the test CA for the
	// listener IP) and requires the service-account bearer token, like a
	// kubelet or the API server.
	BearerTLS
	// Blackhole accepts connections and never answers, as a scrape looks to
	// Prometheus when a network policy drops its packets: the scrape times
	// out ("context deadline exceeded").
	Blackhole
	// LocalhostOnly serves plaintext HTTP and answers every request 403,
	// like the agent's :15020 with METRICS_LOCALHOST_ACCESS_ONLY to a caller
	// outside the pod (pilot/cmd/pilot-agent/status/server.go: "Only
	// requests from localhost are allowed"); in the simulation every caller
	// is outside the pod. (Envoy's :15090 binds localhost instead: leave it
	// out of Serve, and it refuses connections.)
	LocalhostOnly
)

// String names the mode.
func (m Mode) String() string {
	switch m {
	case Plain:
		return "plain"
	case MutualTLS:
		return "mtls"
	case Permissive:
		return "permissive"
	case BearerTLS:
		return "bearer-tls"
	case LocalhostOnly:
		return "localhost-only"
	case Blackhole:
		return "blackhole"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Listener is a real metrics endpoint on an IP of the cluster. It answers
// its Paths with `sim_up{listener="IP:PORT",path="PATH",transport="..."} 1`
// followed by Extra (Prometheus text format), and 404 elsewhere.
type Listener struct {
	Port int
	Mode Mode
	// Paths default to /metrics.
	Paths []string
	// Extra is exposition text appended to every answer.
	Extra string
	// Status, when set, answers every request with this HTTP status, as a
	// proxy that refuses the request does (403 "RBAC: access denied" from an
	// AuthorizationPolicy, 503 from a protocol mismatch).
	Status int
}

func (l Listener) paths() []string {
	if len(l.Paths) == 0 {
		return []string{"/metrics"}
	}
	return l.Paths
}

// Scrape is what a listener served: Count successful requests for Path over
// Transport ("plain", "tls" or "mtls") on Addr (IP:PORT).
type Scrape struct {
	Addr, Path, Transport string
	Count                 int
}

func (s *scrapeLog) add(addr, path, transport string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.counts == nil {
		s.counts = map[Scrape]int{}
	}
	s.counts[Scrape{Addr: addr, Path: path, Transport: transport}]++
}

func (s *scrapeLog) list() []Scrape {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Scrape, 0, len(s.counts))
	for k, n := range s.counts {
		k.Count = n
		out = append(out, k)
	}
	slices.SortFunc(out, func(a, b Scrape) int {
		return strings.Compare(a.Addr+" "+a.Path+" "+a.Transport, b.Addr+" "+b.Path+" "+b.Transport)
	})
	return out
}

// startListeners starts every listener; they are closed at test cleanup.
func (c *Cluster) startListeners() error {
	for _, addr := range slices.Sorted(maps.Keys(c.listeners)) {
		srv, err := c.startListener(addr, c.listeners[addr])
		if err != nil {
			return err
		}
		c.t.Cleanup(func() { _ = srv.Close() })
	}
	return nil
}

func (c *Cluster) startListener(addr string, l Listener) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (%s): %w", addr, l.Mode, err)
	}
	ip, _, _ := net.SplitHostPort(addr)
	ln, err = c.wrapListener(ln, ip, l.Mode)
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("listener %s: %w", addr, err)
	}
	srv := &http.Server{Handler: c.metricsHandler(addr, l), ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = srv.Serve(ln) }()
	return srv, nil
}

// wrapListener adds the TLS of the mode.
func (c *Cluster) wrapListener(ln net.Listener, ip string, m Mode) (net.Listener, error) {
	if m == Plain || m == LocalhostOnly {
		return ln, nil
	}
	if m == Blackhole {
		return blackholeListener{ln}, nil
	}
	cert, err := c.ca.serverCert(ip)
	if err != nil {
		return ln, err
	}
	conf := &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}
	if m == MutualTLS || m == Permissive {
		conf.ClientAuth, conf.ClientCAs = tls.RequireAndVerifyClientCert, c.ca.pool
	}
	if m == Permissive || m == MutualTLS {
		return newSniffListener(ln, conf, m == MutualTLS), nil
	}
	return tls.NewListener(ln, conf), nil
}

// metricsHandler answers the listener's paths.
func (c *Cluster) metricsHandler(addr string, l Listener) http.Handler {
	paths := l.paths()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l.Mode == LocalhostOnly {
			http.Error(w, "Only requests from localhost are allowed", http.StatusForbidden)
			return
		}
		if l.Status != 0 {
			http.Error(w, http.StatusText(l.Status), l.Status)
			return
		}
		if l.Mode == BearerTLS && r.Header.Get("Authorization") != "Bearer "+c.token {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		if !slices.Contains(paths, r.URL.Path) {
			http.NotFound(w, r)
			return
		}
		transport := transportOf(r)
		c.scrapes.add(addr, r.URL.Path, transport)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = fmt.Fprintf(w, "# TYPE sim_up gauge\nsim_up{listener=%q,path=%q,transport=%q} 1\n",
			addr, r.URL.Path, transport)
		_, _ = io.WriteString(w, l.Extra)
	})
}

func transportOf(r *http.Request) string {
	switch {
	case r.TLS == nil:
		return "plain"
	case len(r.TLS.PeerCertificates) > 0:
		return "mtls"
	default:
		return "tls"
	}
}

// sniffListener serves plaintext and TLS on one port: a connection whose
// first byte is a TLS handshake record (0x16) is wrapped in TLS.
type sniffListener struct {
	net.Listener
	conf *tls.Config
	// tlsOnly resets plaintext connections, as an Istio sidecar's STRICT
	// inbound listener does: its filter chains match transport protocol
	// "tls" only (pilot/pkg/networking/core/filterchain_options.go), so a
	// plaintext connection matches none and Envoy closes it; Prometheus
	// reports "connection reset by peer" or "EOF".
	tlsOnly bool
	conns   chan net.Conn
	done    chan struct{}
	once    sync.Once
}

func newSniffListener(ln net.Listener, conf *tls.Config, tlsOnly bool) *sniffListener {
	s := &sniffListener{Listener: ln, conf: conf, tlsOnly: tlsOnly, conns: make(chan net.Conn), done: make(chan struct{})}
	go s.acceptLoop()
	return s
}

func (s *sniffListener) acceptLoop() {
	for {
		conn, err := s.Listener.Accept()
		if err != nil {
			_ = s.Close()
			return
		}
		go s.classify(conn)
	}
}

// classify peeks at the first byte and hands the connection to Accept.
func (s *sniffListener) classify(conn net.Conn) {
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	first, err := br.Peek(1)
	_ = conn.SetReadDeadline(time.Time{})
	if err != nil {
		_ = conn.Close()
		return
	}
	if first[0] != 0x16 && s.tlsOnly {
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // reset, not a clean close
		}
		_ = conn.Close()
		return
	}
	var out net.Conn = &peekedConn{Conn: conn, r: br}
	if first[0] == 0x16 {
		out = tls.Server(out, s.conf)
	}
	select {
	case s.conns <- out:
	case <-s.done:
		_ = out.Close()
	}
}

// Accept returns the next classified connection.
func (s *sniffListener) Accept() (net.Conn, error) {
	select {
	case conn := <-s.conns:
		return conn, nil
	case <-s.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting.
func (s *sniffListener) Close() error {
	s.once.Do(func() { close(s.done) })
	return s.Listener.Close()
}

// peekedConn reads through the buffered reader that peeked at it.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

// Read reads the peeked bytes first.
func (p *peekedConn) Read(b []byte) (int, error) { return p.r.Read(b) }

// blackholeListener accepts connections and holds them without reading.
type blackholeListener struct{ net.Listener }

// Accept hands nothing to the server: every connection is held open
// unanswered until the listener closes.
func (b blackholeListener) Accept() (net.Conn, error) {
	var held []net.Conn
	defer func() {
		for _, c := range held {
			_ = c.Close()
		}
	}()
	for {
		c, err := b.Listener.Accept()
		if err != nil {
			return nil, err
		}
		held = append(held, c)
	}
}
