package profile

import (
	"fmt"
	"net"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"

	amcommoncfg "github.com/prometheus/alertmanager/config/common"
	"github.com/prometheus/common/model"
	"k8s.io/apimachinery/pkg/util/validation"

	"obsgen.dev/obsgen/internal/api/v1alpha1"
	"obsgen.dev/obsgen/internal/plan"
)

// receiverName is what a defined receiver may be called: its name is the
// first part of its Secret keys (<name>.<field>), which allow letters,
// digits, '-', '_' and '.', and the '.' separates the parts.
var receiverName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// integrationKinds name the integrations in hints, as the profile spells
// them.
const integrationKinds = "slack, pagerduty, opsgenie, webhook, email or msteams"

// receivers checks the receivers the profile defines, then warns about
// every route whose alerts would reach nobody and every receiver nothing
// routes to.
func (v *validator) receivers() {
	a := v.p.Alerting
	if errs := validation.IsDNS1123Subdomain(a.Secret); len(errs) > 0 {
		v.at("alerting.secret", "name a Kubernetes Secret, such as alertmanager-receivers", "invalid Secret name %q: %s", a.Secret, errs[0])
	}
	defined := map[string]int{}
	for i, r := range a.Receivers {
		path := fmt.Sprintf("alerting.receivers[%d]", i)
		v.receiverDefinition(path, r, defined, i)
	}
	v.watchdog()
	routes := plan.ReceiverRoutes(v.p, v.l.Profile)
	v.undefinedReceivers(routes, defined)
	v.idleReceivers(routes)
	v.watchdogShared(routes)
	v.receiverEgress()
}

func (v *validator) receiverDefinition(path string, r v1alpha1.Receiver, defined map[string]int, i int) {
	switch j, dup := defined[r.Name]; {
	case r.Name == "":
		v.at(path+".name", "name the receiver, such as payments-pager", "missing")
	case !receiverName.MatchString(r.Name):
		v.at(path+".name", "use letters, digits, '-' and '_': the name starts the receiver's Secret keys (<name>.<integration>-<field>)",
			"invalid receiver name %q", r.Name)
	case dup:
		v.at(path+".name", fmt.Sprintf("merge it with alerting.receivers[%d], or rename it", j), "duplicate receiver %q", r.Name)
	default:
		defined[r.Name] = i
		for _, f := range plan.ReceiverSecretFiles(r, v.p.Alerting.Secret) {
			if errs := validation.IsConfigMapKey(f.Key); len(errs) > 0 {
				v.at(path+".name", "shorten it", "too long: its Secret key %q is invalid: %s", f.Key, errs[0])
				break
			}
		}
	}
	v.integrationSettings(path, r)
}

// integrationSettings checks the non-secret settings of each integration.
func (v *validator) integrationSettings(path string, r v1alpha1.Receiver) {
	if s := r.Slack; s != nil {
		v.noAlertmanagerTemplate(path+".slack.channel", s.Channel)
	}
	if pd := r.PagerDuty; pd != nil && pd.URL != "" {
		v.alertmanagerURL(path+".pagerduty.url", pd.URL, "https://events.eu.pagerduty.com/v2/enqueue")
	}
	if og := r.Opsgenie; og != nil && og.APIURL != "" {
		v.alertmanagerURL(path+".opsgenie.apiURL", og.APIURL, "https://api.eu.opsgenie.com/")
	}
	if e := r.Email; e != nil {
		v.email(path+".email", *e)
	}
}

// alertmanagerURL checks a URL with Alertmanager's own parser, which wants
// an absolute http(s) URL.
func (v *validator) alertmanagerURL(path, s, example string) {
	if _, err := amcommoncfg.ParseURL(s); err != nil {
		v.at(path, "write an absolute http(s) URL such as "+example, "not a URL Alertmanager accepts (got %q): %v", s, err)
	}
}

func (v *validator) email(path string, e v1alpha1.EmailReceiver) {
	if len(e.To) == 0 {
		v.at(path+".to", "list the recipients, such as [oncall@example.com]", "missing")
	}
	for i, to := range e.To {
		v.emailAddress(fmt.Sprintf("%s.to[%d]", path, i), to)
	}
	if e.From == "" {
		v.at(path+".from", "give the sender, such as alertmanager@example.com", "missing")
	} else {
		v.emailAddress(path+".from", e.From)
	}
	v.smarthost(path+".smarthost", e.Smarthost)
}

func (v *validator) emailAddress(path, s string) {
	if strings.Contains(s, "{{") {
		v.noAlertmanagerTemplate(path, s)
		return
	}
	if _, err := mail.ParseAddress(s); err != nil {
		hint := "write one address such as oncall@example.com"
		if strings.Contains(s, ",") {
			hint = "list each address as an entry of its own"
		}
		v.at(path, hint, "not an email address (got %q)", s)
	}
}

// smarthost checks host:port as Alertmanager's HostPort does.
func (v *validator) smarthost(path, s string) {
	if s == "" {
		v.at(path, "give the SMTP server as host:port, such as smtp.example.com:587", "missing")
		return
	}
	host, port, err := net.SplitHostPort(s)
	n, perr := strconv.Atoi(port)
	if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
		v.at(path, "write host:port, such as smtp.example.com:587", "not a host:port (got %q)", s)
	}
}

// noAlertmanagerTemplate refuses {{ }} in a value Alertmanager expands as
// a template (a Slack channel, email addresses).
func (v *validator) noAlertmanagerTemplate(path, s string) {
	if strings.Contains(s, "{{") || strings.Contains(s, "}}") {
		v.at(path, "remove the braces", "Alertmanager expands {{ }} templates in this field (got %q)", s)
	}
}

// watchdog checks the Watchdog route's settings.
func (v *validator) watchdog() {
	w := v.p.Alerting.Watchdog
	if v.written("alerting.watchdog.receiver") && v.l.Profile.Alerting.Watchdog.Receiver == "" {
		v.at("alerting.watchdog.receiver", "name the heartbeat receiver, or leave the field out for `watchdog`", "empty receiver")
	}
	if d := v.duration("alerting.watchdog.repeatInterval", w.RepeatInterval); d > 0 && d < minWatchdogRepeat {
		v.at("alerting.watchdog.repeatInterval", "use 1m or more",
			"%s is shorter than the Watchdog route's group interval (%s), the tick at which Alertmanager sends a due repeat",
			w.RepeatInterval, plan.WatchdogGroupInterval)
	}
}

var minWatchdogRepeat = func() model.Duration {
	d, err := model.ParseDuration(plan.WatchdogGroupInterval)
	if err != nil {
		panic(err)
	}
	return d
}()

// undefinedReceivers warns at every route to a receiver the profile does
// not define: Alertmanager gets it by name only, and drops what it gets.
func (v *validator) undefinedReceivers(routes []plan.ReceiverRoute, defined map[string]int) {
	for _, r := range routes {
		if _, ok := defined[r.Receiver]; ok || r.Receiver == "" {
			continue
		}
		name := strconv.Quote(r.Receiver)
		if r.Default != "" {
			name += " (" + r.Default + ")"
		}
		if r.Watchdog {
			v.warnAt(r.Source, fmt.Sprintf("define it in alerting.receivers with an integration for a heartbeat service, such as "+
				"{name: %s, webhook: {sendResolved: false}} with the service's URL in the Secret key %s",
				r.Receiver, plan.SecretKey(r.Receiver, plan.KeyWebhookURL)),
				"receiver %s is not defined in alerting.receivers: %s goes nowhere, so nothing notices when alerting stops", name, r.What)
			continue
		}
		v.warnAt(r.Source, fmt.Sprintf("define it in alerting.receivers with %s, or route to a receiver defined there", integrationKinds),
			"receiver %s is not defined in alerting.receivers: %s reach nobody", name, r.What)
	}
}

// idleReceivers warns at every defined receiver that notifies nobody or
// that nothing routes to.
func (v *validator) idleReceivers(routes []plan.ReceiverRoute) {
	// What reaches each receiver, in route order without repeats; grouped
	// once, as a profile of thousands of teams has thousands of receivers
	// and routes (and one default receiver may get every team's).
	reaching := map[string][]string{}
	seen := map[[2]string]bool{}
	for _, rt := range routes {
		if k := [2]string{rt.Receiver, rt.What}; !seen[k] {
			seen[k] = true
			reaching[rt.Receiver] = append(reaching[rt.Receiver], rt.What)
		}
	}
	for i, r := range v.p.Alerting.Receivers {
		path := fmt.Sprintf("alerting.receivers[%d]", i)
		var what []string
		if r.Name != "" {
			what = reaching[r.Name]
		}
		switch {
		case r.Integrations() == 0 && len(what) > 0:
			v.warnAt(path, "add one of "+integrationKinds, "receiver %q has no integration: %s reach nobody", r.Name, strings.Join(what, "; "))
		case r.Integrations() == 0:
			v.warnAt(path, "add one of "+integrationKinds+" and route to it, or remove it", "receiver %q has no integration and nothing routes to it", r.Name)
		case len(what) == 0 && r.Name != "":
			v.warnAt(path+".name", "name it in teams[].alerting.receiver or severityReceivers, alerting.receiver or severityReceivers, or alerting.watchdog.receiver; or remove it",
				"nothing routes to receiver %q", r.Name)
		}
	}
}

// watchdogShared warns when the Watchdog's receiver also gets alerts: the
// Watchdog never stops firing, so it would notify there every repeat.
func (v *validator) watchdogShared(routes []plan.ReceiverRoute) {
	w := v.p.Alerting.Watchdog
	for _, r := range routes {
		if !r.Watchdog && r.Receiver == w.Receiver {
			v.warnAt("alerting.watchdog.receiver", "give the heartbeat service a receiver of its own",
				"receiver %q also gets %s: the always-firing Watchdog would notify it every %s", w.Receiver, r.What, w.RepeatInterval)
			return
		}
	}
}

// receiverEgress warns when the network stance keeps notifications in:
// Alertmanager reaches its receivers only through network.alertmanagerEgress.
func (v *validator) receiverEgress() {
	n := v.p.Network
	// With an agent, the ruler's Alertmanager runs where the ruler does,
	// not behind this cluster's policies.
	if n.Stance == v1alpha1.StanceOpen || v.p.Monitoring.Prometheus.Mode == v1alpha1.ModeAgent {
		return
	}
	var ports []int
	for _, e := range n.AlertmanagerEgress {
		ports = append(ports, e.Ports...)
	}
	for i, r := range v.p.Alerting.Receivers {
		if r.Integrations() > 0 && len(n.AlertmanagerEgress) == 0 {
			v.warnAt("network.alertmanagerEgress", "list where the receivers' integrations send, with their ports (443 for Slack, PagerDuty, Opsgenie and Teams)",
				"under network.stance %s no notification leaves Alertmanager without it", n.Stance)
			return
		}
		if e := r.Email; e != nil {
			if _, port, err := net.SplitHostPort(e.Smarthost); err == nil {
				if p, err := strconv.Atoi(port); err == nil && !slices.Contains(ports, p) {
					v.warnAt(fmt.Sprintf("alerting.receivers[%d].email.smarthost", i), fmt.Sprintf("add the smarthost's address range with port %d to network.alertmanagerEgress", p),
						"under network.stance %s Alertmanager reaches no port %d: network.alertmanagerEgress does not list it", n.Stance, p)
				}
			}
		}
	}
}
