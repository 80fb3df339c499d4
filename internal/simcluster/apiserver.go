package simcluster

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
)

// Request is one request the fake API server received.
type Request struct {
	Method string
	Path   string
	Query  url.Values
	Accept string
	Status int
}

// String renders the request as "GET /path?sorted=query -> 200".
func (r Request) String() string {
	s := r.Method + " " + r.Path
	if len(r.Query) > 0 {
		s += "?" + r.Query.Encode()
	}
	return fmt.Sprintf("%s -> %d", s, r.Status)
}

// apiServer is the fake Kubernetes API server.
type apiServer struct {
	store *store
	srv   *httptest.Server
	done  chan struct{}
	once  sync.Once

	mu       sync.Mutex
	requests []Request
}

func startAPIServer(st *store) *apiServer {
	a := &apiServer{store: st, done: make(chan struct{})}
	a.srv = httptest.NewServer(a)
	return a
}

// close ends open watches, then the server.
func (a *apiServer) close() {
	a.once.Do(func() { close(a.done) })
	a.srv.CloseClientConnections()
	a.srv.Close()
}

func (a *apiServer) log() []Request {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.requests)
}

// record logs a request; the returned function sets its status.
func (a *apiServer) record(r *http.Request) func(status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	i := len(a.requests)
	a.requests = append(a.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(),
		Accept: r.Header.Get("Accept")})
	return func(status int) {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.requests[i].Status = status
	}
}

// ServeHTTP routes discovery documents and resource collections.
func (a *apiServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w, onStatus: a.record(r)}
	if r.Method != http.MethodGet {
		writeStatus(sw, http.StatusMethodNotAllowed, "MethodNotAllowed", "the fake API server is read-only")
		return
	}
	if doc, ok := a.discoveryDoc(r.URL.Path); ok {
		writeJSON(sw, http.StatusOK, doc)
		return
	}
	q, err := parseCollection(r.URL.Path)
	if err != nil {
		writeStatus(sw, http.StatusNotFound, "NotFound", err.Error())
		return
	}
	if err := parseSelectors(&q, r.URL.Query()); err != nil {
		writeStatus(sw, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	if isTrue(r.URL.Query().Get("watch")) {
		a.serveWatch(sw, r, q)
		return
	}
	a.serveList(sw, q)
}

// parseCollection maps /api/v1/[namespaces/NS/]RESOURCE and
// /apis/GROUP/v1/[namespaces/NS/]RESOURCE to a query.
func parseCollection(path string) (query, error) {
	group, version, rest, err := splitGroup(path)
	if err != nil {
		return query{}, err
	}
	parts := strings.Split(rest, "/")
	q := query{}
	switch {
	case len(parts) == 1:
		q.resource = parts[0]
	case len(parts) == 3 && parts[0] == "namespaces":
		q.namespace, q.resource = parts[1], parts[2]
	default:
		return query{}, fmt.Errorf("no such collection %q", path)
	}
	info, ok := resources[q.resource]
	if !ok || info.group != group || info.ver() != version || (q.namespace != "" && !info.namespaced) {
		return query{}, fmt.Errorf("no such collection %q", path)
	}
	return q, nil
}

// splitGroup splits /api/v1/REST and /apis/GROUP/VERSION/REST.
func splitGroup(path string) (group, version, rest string, err error) {
	if rest, ok := strings.CutPrefix(path, "/api/v1/"); ok {
		return "", "v1", rest, nil
	}
	after, ok := strings.CutPrefix(path, "/apis/")
	parts := strings.SplitN(after, "/", 3)
	if !ok || len(parts) < 3 {
		return "", "", "", fmt.Errorf("no such path %q", path)
	}
	return parts[0], parts[1], parts[2], nil
}

// parseSelectors reads labelSelector and fieldSelector.
func parseSelectors(q *query, v url.Values) error {
	ls, err := labels.Parse(v.Get("labelSelector"))
	if err != nil {
		return fmt.Errorf("labelSelector: %w", err)
	}
	fs, err := fields.ParseSelector(v.Get("fieldSelector"))
	if err != nil {
		return fmt.Errorf("fieldSelector: %w", err)
	}
	q.labels, q.fields = ls, fs
	return nil
}

func isTrue(s string) bool { return s == "true" || s == "1" }

// serveList writes a XList of the matching objects.
func (a *apiServer) serveList(w http.ResponseWriter, q query) {
	info := resources[q.resource]
	items := a.store.selectObjects(q)
	if items == nil {
		items = []json.RawMessage{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"kind": info.kind + "List", "apiVersion": info.apiVersion(),
		"metadata": map[string]any{"resourceVersion": a.store.resourceVersion()},
		"items":    items,
	})
}

// watchEvent is one event of a JSON watch stream.
type watchEvent struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

// serveWatch streams the initial events when asked (sendInitialEvents=true,
// or a legacy watch from resourceVersion "" or "0"), then, for a streaming
// list, the BOOKMARK that ends them, and holds the connection open until the
// client goes away, timeoutSeconds pass or the server closes. The cluster
// does not change, so nothing else is sent.
func (a *apiServer) serveWatch(w http.ResponseWriter, r *http.Request, q query) {
	v := r.URL.Query()
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeStatus(w, http.StatusInternalServerError, "InternalError", "streaming unsupported")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	if sendsInitialEvents(v) {
		for _, raw := range a.store.selectObjects(q) {
			if err := enc.Encode(watchEvent{Type: "ADDED", Object: raw}); err != nil {
				return
			}
		}
	}
	if isTrue(v.Get("sendInitialEvents")) {
		if err := enc.Encode(watchEvent{Type: "BOOKMARK", Object: a.initialEventsEnd(q.resource)}); err != nil {
			return
		}
	}
	flusher.Flush()
	a.hold(r, v.Get("timeoutSeconds"))
}

func sendsInitialEvents(v url.Values) bool {
	if s := v.Get("sendInitialEvents"); s != "" {
		return isTrue(s)
	}
	rv := v.Get("resourceVersion")
	return rv == "" || rv == "0"
}

// initialEventsEnd is the bookmark object that ends a streaming list.
func (a *apiServer) initialEventsEnd(resource string) json.RawMessage {
	info := resources[resource]
	raw, _ := json.Marshal(map[string]any{
		"kind": info.kind, "apiVersion": info.apiVersion(),
		"metadata": map[string]any{
			"resourceVersion": a.store.resourceVersion(),
			"annotations":     map[string]string{"k8s.io/initial-events-end": "true"},
		},
	})
	return raw
}

// hold blocks until the client goes away, the server closes or the watch
// times out.
func (a *apiServer) hold(r *http.Request, timeoutSeconds string) {
	var timeout <-chan time.Time
	if d, err := time.ParseDuration(timeoutSeconds + "s"); err == nil && d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		timeout = timer.C
	}
	select {
	case <-r.Context().Done():
	case <-a.done:
	case <-timeout:
	}
}

// discoveryDoc answers /version and the API discovery documents.
func (a *apiServer) discoveryDoc(path string) (any, bool) {
	switch path {
	case "/version":
		return map[string]string{"major": "1", "minor": "35", "gitVersion": "v1.35.0-simcluster",
			"platform": "linux/amd64"}, true
	case "/api":
		return map[string]any{"kind": "APIVersions", "versions": []string{"v1"},
			"serverAddressByClientCIDRs": []map[string]string{{"clientCIDR": "0.0.0.0/0",
				"serverAddress": strings.TrimPrefix(a.srv.URL, "http://")}}}, true
	case "/apis":
		gv := map[string]string{"groupVersion": "discovery.k8s.io/v1", "version": "v1"}
		return map[string]any{"kind": "APIGroupList", "apiVersion": "v1", "groups": []map[string]any{
			{"name": "discovery.k8s.io", "versions": []any{gv}, "preferredVersion": gv}}}, true
	case "/api/v1":
		return resourceList("v1", ""), true
	case "/apis/discovery.k8s.io/v1":
		return resourceList("discovery.k8s.io/v1", "discovery.k8s.io"), true
	}
	return nil, false
}

func resourceList(groupVersion, group string) map[string]any {
	var list []map[string]any
	for _, name := range slices.Sorted(maps.Keys(resources)) {
		info := resources[name]
		if info.group == group {
			list = append(list, map[string]any{"name": name, "kind": info.kind, "namespaced": info.namespaced,
				"verbs": []string{"get", "list", "watch"}})
		}
	}
	return map[string]any{"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": groupVersion,
		"resources": list}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeStatus writes a metav1.Status failure.
func writeStatus(w http.ResponseWriter, code int, reason, msg string) {
	writeJSON(w, code, map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": msg, "reason": reason, "code": code})
}

// statusWriter reports the response status to the request log.
type statusWriter struct {
	http.ResponseWriter
	onStatus func(int)
}

// WriteHeader logs and writes the status.
func (s *statusWriter) WriteHeader(code int) {
	s.onStatus(code)
	s.ResponseWriter.WriteHeader(code)
}

// Flush lets watches stream through the wrapper.
func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
