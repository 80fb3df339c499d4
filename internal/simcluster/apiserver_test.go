package simcluster

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
)

// apiCluster is a started cluster without listeners: two pods in shop, one
// in tools, a node and the istiod service.
func apiCluster(t *testing.T) *Cluster {
	t.Helper()
	c := New(t)
	c.AddNode(Node{Name: "node-1"})
	c.AddPod(Pod{Namespace: "shop", Name: "web-1", Node: "node-1", Labels: map[string]string{"app": "web"},
		Containers: []Container{{Name: "web", Ports: []Port{{"http", 8080}}}}})
	c.AddPod(Pod{Namespace: "shop", Name: "db-1", Labels: map[string]string{"app": "db"}, Phase: corev1.PodPending})
	c.AddPod(Pod{Namespace: "tools", Name: "job-1"})
	c.AddPod(Pod{Namespace: "istio-system", Name: "istiod-1", Labels: map[string]string{"app": "istiod"},
		Containers: []Container{{Name: "discovery", Ports: []Port{{"http-monitoring", 15014}}}}})
	c.AddService(Service{Namespace: "istio-system", Name: "istiod", Selector: map[string]string{"app": "istiod"},
		Ports: []ServicePort{{Name: "http-monitoring", Port: 15014}}})
	c.listeners = map[string]Listener{} // the API tests need no listeners
	c.Start()
	return c
}

func get(t *testing.T, c *Cluster, path string, v any) int {
	t.Helper()
	resp, err := http.Get(c.APIServerURL() + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	if v != nil {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(v))
	}
	return resp.StatusCode
}

func names(list corev1.PodList) []string {
	var out []string
	for _, p := range list.Items {
		out = append(out, p.Namespace+"/"+p.Name)
	}
	return out
}

func TestListFiltersByNamespaceAndSelectors(t *testing.T) {
	c := apiCluster(t)
	tests := map[string][]string{
		"/api/v1/pods":                                          {"shop/web-1", "shop/db-1", "tools/job-1", "istio-system/istiod-1"},
		"/api/v1/namespaces/shop/pods":                          {"shop/web-1", "shop/db-1"},
		"/api/v1/pods?labelSelector=app%3Dweb":                  {"shop/web-1"},
		"/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-1":     {"shop/web-1"},
		"/api/v1/pods?fieldSelector=status.phase%21%3DRunning":  {"shop/db-1"},
		"/api/v1/namespaces/shop/pods?labelSelector=app+in+(x)": nil,
	}
	for path, want := range tests {
		t.Run(path, func(t *testing.T) {
			var list corev1.PodList
			require.Equal(t, http.StatusOK, get(t, c, path, &list))
			assert.Equal(t, "PodList", list.Kind)
			assert.Equal(t, want, names(list))
			assert.NotEmpty(t, list.ResourceVersion)
		})
	}
}

func TestEndpointsListTheSelectedPods(t *testing.T) {
	c := apiCluster(t)
	var eps corev1.EndpointsList
	require.Equal(t, http.StatusOK, get(t, c, "/api/v1/namespaces/istio-system/endpoints", &eps))
	require.Len(t, eps.Items, 1)
	subset := eps.Items[0].Subsets[0]
	assert.Equal(t, "istiod-1", subset.Addresses[0].TargetRef.Name)
	assert.Equal(t, corev1.EndpointPort{Name: "http-monitoring", Port: 15014, Protocol: corev1.ProtocolTCP},
		subset.Ports[0])
	var esl struct {
		Items []struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
		} `json:"items"`
	}
	require.Equal(t, http.StatusOK, get(t, c, "/apis/discovery.k8s.io/v1/endpointslices", &esl))
	require.Len(t, esl.Items, 1)
	assert.Equal(t, "istiod", esl.Items[0].Metadata.Labels["kubernetes.io/service-name"])
}

func TestUnknownCollectionsAreNotFound(t *testing.T) {
	c := apiCluster(t)
	for _, path := range []string{"/api/v1/secrets", "/api/v1/namespaces/shop/nodes",
		"/apis/discovery.k8s.io/v1/pods", "/apis/apps/v1/deployments", "/api/v1/namespaces/shop/pods/web-1"} {
		var status metav1.Status
		assert.Equal(t, http.StatusNotFound, get(t, c, path, &status), path)
		assert.Equal(t, metav1.StatusReasonNotFound, status.Reason, path)
	}
}

// TestStreamingWatchEndsInitialEventsWithABookmark speaks the streaming
// list of client-go's reflector with a raw HTTP client.
func TestStreamingWatchEndsInitialEventsWithABookmark(t *testing.T) {
	c := apiCluster(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.APIServerURL()+
		"/api/v1/namespaces/shop/pods?allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan"+
		"&sendInitialEvents=true&timeoutSeconds=300&watch=true", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))

	events := make(chan watchEvent)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var ev watchEvent
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				events <- ev
			}
		}
	}()
	for _, want := range []string{"web-1", "db-1"} {
		ev := next(t, events)
		var pod corev1.Pod
		require.NoError(t, json.Unmarshal(ev.Object, &pod))
		assert.Equal(t, "ADDED", ev.Type)
		assert.Equal(t, want, pod.Name)
		assert.Equal(t, "Pod", pod.Kind)
	}
	ev := next(t, events)
	var bookmark corev1.Pod
	require.NoError(t, json.Unmarshal(ev.Object, &bookmark))
	assert.Equal(t, "BOOKMARK", ev.Type)
	assert.Equal(t, "true", bookmark.Annotations[metav1.InitialEventsAnnotationKey])
	assert.NotEmpty(t, bookmark.ResourceVersion)

	select {
	case ev, ok := <-events:
		t.Fatalf("the watch must stay open and quiet after the bookmark, got %+v (open %v)", ev, ok)
	case <-time.After(300 * time.Millisecond):
	}
}

func next(t *testing.T, events <-chan watchEvent) watchEvent {
	t.Helper()
	select {
	case ev, ok := <-events:
		require.True(t, ok, "watch closed early")
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no watch event within 5s")
	}
	return watchEvent{}
}

// TestClientGoInformerSyncsByStreamingList runs a client-go informer
// configured like Prometheus' (protobuf content type) against the fake API
// server: it must sync at once through the streaming list, without the
// fallback to a plain list.
func TestClientGoInformerSyncsByStreamingList(t *testing.T) {
	c := apiCluster(t)
	client, err := kubernetes.NewForConfig(&rest.Config{Host: c.APIServerURL(),
		ContentConfig: rest.ContentConfig{ContentType: "application/vnd.kubernetes.protobuf"}})
	require.NoError(t, err)
	pods := client.CoreV1().Pods("shop")
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return pods.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			return pods.Watch(ctx, o)
		},
	}
	informer := cache.NewSharedInformer(lw, &corev1.Pod{}, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go informer.RunWithContext(ctx)
	start := time.Now()
	syncCtx, syncCancel := context.WithTimeout(ctx, 5*time.Second)
	defer syncCancel()
	require.True(t, cache.WaitForCacheSync(syncCtx.Done(), informer.HasSynced), "informer did not sync")
	t.Logf("informer synced in %s", time.Since(start))
	assert.ElementsMatch(t, []string{"shop/db-1", "shop/web-1"}, informer.GetStore().ListKeys())

	reqs := c.Requests()
	require.NotEmpty(t, reqs)
	for _, r := range reqs {
		t.Log(r)
		assert.Equal(t, "true", r.Query.Get("watch"), "no plain list expected: %s", r)
	}
	assert.Equal(t, "true", reqs[0].Query.Get("sendInitialEvents"))
}
