// Package v1alpha1 is obsgen's profile format, apiVersion
// obsgen.dev/v1alpha1, kind Profile. Every field is optional unless marked
// required; unset fields take the defaults noted below, which plan.Resolve
// applies. `obsgen schema` prints the same reference as a JSON Schema.
//
// A complete profile, every field set:
//
//	apiVersion: obsgen.dev/v1alpha1      # required
//	kind: Profile                        # required
//	metadata:
//	  name: prod-eu                      # required; output folder out/prod-eu/
//	cluster:
//	  name: prod-eu-1                    # `cluster` external label; default metadata.name
//	  apiServerCIDRs: [10.0.0.10/32]     # required unless network.stance is open
//	  apiServerPort: 6443                # default 443
//	  nodeCIDRs: [10.10.0.0/16]          # required unless network.stance is open
//	  podCIDR: 10.244.0.0/16             # optional
//	mesh:
//	  provider: istio                    # istio | none; default istio
//	  dataPlane: sidecar                 # sidecar | ambient; default sidecar
//	  mtls: STRICT                       # STRICT | PERMISSIVE | DISABLE; default PERMISSIVE
//	  istioNamespace: istio-system       # default istio-system
//	  metricsMerging: false              # meshConfig.enablePrometheusMerge; default true
//	  scrapeStrategy: auto               # auto | merged | istio-certs | permissive-port | direct
//	  authorization: allow               # allow | deny-by-default; default allow
//	  trustDomain: cluster.local         # default cluster.local
//	  peerAuthentication: manage         # manage | workloads-only | none; default manage
//	  gateways:                          # kept reachable under a deny stance, and scraped
//	    - name: public                   # required
//	      namespace: istio-ingress       # default mesh.istioNamespace
//	      podLabels: {istio: ingress}    # required
//	      ports: [8080, 8443]            # required; 15021 (status) is added
//	      sources:                       # default every pod and 0.0.0.0/0, ::/0
//	        - cidrs: [0.0.0.0/0]
//	      destinations:                  # egress gateways: where they send, with ports
//	        - cidrs: [198.51.100.64/26]
//	          ports: [443]
//	monitoring:
//	  namespace: monitoring              # default monitoring
//	  inMesh: false                      # default false
//	  flavours: [prometheus, operator]   # default [prometheus]
//	  prometheus:
//	    name: prometheus                 # default prometheus
//	    workload: StatefulSet            # StatefulSet | Deployment; default StatefulSet
//	    serviceAccount: prometheus       # default prometheus
//	    podLabels:                       # default app.kubernetes.io/name: prometheus
//	      app.kubernetes.io/name: prometheus
//	    scrapeInterval: 30s              # default 30s
//	    scrapeTimeout: 10s               # default 10s
//	    evaluationInterval: 30s          # default 30s
//	    shards: 1                        # hashmod shards, one config each; default 1
//	    mode: server                     # server | agent (scrape and remote-write only)
//	    retention: 30d                   # default: what the rules read (30d with objectives)
//	    storage:                         # operator flavour: a volume per pod; default emptyDir
//	      size: 50Gi                     # required
//	      storageClassName: standard     # default: the cluster's default class
//	    federation:                      # for a global Prometheus (Istio best practice)
//	      enabled: true                  # workload: recording rules + the /federate job
//	      targets: [prometheus.eu-1.example.net:9090]  # one per shard, as the global Prometheus reaches it; default the Service
//	      sources:                       # who scrapes /federate; required under a deny stance
//	        - cidrs: [192.0.2.10/32]     # outside the cluster: the target cannot be a cluster DNS name
//	    remoteWrite:                     # required in agent mode
//	      - name: thanos
//	        url: http://thanos-receive.monitoring:19291/api/v1/receive
//	        cidrs: []                    # the host's addresses; needed under a deny stance for a host outside the cluster
//	        headers: {X-Scope-OrgID: prod}
//	        queue: {capacity: 10000, minShards: 1, maxShards: 50, maxSamplesPerSend: 2000, batchSendDeadline: 5s}
//	    externalLabels:
//	      region: eu-west-1
//	  alertmanager:                      # defaults: monitoring.namespace,
//	    namespace: monitoring            # app.kubernetes.io/name: alertmanager, 9093
//	    podLabels: {app.kubernetes.io/name: alertmanager}
//	    port: 9093
//	    service: alertmanager-operated   # the operator flavour's way in; default: the operator's Service
//	  grafana:                           # defaults: ..., grafana, 3000
//	    namespace: grafana
//	    podLabels: {app.kubernetes.io/name: grafana}
//	    port: 3000
//	  kubeStateMetrics:                  # defaults: ..., kube-state-metrics, 8080
//	    namespace: monitoring
//	    podLabels: {app.kubernetes.io/name: kube-state-metrics}
//	    port: 8080
//	  nodeExporter:                      # defaults follow kube-prometheus-stack: chart label, 9100
//	    namespace: monitoring
//	    podLabels: {app.kubernetes.io/name: prometheus-node-exporter}
//	    port: 9100
//	  prometheusOperator:                # operator flavour; defaults follow kube-prometheus-stack:
//	    namespace: monitoring            # component label, 10250 (its admission webhook)
//	    podLabels: {app.kubernetes.io/component: prometheus-operator}
//	    port: 10250
//	network:
//	  stance: default-deny               # open | default-deny | global-deny; default open
//	  engine: kubernetes                 # kubernetes | calico | admin-network-policy; default kubernetes
//	  dns:
//	    namespace: kube-system           # default kube-system
//	    podLabels: {k8s-app: kube-dns}   # default k8s-app: kube-dns
//	  grafanaIngress:                    # who may open Grafana; cidrs or namespace (+ podLabels)
//	    - namespace: ingress-nginx
//	      podLabels: {app.kubernetes.io/name: ingress-nginx}
//	  alertmanagerEgress:                # where notifications go; cidrs or namespace, and ports
//	    - cidrs: [198.51.100.0/24]
//	      ports: [443, 587]
//	  calico:                            # engine calico only
//	    order: 100                       # order of obsgen's allows; default 100
//	    globalDeny:
//	      manage: true                   # write the deny-all; default true
//	      order: 2000                    # default 2000
//	      excludedNamespaces: [kube-system, calico-system, calico-apiserver, tigera-operator]
//	  adminNetworkPolicy:                # engine admin-network-policy only
//	    priority: 50                     # 1..999 (egress to address ranges: +1); default 50
//	alerting:
//	  platformTeam: platform             # `team` label of the cluster-wide alerts; default platform
//	  receiver: platform-oncall          # the platform team's and every unmatched alert; default platformTeam
//	  severityReceivers:                 # critical | warning | info
//	    critical: platform-pager
//	  groupBy: [alertname, team, namespace, cluster]   # the default
//	  groupWait: 30s                     # default 30s
//	  groupInterval: 5m                  # default 5m
//	  repeatInterval: 4h                 # default 4h
//	  labels: {env: prod}                # added to every alert
//	  disable: [CPUThrottlingHigh]       # alerts or rule groups
//	  overrides:
//	    TargetDown: {threshold: 20, for: 15m}
//	  secret: alertmanager-receivers     # every credential, a key each; default alertmanager-receivers
//	  receivers:                         # each reads its credential from /etc/alertmanager/secrets/<secret>/<key>
//	    - name: platform-oncall          # required; letters, digits, - and _
//	      slack:                         # key platform-oncall.slack-api-url
//	        channel: "#platform"
//	        sendResolved: true
//	    - name: platform-pager
//	      pagerduty:                     # Events API v2; key platform-pager.pagerduty-routing-key
//	        url: https://events.eu.pagerduty.com/v2/enqueue
//	        sendResolved: true
//	    - name: payments-oncall
//	      opsgenie:                      # key payments-oncall.opsgenie-api-key
//	        apiURL: https://api.eu.opsgenie.com/
//	        sendResolved: true
//	      email:
//	        to: [payments@example.com]   # required
//	        from: alertmanager@example.com   # required
//	        smarthost: smtp.example.com:587  # required; host:port
//	        authUsername: alertmanager   # password: key payments-oncall.email-auth-password
//	        requireTLS: true
//	        sendResolved: false
//	    - name: payments-pager
//	      msteams:                       # a Workflows webhook; key payments-pager.msteams-webhook-url
//	        sendResolved: true
//	    - name: watchdog
//	      webhook:                       # a heartbeat service; key watchdog.webhook-url
//	        sendResolved: false
//	  watchdog:                          # the always-firing Watchdog alert, routed first
//	    receiver: watchdog               # default watchdog
//	    repeatInterval: 5m               # the heartbeat's period; default 5m
//	teams:
//	  - name: payments                   # required; the `team` label
//	    namespaces: [payments, payments-batch]   # required; each owned by one team
//	    alerting:
//	      receiver: payments-oncall      # default: the team name
//	      severityReceivers:             # critical | warning | info
//	        critical: payments-pager
//	      labels:
//	        cost_center: "4711"
//	    services:
//	      - name: checkout               # required; job label payments/checkout
//	        namespace: payments          # required; a namespace of the team
//	        selector: {app: checkout}    # required by permissive-port
//	        port: 8080                   # required; the app's metrics port
//	        path: /metrics               # default /metrics
//	        slos:
//	          availability:
//	            target: 99.9             # percent of requests without a server error
//	          latency:
//	            thresholdMs: 250
//	            target: 99               # percent of requests under thresholdMs
//	dashboards:
//	  datasource:
//	    name: Prometheus                 # default Prometheus
//	    uid: obsgen-prod-eu              # default obsgen-<metadata.name>
//	    url: http://prometheus.monitoring.svc:9090   # default the Service; required for agents and shards
//	    cidrs: []                        # the URL host's addresses when it is outside the cluster
//	    headers: {X-Scope-OrgID: prod-eu-1}   # default on a shared store: the remote write's X-Scope-OrgID
//	  disable: [control-plane]           # mesh | team | control-plane | monitoring | gateways
//	  platformFolder: platform           # folder of the mesh, control-plane and monitoring dashboards
//	  grafanaOperator:
//	    enabled: true                    # GrafanaDashboard and GrafanaDatasource resources; default false
//	    instanceLabels: {dashboards: grafana}   # default dashboards: grafana
//	    namespace: grafana               # the operator's pods; default the Grafana namespace
//	    podLabels: {app.kubernetes.io/name: grafana-operator}   # default
//	  extraRows:                         # rows added to team baselines (grafana/team-rows.yaml.tmpl)
//	    - title: Checkout
//	      teams: [payments]              # default every team
//	      panels:
//	        - title: Checkout requests
//	          type: timeseries           # timeseries | stat | table; default timeseries
//	          description: Requests the checkout service answered
//	          unit: reqps                # default short
//	          width: 24                  # grid columns, 1..24; default 12
//	          queries:
//	            - expr: sum(rate(istio_requests_total{team="$team", destination_canonical_service="checkout"}[$__rate_interval]))
//	              legend: checkout
package v1alpha1
