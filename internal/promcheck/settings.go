package promcheck

// The keys Prometheus reads at each place of its configuration
// (prometheus/config/config.go, discovery/kubernetes), besides the HTTP
// client settings each of these places inlines (common/config's
// HTTPClientConfig, decoded as is). A template override may add any of
// them; settings_test.go keeps the lists equal to Prometheus' own types.
var (
	topLevelSettings = []string{"alerting", "global", "otlp", "remote_read", "remote_write", "rule_files", "runtime",
		"scrape_config_files", "scrape_configs", "storage", "tracing"}
	globalSettings = []string{"always_scrape_classic_histograms", "body_size_limit", "convert_classic_histograms_to_nhcb",
		"evaluation_interval", "external_labels", "extra_scrape_metrics", "keep_dropped_targets", "label_limit",
		"label_name_length_limit", "label_value_length_limit", "metric_name_escaping_scheme", "metric_name_validation_scheme",
		"query_log_file", "rule_query_offset", "sample_limit", "scrape_failure_log_file", "scrape_interval",
		"scrape_native_histograms", "scrape_protocols", "scrape_timeout", "target_limit"}
	scrapeSettings = append([]string{"always_scrape_classic_histograms", "body_size_limit", "convert_classic_histograms_to_nhcb",
		"enable_compression", "extra_scrape_metrics", "fallback_scrape_protocol", "honor_labels", "honor_timestamps", "job_name",
		"keep_dropped_targets", "label_limit", "label_name_length_limit", "label_value_length_limit", "metric_name_escaping_scheme",
		"metric_name_validation_scheme", "metric_relabel_configs", "metrics_path", "native_histogram_bucket_limit",
		"native_histogram_min_bucket_factor", "params", "relabel_configs", "sample_limit", "scheme", "scrape_failure_log_file",
		"scrape_interval", "scrape_native_histograms", "scrape_protocols", "scrape_timeout", "target_limit",
		"track_timestamps_staleness"}, discoveries...)
	alertmanagerSettings = append([]string{"alert_relabel_configs", "api_version", "path_prefix", "relabel_configs",
		"scheme", "sigv4", "timeout"}, discoveries...)
	remoteWriteSettings = []string{"azuread", "failed_request_logging", "google_iam", "headers", "metadata_config", "name",
		"protobuf_message", "queue_config", "remote_timeout", "round_robin_dns", "send_exemplars", "send_native_histograms",
		"sigv4", "url", "write_relabel_configs"}
	kubernetesSDSettings = []string{"api_server", "attach_metadata", "kubeconfig_file", "namespaces", "role", "selectors"}

	// discoveries are the service discoveries Prometheus registers
	// (discovery/install), each a list under <name>_sd_configs, and the
	// static targets.
	discoveries = []string{"aws_sd_configs", "azure_sd_configs", "consul_sd_configs", "digitalocean_sd_configs",
		"dns_sd_configs", "docker_sd_configs", "dockerswarm_sd_configs", "ec2_sd_configs", "ecs_sd_configs",
		"elasticache_sd_configs", "eureka_sd_configs", "file_sd_configs", "gce_sd_configs", "hetzner_sd_configs",
		"http_sd_configs", "ionos_sd_configs", "kubernetes_sd_configs", "kuma_sd_configs", "lightsail_sd_configs",
		"linode_sd_configs", "marathon_sd_configs", "msk_sd_configs", "nerve_sd_configs", "nomad_sd_configs",
		"oci_sd_configs", "openstack_sd_configs", "outscale_sd_configs", "ovhcloud_sd_configs", "puppetdb_sd_configs",
		"rds_sd_configs", "scaleway_sd_configs", "serverset_sd_configs", "stackit_sd_configs", "static_configs",
		"triton_sd_configs", "uyuni_sd_configs", "vultr_sd_configs"}

	// reservedHeaders are the remote write headers Prometheus sets itself
	// (config.go reservedHeaders).
	reservedHeaders = []string{"host", "content-encoding", "content-length", "content-type", "user-agent", "connection",
		"keep-alive", "proxy-authenticate", "proxy-authorization", "www-authenticate", "accept-encoding",
		"x-prometheus-remote-write-version", "x-prometheus-remote-read-version", "x-amz-date", "x-amz-security-token",
		"x-amz-content-sha256"}
)
