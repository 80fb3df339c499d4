package alertmanager

// The keys Alertmanager reads at each place of its configuration
// (alertmanager/config: Config, GlobalConfig, Receiver and each
// integration's config type). A template override may write any of them
// (_receivers.tmpl invites integrations obsgen does not model);
// settings_test.go keeps the lists equal to Alertmanager's own types.
var (
	amTopLevel = []string{"event_recorder", "global", "inhibit_rules", "mute_time_intervals", "receivers", "route",
		"templates", "time_intervals", "tracing"}
	amGlobal = []string{"http_config", "jira_api_url", "mattermost_webhook_url", "mattermost_webhook_url_file",
		"opsgenie_api_key", "opsgenie_api_key_file", "opsgenie_api_url", "pagerduty_url", "resolve_timeout",
		"rocketchat_api_url", "rocketchat_token", "rocketchat_token_file", "rocketchat_token_id", "rocketchat_token_id_file",
		"slack_api_url", "slack_api_url_file", "slack_app_token", "slack_app_token_file", "slack_app_url",
		"smtp_auth_identity", "smtp_auth_password", "smtp_auth_password_file", "smtp_auth_secret", "smtp_auth_secret_file",
		"smtp_auth_username", "smtp_force_implicit_tls", "smtp_from", "smtp_hello", "smtp_require_tls", "smtp_smarthost",
		"smtp_tls_config", "telegram_api_url", "telegram_bot_token", "telegram_bot_token_file", "victorops_api_key",
		"victorops_api_key_file", "victorops_api_url", "webex_api_url", "wechat_api_corp_id", "wechat_api_secret",
		"wechat_api_secret_file", "wechat_api_url"}
	amIntegrations = map[string][]string{
		"discord_configs": {"avatar_url", "content", "http_config", "message", "send_resolved", "title", "username", "webhook_url",
			"webhook_url_file"},
		"email_configs": {"auth_identity", "auth_password", "auth_password_file", "auth_secret", "auth_secret_file", "auth_username",
			"force_implicit_tls", "from", "headers", "hello", "html", "require_tls", "send_resolved", "smarthost", "text", "threading",
			"tls_config", "to"},
		"incidentio_configs": {"alert_source_token", "alert_source_token_file", "http_config", "max_alerts", "send_resolved",
			"timeout", "url", "url_file"},
		"pagerduty_configs": {"class", "client", "client_url", "component", "description", "details", "group", "http_config",
			"images", "links", "routing_key", "routing_key_file", "send_resolved", "service_key", "service_key_file", "severity",
			"source", "timeout", "url"},
		"slack_configs": {"actions", "api_url", "api_url_file", "app_token", "app_token_file", "app_url", "callback_id", "channel",
			"color", "fallback", "fields", "footer", "http_config", "icon_emoji", "icon_url", "image_url", "link_names",
			"message_text", "mrkdwn_in", "pretext", "send_resolved", "short_fields", "text", "thumb_url", "timeout", "title",
			"title_link", "update_message", "username"},
		"webhook_configs": {"http_config", "max_alerts", "payload", "send_resolved", "timeout", "url", "url_file"},
		"opsgenie_configs": {"actions", "api_key", "api_key_file", "api_url", "description", "details", "entity", "http_config",
			"message", "note", "priority", "responders", "send_resolved", "source", "tags", "update_alerts"},
		"wechat_configs": {"agent_id", "api_secret", "api_secret_file", "api_url", "corp_id", "http_config", "message",
			"message_type", "send_resolved", "to_party", "to_tag", "to_user"},
		"pushover_configs": {"device", "expire", "html", "http_config", "message", "monospace", "priority", "retry",
			"send_resolved", "sound", "title", "token", "token_file", "ttl", "url", "url_title", "user_key", "user_key_file"},
		"victorops_configs": {"api_key", "api_key_file", "api_url", "custom_fields", "entity_display_name", "http_config",
			"message_type", "monitoring_tool", "routing_key", "send_resolved", "state_message"},
		"sns_configs": {"api_url", "attributes", "http_config", "message", "phone_number", "send_resolved", "sigv4", "subject",
			"target_arn", "topic_arn", "use_aws_http_client"},
		"telegram_configs": {"api_url", "bot_token", "bot_token_file", "chat_id", "chat_id_file", "disable_notifications",
			"http_config", "message", "message_thread_id", "parse_mode", "send_resolved"},
		"webex_configs":     {"api_url", "http_config", "message", "room_id", "send_resolved"},
		"msteams_configs":   {"http_config", "send_resolved", "summary", "text", "title", "webhook_url", "webhook_url_file"},
		"msteamsv2_configs": {"http_config", "send_resolved", "text", "title", "webhook_url", "webhook_url_file"},
		"jira_configs": {"api_type", "api_url", "description", "fields", "http_config", "issue_type", "labels", "priority",
			"project", "reopen_duration", "reopen_transition", "resolve_transition", "send_resolved", "summary",
			"wont_fix_resolution"},
		"rocketchat_configs": {"actions", "api_url", "channel", "color", "emoji", "fields", "http_config", "icon_url", "image_url",
			"link_names", "send_resolved", "short_fields", "text", "thumb_url", "title", "title_link", "token", "token_file",
			"token_id", "token_id_file"},
		"mattermost_configs": {"attachments", "author_icon", "author_link", "author_name", "channel", "color", "fallback", "fields",
			"footer", "footer_icon", "http_config", "icon_emoji", "icon_url", "image_url", "pretext", "priority", "props",
			"send_resolved", "text", "thumb_url", "title", "title_link", "type", "username", "webhook_url", "webhook_url_file"},
	}
)
