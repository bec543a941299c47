// Package container is broker's Container provider: it checks hosts out as
// containers on Docker or Podman, runs one-off containers (broker execute)
// and lists the images it can use.
//
// Both runtimes sit behind one small internal interface (engine): the
// Docker Engine API through github.com/docker/docker/client (v24, with API
// version negotiation, so Docker 20.10 and Podman's Docker-compatible API
// work) and Podman's libpod API through the Podman v4 bindings.
//
// # Settings (the Container section, per instance)
//
//	runtime         docker | podman (any case); unset: whatever engine is found
//	host            unix socket path or unix:// URL, tcp://host:port,
//	                ssh://user@host[:port][/socket], or upstream's bare host
//	                name with host_port (22: ssh, else tcp, default 2375);
//	                unset or "localhost": find the local engine (below)
//	host_username   user for ssh:// hosts without one (default root)
//	host_password   password for ssh:// Podman hosts (Docker over ssh uses
//	                keys or the agent only)
//	network         comma-separated networks every container joins
//	auto_map_ports  publish every port the image EXPOSEs on a random host port (default true)
//	name_prefix     prefix of generated container names (default: the local user)
//	timeout         seconds one engine call may take (default 360)
//	provider_labels labels added (as broker.<key>) to every container
//
// With no host set the provider probes, in order, $CONTAINER_HOST (Podman),
// $DOCKER_HOST (Docker), $XDG_RUNTIME_DIR/podman/podman.sock,
// /run/podman/podman.sock and /var/run/docker.sock, and uses the first
// that answers /_ping (2 s each). A socket that answers with a
// Libpod-API-Version header is Podman's and is driven through the libpod
// API, even when found through $DOCKER_HOST, unless runtime is docker.
// Nothing is dialled before the first call that needs the engine.
//
// # Labels
//
// Every container broker makes carries, from creation (so that a container
// left by a killed broker can be found by inventory --sync):
//
//	broker.owner=broker, broker.user=<local user>, broker.provider=Container,
//	broker.instance=<instance>, broker.origin=<_broker_origin>,
//	broker.args=<JSON of the arguments, without "_" keys but _broker_origin>,
//	broker.<key>=<value> for each provider label,
//	broker.ephemeral=true on execute's throwaway containers, and
//	broker.oneoff=true on the scenario container action's one-off containers.
//
// # Records
//
// Checkout returns hostname, name, container_id, image, ip, ports
// ({"22/tcp": "32771"}), exposed_ports (upstream's {"22": "32771"}),
// runtime and container_engine. hostname is the container's own host name
// (its short ID unless --hostname is given) or, when container port 22/tcp
// is published, "<address>:<host port>" for SSH: the remote engine's host
// name for tcp:// and ssh:// engines, else the published address, with
// 127.0.0.1 for a wildcard one. List (inventory --sync) rebuilds the same
// record plus _broker_provider, _broker_provider_instance, _broker_args
// (from broker.args), status, and ephemeral: true for execute's containers.
//
// Differences from upstream: sync matches containers by the broker.owner,
// broker.user (or, with "Container:<prefix>", the name prefix) and
// broker.instance labels, so containers broker did not make are never
// listed, and each record gets its instance; checkin of a container that is
// already gone returns providers.ErrNotFound (the caller drops the record);
// extend is not supported (containers have no lease).
package container

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/providers"
)

// Name is the provider's registered name.
const Name = "Container"

// Labels broker sets on its containers.
const (
	labelPrefix    = "broker."
	labelOwner     = "broker.owner"
	labelUser      = "broker.user"
	labelProvider  = "broker.provider"
	labelInstance  = "broker.instance"
	labelArgs      = "broker.args"
	labelOrigin    = "broker.origin"
	labelEphemeral = "broker.ephemeral"
	ownerValue     = "broker"
)

const (
	defaultTimeout = 360 * time.Second
	// removeTimeout bounds the removal of a half-made or finished
	// container, which runs even when the caller's context is cancelled.
	removeTimeout = time.Minute
	// maxConnections is how many engine operations broker runs at once.
	maxConnections = 16
)

func init() {
	ce := []string{"checkout", "execute"}
	providers.Register(&providers.RegInfo{
		Name:         Name,
		Description:  "containers on Docker or Podman",
		CheckoutKeys: []string{"container_host"},
		ExecuteKeys:  []string{"container_app"},
		InfoKeys:     []string{"container_hosts", "container_host", "container_apps", "container_app"},
		Flags: []providers.Flag{
			{Name: "container-host", Key: "container_host", Usage: "image to run a container host from (providers: show that image)", Commands: []string{"checkout", "providers"}},
			{Name: "container-app", Key: "container_app", Usage: "image to run a one-off container from, with --command (providers: show that image)", Commands: []string{"execute", "providers"}},
			{Name: "container-hosts", Key: "container_hosts", Usage: "list the images usable as container hosts", Bool: true, Commands: []string{"providers"}},
			{Name: "container-apps", Key: "container_apps", Usage: "list the images usable with execute", Bool: true, Commands: []string{"providers"}},
			{Name: "environment", Key: "environment", Usage: "environment variables of the container: KEY=VALUE,KEY2=VALUE2", Commands: ce},
			{Name: "ports", Key: "ports", Usage: "ports to publish: PORT[/PROTO][:HOSTPORT] items, space or comma separated (22 22/udp:1337)", Commands: ce},
			{Name: "volumes", Key: "volumes", Usage: "mounts: SOURCE:TARGET[:ro|rw] items, space or comma separated", Commands: ce},
			{Name: "network", Key: "network", Usage: "networks to join, comma separated (default: Container.network, else the engine's default)", Commands: ce},
			{Name: "command", Key: "command", Usage: "command to run in the container (split like a shell would)", Commands: ce},
			{Name: "name", Key: "name", Usage: "container name (default: <name_prefix>_<8 random hex digits>)", Commands: ce},
			{Name: "hostname", Key: "hostname", Usage: "host name inside the container (default: its short ID)", Commands: ce},
		},
		Options: []providers.Option{
			{Name: "runtime", Help: "docker or podman; unset: the runtime of the engine found"},
			{Name: "host", Help: "engine socket or URL: /path.sock, unix://, tcp://host:port, ssh://user@host[/socket]; unset or localhost: find the local engine"},
			{Name: "host_port", Help: "port for a bare host name: 22 means ssh, anything else tcp", Default: 2375},
			{Name: "host_username", Help: "user for ssh:// hosts", Default: "root"},
			{Name: "host_password", Help: "password for ssh:// Podman hosts", Sensitive: true},
			{Name: "network", Help: "comma-separated networks every container joins"},
			{Name: "auto_map_ports", Help: "publish every port the image exposes on a random host port", Default: true},
			{Name: "name_prefix", Help: "prefix of generated container names and of the sync filter (default: the local user)"},
			{Name: "results_limit", Help: "most results a providers listing shows"},
			{Name: "timeout", Help: "seconds one engine call may take", Default: int(defaultTimeout / time.Second)},
			{Name: "default", Help: "this instance is the default one", Default: false},
			{Name: "provider_labels", Help: "labels added as broker.<key> to every container"},
		},
		New: New,
	})
}

// options are the decoded instance settings.
type options struct {
	Runtime      string // "", "docker", "podman"
	Host         string
	HostPort     int
	HostUsername string
	HostPassword string
	Network      []string
	AutoMapPorts bool
	NamePrefix   string
	Timeout      time.Duration
	Labels       map[string]string
}

func decodeOptions(cfg map[string]any, user string) (options, error) {
	o := options{AutoMapPorts: true, Timeout: defaultTimeout, HostUsername: "root"}
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
	switch rt := strings.ToLower(str("runtime")); rt {
	case "", "docker", "podman":
		o.Runtime = rt
	default:
		return o, providers.UserErrorf("Container.runtime %q is not supported: choose docker or podman", str("runtime"))
	}
	o.Host = str("host")
	if s := str("host_port"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 65535 {
			return o, providers.UserErrorf("Container.host_port %q is not a port number", s)
		}
		o.HostPort = n
	}
	if s := str("host_username"); s != "" {
		o.HostUsername = s
	}
	o.HostPassword = str("host_password")
	nets, err := parseNames(c["network"], "Container.network")
	if err != nil {
		return o, err
	}
	o.Network = nets
	if v, ok := c["auto_map_ports"]; ok && v != nil {
		if o.AutoMapPorts, err = parseBool(v, "Container.auto_map_ports"); err != nil {
			return o, err
		}
	}
	o.NamePrefix = str("name_prefix")
	if o.NamePrefix == "" {
		o.NamePrefix = user
	}
	o.NamePrefix = sanitizeName(o.NamePrefix)
	if s := str("timeout"); s != "" {
		d, err := parseSeconds(s)
		if err != nil {
			return o, providers.UserErrorf("Container.timeout %q: %v", s, err)
		}
		o.Timeout = d
	}
	if o.Labels, err = parseLabels(c["provider_labels"], "Container.provider_labels"); err != nil {
		return o, err
	}
	return o, nil
}

// parseSeconds reads a number of seconds ("360", "2.5") or a Go duration
// ("6m").
func parseSeconds(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f <= 0 {
			return 0, errors.New("want a positive number of seconds")
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errors.New("want a positive number of seconds")
	}
	return d, nil
}

var containerName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// sanitizeName makes a user name usable as a container name prefix.
func sanitizeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			b[i] = '_'
		}
	}
	s = string(b)
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z' || s[0] >= '0' && s[0] <= '9') {
		s = "broker" + s
	}
	return s
}

// Provider is one Container provider instance. It is safe for concurrent
// use; it connects to its engine on the first call that needs it.
type Provider struct {
	instance string
	user     string
	log      *slog.Logger
	opts     options

	mu  sync.Mutex
	eng engine // nil until connected

	// Test hooks.
	probe       []candidate     // replaces localCandidates when non-nil
	afterCreate func(id string) // runs between create and start
}

var (
	_ providers.Provider = (*Provider)(nil)
	_ providers.Executor = (*Provider)(nil)
	_ providers.Informer = (*Provider)(nil)
	_ providers.Limiter  = (*Provider)(nil)
)

// New makes a provider for spec.Instance from spec.Config. It only checks
// and decodes the settings; the engine is found and dialled on first use.
func New(ctx context.Context, spec providers.Spec) (providers.Provider, error) {
	return newProvider(spec)
}

func newProvider(spec providers.Spec) (*Provider, error) {
	o, err := decodeOptions(spec.Config, spec.User)
	if err != nil {
		return nil, err
	}
	log := spec.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Provider{
		instance: spec.Instance,
		user:     spec.User,
		log:      log.With("provider", Name, "instance", spec.Instance),
		opts:     o,
	}, nil
}

func (p *Provider) Name() string     { return Name }
func (p *Provider) Instance() string { return p.instance }

// Connections caps the engine operations run at once.
func (p *Provider) Connections() int { return maxConnections }

// Close releases the engine connection.
func (p *Provider) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.eng == nil {
		return nil
	}
	err := p.eng.Close()
	p.eng = nil
	return err
}

func (p *Provider) candidates() []candidate {
	if p.probe != nil {
		return p.probe
	}
	return localCandidates()
}

// argString is a string argument ("" when absent).
func argString(args providers.Args, key string) string {
	v, ok := args[key]
	if !ok || v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return strings.TrimSpace(s)
	}
	return fmt.Sprint(v)
}

// spec turns broker arguments into a container to create (no engine
// calls). execute selects execute's rules: no automatic port mapping, the
// ephemeral label.
func (p *Provider) spec(args providers.Args, image string, execute bool) (*createSpec, error) {
	cs := &createSpec{Image: image, Hostname: argString(args, "hostname")}
	cs.Name = argString(args, "name")
	if cs.Name == "" {
		var b [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("make a container name: %w", err)
		}
		cs.Name = p.opts.NamePrefix + "_" + hex.EncodeToString(b[:])
	} else if !containerName.MatchString(cs.Name) {
		return nil, providers.UserErrorf("invalid container name %q: use letters, digits, '_', '.' and '-', starting with a letter or digit (at least 2 characters)", cs.Name)
	}
	var err error
	if cs.Command, err = parseCommand(args["command"]); err != nil {
		return nil, err
	}
	if cs.Env, err = parseEnv(args["environment"]); err != nil {
		return nil, err
	}
	origin := argString(args, "_broker_origin")
	if origin != "" {
		if cs.Env == nil {
			cs.Env = map[string]string{}
		}
		cs.Env["BROKER_ORIGIN"] = origin
	}
	if cs.Ports, err = parsePorts(args["ports"]); err != nil {
		return nil, err
	}
	if !execute {
		cs.PublishAll = p.opts.AutoMapPorts
		if v, ok := args["auto_map_ports"]; ok && v != nil {
			if cs.PublishAll, err = parseBool(v, "auto_map_ports"); err != nil {
				return nil, err
			}
		}
	}
	if cs.Volumes, err = parseVolumes(args["volumes"]); err != nil {
		return nil, err
	}
	cs.Networks = p.opts.Network
	if v, ok := args["network"]; ok && v != nil && v != "" {
		if cs.Networks, err = parseNames(v, "network"); err != nil {
			return nil, err
		}
	}
	if cs.Labels, err = p.labels(args, origin); err != nil {
		return nil, err
	}
	if execute {
		cs.Labels[labelEphemeral] = "true"
	}
	return cs, nil
}

// labels are the container's labels (see the package doc).
func (p *Provider) labels(args providers.Args, origin string) (map[string]string, error) {
	recorded := map[string]any{}
	for k, v := range args {
		if strings.HasPrefix(k, "_") && k != "_broker_origin" {
			continue
		}
		recorded[k] = v
	}
	argsJSON, err := json.Marshal(recorded)
	if err != nil {
		return nil, providers.UserErrorf("the arguments cannot be recorded as JSON: %v", err)
	}
	own := map[string]string{
		labelOwner:    ownerValue,
		labelUser:     p.user,
		labelProvider: Name,
		labelInstance: p.instance,
		labelArgs:     string(argsJSON),
		labelOrigin:   origin,
	}
	extra, err := parseLabels(args["provider_labels"], "provider_labels")
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(own)+len(p.opts.Labels)+len(extra))
	for _, set := range []map[string]string{p.opts.Labels, extra} {
		for k, v := range set {
			key := labelPrefix + k
			if _, reserved := own[key]; reserved || key == labelEphemeral || key == labelOneOff {
				return nil, providers.UserErrorf("provider label %q is reserved: broker sets %s itself; rename the label", k, key)
			}
			out[key] = v
		}
	}
	for k, v := range own {
		out[k] = v
	}
	return out, nil
}

// Checkout runs a container from args["container_host"] and returns its
// record. A container is created with all its labels, then started; if
// anything fails after the create, or ctx is cancelled, it is removed
// before Checkout returns.
func (p *Provider) Checkout(ctx context.Context, args providers.Args) (inventory.Host, error) {
	image := argString(args, "container_host")
	if image == "" {
		return nil, providers.UserErrorf("checkout needs an image: give --container-host IMAGE (see broker providers Container --container-hosts)")
	}
	cs, err := p.spec(args, image, false)
	if err != nil {
		return nil, err
	}
	eng, err := p.engine(ctx)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	id, err := p.launch(ctx, eng, cs)
	if err != nil {
		return nil, err
	}
	ci, err := eng.Inspect(ctx, id)
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return nil, p.discard(ctx, eng, id, cs.Name, err)
	}
	p.log.Debug("container running", "name", cs.Name, "id", shortID(id), "image", cs.Image, "seconds", time.Since(start).Seconds())
	return p.record(eng, ci, cs.Networks), nil
}

// launch makes sure the image is there and the networks exist, creates the
// container and starts it. On any failure after the create (or a
// cancelled ctx) it removes the container.
func (p *Provider) launch(ctx context.Context, eng engine, cs *createSpec) (string, error) {
	tag, err := p.ensureImage(ctx, eng, cs.Image)
	if err != nil {
		return "", err
	}
	cs.Image = tag
	for _, n := range cs.Networks {
		ok, err := eng.NetworkExists(ctx, n)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", providers.UserErrorf("network %q not found on %s %s; create it or fix Container.network (or --network)", n, eng.Runtime(), eng.Endpoint())
		}
	}
	// Create and start are not interrupted half-way: an engine finishes a
	// request its client gave up on, which would leave a container nobody
	// knows the ID of. Each runs to its end (within the call timeout) and
	// a cancelled ctx is acted on after it.
	nctx := context.WithoutCancel(ctx)
	id, err := eng.Create(nctx, cs)
	if err != nil {
		if id != "" {
			return "", p.discard(ctx, eng, id, cs.Name, err)
		}
		return "", err
	}
	p.log.Debug("container created", "name", cs.Name, "id", shortID(id))
	if p.afterCreate != nil {
		p.afterCreate(id)
	}
	if err := ctx.Err(); err != nil {
		return "", p.discard(ctx, eng, id, cs.Name, err)
	}
	if err := eng.Start(nctx, id); err != nil {
		return "", p.discard(ctx, eng, id, cs.Name, err)
	}
	if err := ctx.Err(); err != nil {
		return "", p.discard(ctx, eng, id, cs.Name, err)
	}
	return id, nil
}

// discard removes a container that must not outlive a failed or cancelled
// action, even when ctx is cancelled, and says so in the error.
func (p *Provider) discard(ctx context.Context, eng engine, id, name string, cause error) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
	defer cancel()
	if ctx.Err() != nil {
		cause = fmt.Errorf("interrupted: %w", context.Cause(ctx))
	}
	if err := eng.Remove(rctx, id); err != nil && !errors.Is(err, providers.ErrNotFound) {
		p.log.Debug("could not remove a container", "name", name, "id", shortID(id), "error", err)
		return fmt.Errorf("container %s: %w; removing it failed too (%v): remove it by hand or run broker inventory --sync Container", name, cause, err)
	}
	p.log.Debug("container removed", "name", name, "id", shortID(id))
	return fmt.Errorf("container %s (removed): %w", name, cause)
}

// ensureImage returns the local name of image ref, pulling it if no local
// image matches.
func (p *Provider) ensureImage(ctx context.Context, eng engine, ref string) (string, error) {
	imgs, err := eng.Images(ctx)
	if err != nil {
		return "", err
	}
	if tag, _, ok := findImage(imgs, ref); ok {
		return tag, nil
	}
	p.log.Debug("image not local, pulling", "image", ref)
	if err := eng.Pull(ctx, ref); err != nil {
		var ue *unreachableError
		if ctx.Err() != nil || errors.As(err, &ue) {
			return "", err
		}
		return "", &providers.UserError{Err: &notFoundError{
			What: fmt.Sprintf("image %q", ref),
			Err: fmt.Errorf("it is neither a local image on %s %s nor pullable (%v); list the usable images with: broker providers Container --container-hosts",
				eng.Runtime(), eng.Endpoint(), errors.Unwrap(err)),
		}}
	}
	if imgs, err = eng.Images(ctx); err == nil {
		if tag, _, ok := findImage(imgs, ref); ok {
			return tag, nil
		}
	}
	return ref, nil
}

// record is a container's inventory record (see the package doc).
func (p *Provider) record(eng engine, ci *containerInfo, nets []string) inventory.Host {
	ports := map[string]any{}
	exposed := map[string]any{}
	keys := sortedKeys(ci.Ports)
	for _, key := range keys {
		b, ok := pickBinding(ci.Ports[key])
		if !ok {
			continue
		}
		ports[key] = b.Port
		num, proto, _ := strings.Cut(key, "/")
		if _, dup := exposed[num]; !dup || proto == "tcp" {
			exposed[num] = b.Port
		}
	}
	hostname := ci.Hostname
	if hostname == "" {
		hostname = ci.Name
	}
	if hostname == "" {
		hostname = shortID(ci.ID)
	}
	if b, ok := pickBinding(ci.Ports["22/tcp"]); ok {
		addr := eng.Address()
		if addr == "" {
			addr = "127.0.0.1"
			if ip := net.ParseIP(b.IP); ip != nil && !ip.IsUnspecified() {
				addr = b.IP
			}
		}
		hostname = net.JoinHostPort(addr, b.Port)
	}
	return inventory.Host{
		inventory.FieldHostname: hostname,
		inventory.FieldName:     ci.Name,
		"container_id":          ci.ID,
		"image":                 ci.Image,
		"ip":                    firstIP(ci.Networks, nets),
		"ports":                 ports,
		"exposed_ports":         exposed,
		"runtime":               eng.Runtime(),
		"container_engine":      eng.Endpoint(),
		"status":                ci.Status,
	}
}

// pickBinding prefers an IPv4 binding (Docker lists 0.0.0.0 and ::).
func pickBinding(bs []hostPort) (hostPort, bool) {
	var found hostPort
	ok := false
	for _, b := range bs {
		if b.Port == "" {
			continue
		}
		if ip := net.ParseIP(b.IP); b.IP == "" || ip != nil && ip.To4() != nil {
			return b, true
		}
		if !ok {
			found, ok = b, true
		}
	}
	return found, ok
}

// firstIP is the container's address on the first of nets it is on, else
// on its first network by name.
func firstIP(networks map[string]string, nets []string) string {
	for _, n := range nets {
		if ip := networks[n]; ip != "" {
			return ip
		}
	}
	for _, n := range sortedKeys(networks) {
		if ip := networks[n]; ip != "" {
			return ip
		}
	}
	return ""
}

// Checkin removes the record's container (by container_id, or by name for
// records without one) with its anonymous volumes. A container that is
// already gone gives an error matching providers.ErrNotFound. A record whose
// container_id is gone is not looked up by name: another container may
// have that name by now.
func (p *Provider) Checkin(ctx context.Context, host inventory.Host) error {
	ref, _ := host["container_id"].(string)
	if ref == "" {
		ref = host.Name()
	}
	if ref == "" {
		return providers.UserErrorf("check in %s: the record has neither container_id nor name", host.Label())
	}
	eng, err := p.engine(ctx)
	if err != nil {
		return err
	}
	if err := eng.Remove(ctx, ref); err != nil {
		return fmt.Errorf("check in %s: %w", host.Label(), err)
	}
	p.log.Debug("container removed", "host", host.Label(), "ref", shortID(ref))
	return nil
}

// List returns the records of the containers broker made for this user
// (or, when arg is not "", whose name starts with arg) on this instance,
// running or not, rebuilt from the engine and the containers' labels.
func (p *Provider) List(ctx context.Context, arg string) ([]inventory.Host, error) {
	eng, err := p.engine(ctx)
	if err != nil {
		return nil, err
	}
	sums, err := eng.List(ctx, map[string]string{labelOwner: ownerValue})
	if err != nil {
		return nil, err
	}
	var mine []containerSummary
	for _, s := range sums {
		if s.Labels[labelInstance] != p.instance {
			continue
		}
		if arg != "" && !strings.HasPrefix(s.Name, arg) || arg == "" && s.Labels[labelUser] != p.user {
			continue
		}
		mine = append(mine, s)
	}
	infos := make([]*containerInfo, len(mine))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, s := range mine {
		g.Go(func() error {
			ci, err := eng.Inspect(gctx, s.ID)
			if errors.Is(err, providers.ErrNotFound) {
				return nil // removed since the listing
			}
			infos[i] = ci
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var live []*containerInfo
	for _, ci := range infos {
		if ci != nil {
			live = append(live, ci)
		}
	}
	sort.SliceStable(live, func(i, j int) bool {
		if !live[i].Created.Equal(live[j].Created) {
			return live[i].Created.Before(live[j].Created)
		}
		return live[i].Name < live[j].Name
	})
	out := make([]inventory.Host, 0, len(live))
	for _, ci := range live {
		var args map[string]any
		if err := json.Unmarshal([]byte(ci.Labels[labelArgs]), &args); err != nil || args == nil {
			args = map[string]any{"container_host": ci.Image}
			if o := ci.Labels[labelOrigin]; o != "" {
				args["_broker_origin"] = o
			}
		}
		nets := p.opts.Network
		if v, ok := args["network"]; ok {
			if n, err := parseNames(v, "network"); err == nil && len(n) > 0 {
				nets = n
			}
		}
		h := p.record(eng, ci, nets)
		h[inventory.FieldProvider] = Name
		h[inventory.FieldInstance] = p.instance
		h[inventory.FieldArgs] = args
		if ci.Labels[labelEphemeral] == "true" {
			h["ephemeral"] = true
		}
		out = append(out, h)
	}
	return out, nil
}
