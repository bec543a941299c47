// Package ansibletower is broker's AnsibleTower provider: it checks hosts out
// by running AWX / Ansible Tower / AAP controller workflows, checks them in
// and extends them with other workflows, runs workflows and job templates
// (broker execute), lists the hosts kept in the controller's inventories
// (inventory --sync) and answers "broker providers AnsibleTower" listings.
//
// It speaks the controller REST API v2 directly with net/http.
//
// # Settings (the AnsibleTower section, per instance)
//
//	base_url               controller URL, e.g. https://tower.example.com (required)
//	token                  OAuth2 / gateway token, sent as "Authorization: Bearer"
//	username, password     HTTP Basic credentials, used when token is unset
//	inventory              default inventory name (or id) for launches
//	release_workflow       checkin workflow (default remove-vm)
//	extend_workflow        extend workflow (default extend-vm)
//	new_expire_time        extend default (+172800)
//	workflow_timeout       seconds one workflow may run (3600; 0: no limit)
//	workflow_poll_interval seconds between status polls (5)
//	max_resilient_wait     seconds a request is retried on transient failures (7200)
//	results_limit          most items a listing shows (20; applied by broker)
//	aap_version            "2.5" or later: use /api/controller/v2/; older: /api/v2/;
//	                       unset: probe GET /api/ once (no available_versions → 2.5+)
//	ca_file                PEM bundle trusted in addition to the system roots
//	verify_ssl             verify the server certificate (default true)
//	error_scope            last (default): report only the newest failed job; all: every one
//	dangling_behavior      checkin (default): release the VMs a failed workflow made
//	                       (vm_name artifacts of its successful jobs); store, prompt:
//	                       not supported, the VMs are named in the error and left
//	provider_labels        labels added to every launch (as "k=v" AWX labels)
//
// Nothing touches the network in New: the API prefix is chosen on the first
// call that needs it.
//
// # Differences from upstream broker
//
//   - Username and password are sent as HTTP Basic auth on every request;
//     no temporary OAuth2 token is created (so there is none to clean up).
//   - The workflow timeout counts from the launch (local clock), not from the
//     job's created time, so clock skew cannot shrink it.
//   - Transient failures (connection errors, 502, 503, 504) of any GET are
//     retried with exponential backoff (1 s doubling, at most 30 s apart)
//     for up to max_resilient_wait; a POST is retried only when the
//     connection could not be made at all. A 403 is not retried.
//   - Lists follow "next" (page_size=200) instead of reading the first page
//     only.
//   - Checkout builds one host. The hostname is the fact "fqdn" if present,
//     else the alphabetically first fact whose key ends in "fqdn" (Go maps
//     have no order); a list value means its first element. A workflow that
//     published no _broker_facts is an error.
//   - Checkin of a host whose release workflow fails and that no controller
//     inventory knows (GET hosts/?name=) returns an error matching
//     providers.ErrNotFound.
//   - Dangling hosts of a failed workflow (checkout or execute) are
//     released with dangling_behavior checkin; "store" and "prompt" are not
//     supported (a provider cannot write the inventory or ask): the error
//     names the VMs left.
//   - The launch endpoint is POSTed to directly (awxkit GETs it first), and
//     the launched job is polled at its own URL (awxkit reloads it from the
//     template's job list first).
//   - The failure report (*JobError) names each failed node, its job id,
//     status and UI page, the failed task's message (or the traceback of a
//     job in error) and the last lines of the job's stdout.
//
// The record Checkout returns carries the workflow's _broker_args
// artifact; broker's checkout replaces it with the arguments it was given.
package ansibletower

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/broker-go/broker/providers"
)

// Name is the provider's registered name.
const Name = "AnsibleTower"

const (
	defaultReleaseWorkflow = "remove-vm"
	defaultExtendWorkflow  = "extend-vm"
	defaultNewExpireTime   = "+172800"
	defaultWorkflowTimeout = 3600 * time.Second
	defaultPollInterval    = 5 * time.Second
	defaultMaxResilient    = 7200 * time.Second
	defaultResultsLimit    = 20
	maxConnections         = 16
	// requestTimeout bounds one HTTP exchange (a stdout download included).
	requestTimeout = 2 * time.Minute
)

func init() {
	providers.Register(&providers.RegInfo{
		Name:         Name,
		Description:  "AWX / Ansible Tower / AAP workflows and job templates",
		CheckoutKeys: []string{"workflow"},
		ExecuteKeys:  []string{"workflow", "job_template"},
		InfoKeys:     []string{"workflows", "workflow", "job_templates", "job_template", "templates", "inventories", "inventory"},
		Flags: []providers.Flag{
			{Name: "workflow", Key: "workflow", Usage: "workflow job template to launch (providers: show its variables)", Commands: []string{"checkout", "execute", "providers"}},
			{Name: "job-template", Key: "job_template", Usage: "job template to launch (providers: show its variables)", Commands: []string{"execute", "providers"}},
			{Name: "tower-inventory", Key: "tower_inventory", Usage: "controller inventory (name) to launch against", Commands: []string{"checkout", "execute", "providers"}},
			{Name: "new-expire-time", Key: "new_expire_time", Usage: "new expiry given to the extend workflow (default AnsibleTower.new_expire_time)", Commands: []string{"extend"}},
			{Name: "workflows", Key: "workflows", Usage: "list the workflows you may launch", Bool: true, Commands: []string{"providers"}},
			{Name: "job-templates", Key: "job_templates", Usage: "list the job templates you may launch", Bool: true, Commands: []string{"providers"}},
			{Name: "templates", Key: "templates", Usage: "list the VM templates (runs the list-templates workflow)", Bool: true, Commands: []string{"providers"}},
			{Name: "inventories", Key: "inventories", Usage: "list the inventories", Bool: true, Commands: []string{"providers"}},
			{Name: "inventory", Key: "inventory", Usage: "show one inventory", Commands: []string{"providers"}},
		},
		Options: []providers.Option{
			{Name: "base_url", Help: "controller URL, e.g. https://tower.example.com (required)"},
			{Name: "token", Help: "API token (preferred over username and password)", Sensitive: true},
			{Name: "username", Help: "user for Basic auth, and the user inventory --sync looks for"},
			{Name: "password", Help: "password for Basic auth", Sensitive: true},
			{Name: "inventory", Help: "default inventory (name) for launches"},
			{Name: "release_workflow", Help: "workflow checkin runs", Default: defaultReleaseWorkflow},
			{Name: "extend_workflow", Help: "workflow extend runs", Default: defaultExtendWorkflow},
			{Name: "new_expire_time", Help: "expiry extend asks for", Default: defaultNewExpireTime},
			{Name: "workflow_timeout", Help: "seconds a workflow may run", Default: int(defaultWorkflowTimeout / time.Second)},
			{Name: "workflow_poll_interval", Help: "seconds between status polls", Default: int(defaultPollInterval / time.Second)},
			{Name: "max_resilient_wait", Help: "seconds a request is retried on transient failures", Default: int(defaultMaxResilient / time.Second)},
			{Name: "results_limit", Help: "most results a providers listing shows", Default: defaultResultsLimit},
			{Name: "aap_version", Help: "AAP version (2.5 or later uses /api/controller/v2/); unset: probe the server"},
			{Name: "ca_file", Help: "PEM file of CA certificates to trust"},
			{Name: "verify_ssl", Help: "verify the server's TLS certificate", Default: true},
			{Name: "error_scope", Help: "last: report the newest failed job only; all: every failed job", Default: "last"},
			{Name: "dangling_behavior", Help: "what to do with VMs a failed workflow made: checkin (release them); anything else leaves them", Default: "checkin"},
			{Name: "provider_labels", Help: "labels added to every launch"},
			{Name: "default", Help: "this instance is the default one", Default: false},
		},
		New: New,
	})
}

// options are the decoded instance settings.
type options struct {
	BaseURL          string // no trailing slash
	Token            string
	Username         string
	Password         string
	Inventory        string
	ReleaseWorkflow  string
	ExtendWorkflow   string
	NewExpireTime    string
	WorkflowTimeout  time.Duration
	PollInterval     time.Duration
	MaxResilientWait time.Duration
	ResultsLimit     int
	AAPVersion       string
	CAFile           string
	VerifySSL        bool
	ErrorScope       string
	DanglingBehavior string
	Labels           map[string]string
}

func decodeOptions(cfg map[string]any) (options, error) {
	o := options{
		ReleaseWorkflow:  defaultReleaseWorkflow,
		ExtendWorkflow:   defaultExtendWorkflow,
		NewExpireTime:    defaultNewExpireTime,
		WorkflowTimeout:  defaultWorkflowTimeout,
		PollInterval:     defaultPollInterval,
		MaxResilientWait: defaultMaxResilient,
		ResultsLimit:     defaultResultsLimit,
		VerifySSL:        true,
		ErrorScope:       "last",
		DanglingBehavior: "checkin",
	}
	c := make(map[string]any, len(cfg))
	for k, v := range cfg {
		c[strings.ToLower(k)] = v
	}
	str := func(key string) string {
		if v, ok := c[key]; ok && v != nil {
			return strings.TrimSpace(fmt.Sprint(v))
		}
		return ""
	}
	o.BaseURL = strings.TrimRight(str("base_url"), "/")
	if o.BaseURL == "" {
		return o, providers.UserErrorf("set AnsibleTower.base_url (the controller URL, e.g. https://tower.example.com)")
	}
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return o, providers.UserErrorf("AnsibleTower.base_url %q is not an http(s) URL", o.BaseURL)
	}
	o.Token = str("token")
	o.Username = str("username")
	o.Password = str("password")
	if o.Token == "" && (o.Username == "" || o.Password == "") {
		return o, providers.UserErrorf("set AnsibleTower.token (or AnsibleTower.username and AnsibleTower.password)")
	}
	o.Inventory = str("inventory")
	if s := str("release_workflow"); s != "" {
		o.ReleaseWorkflow = s
	}
	if s := str("extend_workflow"); s != "" {
		o.ExtendWorkflow = s
	}
	if s := str("new_expire_time"); s != "" {
		o.NewExpireTime = s
	}
	for _, d := range []struct {
		key string
		dst *time.Duration
	}{{"workflow_timeout", &o.WorkflowTimeout}, {"workflow_poll_interval", &o.PollInterval}, {"max_resilient_wait", &o.MaxResilientWait}} {
		s := str(d.key)
		if s == "" {
			continue
		}
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || n < 0 {
			return o, providers.UserErrorf("AnsibleTower.%s %q is not a number of seconds", d.key, s)
		}
		*d.dst = time.Duration(n * float64(time.Second))
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if s := str("results_limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return o, providers.UserErrorf("AnsibleTower.results_limit %q is not a count", s)
		}
		o.ResultsLimit = n
	}
	o.AAPVersion = str("aap_version")
	if o.AAPVersion != "" {
		if _, ok := parseVersion(o.AAPVersion); !ok {
			return o, providers.UserErrorf("AnsibleTower.aap_version %q is not a version such as 2.4 or 2.5", o.AAPVersion)
		}
	}
	o.CAFile = str("ca_file")
	if s := strings.ToLower(str("verify_ssl")); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return o, providers.UserErrorf("AnsibleTower.verify_ssl %q is not true or false", s)
		}
		o.VerifySSL = b
	}
	if s := strings.ToLower(str("error_scope")); s != "" {
		o.ErrorScope = s
	}
	if s := strings.ToLower(str("dangling_behavior")); s != "" {
		o.DanglingBehavior = s
	}
	o.Labels = labelMap(c["provider_labels"])
	return o, nil
}

// parseVersion reads "2.5", "2.4.1", "v2.6" as major*1000+minor.
func parseVersion(s string) (int, bool) {
	s = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "v")
	parts := strings.Split(s, ".")
	maj, err := strconv.Atoi(parts[0])
	if err != nil {
		return 0, false
	}
	minor := 0
	if len(parts) > 1 {
		if minor, err = strconv.Atoi(parts[1]); err != nil {
			return 0, false
		}
	}
	return maj*1000 + minor, true
}

// Provider is one AnsibleTower instance.
type Provider struct {
	instance string
	user     string
	log      *slog.Logger
	opts     options
	c        *client
}

var (
	_ providers.Provider = (*Provider)(nil)
	_ providers.Executor = (*Provider)(nil)
	_ providers.Extender = (*Provider)(nil)
	_ providers.Informer = (*Provider)(nil)
	_ providers.Limiter  = (*Provider)(nil)
)

// New makes a provider for spec.Instance from spec.Config. It checks and
// decodes the settings and builds the HTTP client; it does not dial.
func New(ctx context.Context, spec providers.Spec) (providers.Provider, error) {
	return newProvider(spec)
}

func newProvider(spec providers.Spec) (*Provider, error) {
	o, err := decodeOptions(spec.Config)
	if err != nil {
		return nil, err
	}
	log := spec.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("provider", Name, "instance", spec.Instance)
	hc, err := httpClient(o, log)
	if err != nil {
		return nil, err
	}
	p := &Provider{instance: spec.Instance, user: spec.User, log: log, opts: o}
	p.c = &client{
		base:        o.BaseURL,
		hc:          hc,
		token:       o.Token,
		username:    o.Username,
		password:    o.Password,
		aapVersion:  o.AAPVersion,
		maxWait:     o.MaxResilientWait,
		backoffBase: time.Second,
		backoffMax:  30 * time.Second,
		log:         log,
		provider:    Name,
		instance:    spec.Instance,
	}
	return p, nil
}

func httpClient(o options, log *slog.Logger) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = maxConnections
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, providers.UserErrorf("AnsibleTower.ca_file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, providers.UserErrorf("AnsibleTower.ca_file %s holds no PEM certificate", o.CAFile)
		}
		tc.RootCAs = pool
	}
	if !o.VerifySSL {
		log.Warn("TLS certificate verification is off (AnsibleTower.verify_ssl: false)")
		tc.InsecureSkipVerify = true
	}
	tr.TLSClientConfig = tc
	return &http.Client{Transport: tr, Timeout: requestTimeout}, nil
}

func (p *Provider) Name() string     { return Name }
func (p *Provider) Instance() string { return p.instance }

// Connections caps the actions run against the controller at once.
func (p *Provider) Connections() int { return maxConnections }

// Close releases idle connections.
func (p *Provider) Close() error {
	p.c.hc.CloseIdleConnections()
	return nil
}
