package container

import (
	"fmt"
	"net/netip"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/broker-go/broker/providers"
)

// This file turns broker arguments (strings from the command line, or lists
// and maps from an args file) into typed container settings. Every parser
// returns a *providers.UserError naming the bad item and the accepted forms.

// portSpec is one published port: container port Port/Proto on the engine
// host's HostIP:HostPort (HostPort 0 = a random free port, HostIP "" = all
// addresses).
type portSpec struct {
	Port     uint16
	Proto    string
	HostIP   string
	HostPort uint16
}

// key is the engines' name for the container port ("22/tcp").
func (p portSpec) key() string { return strconv.Itoa(int(p.Port)) + "/" + p.Proto }

const portForms = "use PORT[/PROTO][:HOSTPORT] (22, 22/tcp, 22:1337, 22/udp:1337) or HOSTIP:[HOSTPORT]:PORT[/PROTO] (127.0.0.1:1337:22, 127.0.0.1::22); PROTO is tcp, udp or sctp, items are separated by spaces or commas"

// parsePorts reads the ports argument: a string of items separated by
// whitespace or commas, a list of items (strings or numbers), or a map
// {"22/tcp": 1337 | null}. Items are upstream's PORT[/PROTO][:HOSTPORT]
// (container port first, then the host port) or Docker's
// HOSTIP:[HOSTPORT]:PORT[/PROTO]. A later item for the same container port
// replaces an earlier one (upstream kept a map). The result keeps first-seen
// order.
func parsePorts(v any) ([]portSpec, error) {
	var items []string
	switch t := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		keys := sortedKeys(t)
		for _, k := range keys {
			item := k
			switch hv := t[k].(type) {
			case nil:
			case string:
				if hv != "" {
					item += ":" + hv
				}
			default:
				item += ":" + fmt.Sprint(hv)
			}
			items = append(items, item)
		}
	case map[string]string:
		for _, k := range sortedKeys(t) {
			item := k
			if t[k] != "" {
				item += ":" + t[k]
			}
			items = append(items, item)
		}
	default:
		var err error
		items, err = listItems(v, "ports")
		if err != nil {
			return nil, err
		}
	}
	var out []portSpec
	index := map[string]int{}
	for _, item := range items {
		p, err := parsePort(item)
		if err != nil {
			return nil, providers.UserErrorf("invalid port spec %q: %v; %s", item, err, portForms)
		}
		if i, ok := index[p.key()]; ok {
			out[i] = p
			continue
		}
		index[p.key()] = len(out)
		out = append(out, p)
	}
	return out, nil
}

func parsePort(item string) (portSpec, error) {
	var p portSpec
	hostIP := ""
	rest := item
	if strings.HasPrefix(item, "[") { // [::1]:1337:22
		end := strings.Index(item, "]")
		if end < 0 {
			return p, fmt.Errorf("unterminated [IPv6 address]")
		}
		hostIP = item[1:end]
		rest = item[end+1:]
		if !strings.HasPrefix(rest, ":") {
			return p, fmt.Errorf("want [HOSTIP]:[HOSTPORT]:PORT")
		}
		rest = "x" + rest // placeholder for the address part
	}
	parts := strings.Split(rest, ":")
	if hostIP != "" && len(parts) != 3 {
		return p, fmt.Errorf("want [HOSTIP]:[HOSTPORT]:PORT")
	}
	var cport, hport string
	switch len(parts) {
	case 1:
		cport = parts[0]
	case 2:
		cport, hport = parts[0], parts[1]
		if hport == "" {
			return p, fmt.Errorf("empty host port after ':'")
		}
	case 3:
		if hostIP == "" {
			hostIP = parts[0]
		}
		hport, cport = parts[1], parts[2]
		addr, err := netip.ParseAddr(hostIP)
		if err != nil || addr.Zone() != "" {
			return p, fmt.Errorf("%q is not an IP address", hostIP)
		}
		hostIP = addr.String()
	default:
		return p, fmt.Errorf("too many ':'")
	}
	proto := "tcp"
	if c, pr, ok := strings.Cut(cport, "/"); ok {
		cport, proto = c, strings.ToLower(pr)
	}
	switch proto {
	case "tcp", "udp", "sctp":
	default:
		return p, fmt.Errorf("unknown protocol %q", proto)
	}
	n, err := portNumber(cport, "container port")
	if err != nil {
		return p, err
	}
	p.Port, p.Proto, p.HostIP = n, proto, hostIP
	if hport != "" {
		if p.HostPort, err = portNumber(hport, "host port"); err != nil {
			return p, err
		}
	}
	return p, nil
}

func portNumber(s, what string) (uint16, error) {
	if s == "" {
		return 0, fmt.Errorf("missing %s", what)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%s %q is not a number", what, s)
		}
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%s %q is not between 1 and 65535", what, s)
	}
	return uint16(n), nil
}

// volumeSpec is one mount: a host path (Source starts with "/") or a named
// volume, at Target in the container.
type volumeSpec struct {
	Source   string
	Target   string
	ReadOnly bool
	Relabel  string // "", "z" or "Z" (SELinux)
}

// Named reports whether Source is a volume name rather than a host path.
func (v volumeSpec) Named() bool { return !strings.HasPrefix(v.Source, "/") }

// bind is the Docker -v form of the mount.
func (v volumeSpec) bind() string {
	s := v.Source + ":" + v.Target
	var opts []string
	if v.ReadOnly {
		opts = append(opts, "ro")
	}
	if v.Relabel != "" {
		opts = append(opts, v.Relabel)
	}
	if len(opts) > 0 {
		s += ":" + strings.Join(opts, ",")
	}
	return s
}

const volumeForms = "use SOURCE:TARGET[:ro|rw|z|Z], where SOURCE is an absolute path on the engine's host or a volume name and TARGET an absolute path in the container; items are separated by spaces or commas"

var volumeName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// parseVolumes reads the volumes argument: "src:dst[:mode]" items separated
// by whitespace or commas, a list of items, or docker-py's map
// {src: dst | {bind: dst, mode: ro}}.
func parseVolumes(v any) ([]volumeSpec, error) {
	var items []string
	switch t := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		for _, src := range sortedKeys(t) {
			switch d := t[src].(type) {
			case string:
				items = append(items, src+":"+d)
			case map[string]any:
				bind, _ := d["bind"].(string)
				item := src + ":" + bind
				if mode, ok := d["mode"].(string); ok && mode != "" {
					item += ":" + mode
				}
				items = append(items, item)
			default:
				return nil, providers.UserErrorf("invalid volume %q: want a target path or {bind: PATH, mode: ro|rw}, got %v; %s", src, t[src], volumeForms)
			}
		}
	default:
		var err error
		items, err = listItems(v, "volumes")
		if err != nil {
			return nil, err
		}
	}
	out := make([]volumeSpec, 0, len(items))
	for _, item := range items {
		vs, err := parseVolume(item)
		if err != nil {
			return nil, providers.UserErrorf("invalid volume %q: %v; %s", item, err, volumeForms)
		}
		out = append(out, vs)
	}
	return out, nil
}

func parseVolume(item string) (volumeSpec, error) {
	var v volumeSpec
	parts := strings.Split(item, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return v, fmt.Errorf("want SOURCE:TARGET or SOURCE:TARGET:MODE")
	}
	v.Source, v.Target = parts[0], parts[1]
	switch {
	case v.Source == "":
		return v, fmt.Errorf("empty source")
	case strings.HasPrefix(v.Source, "/"):
		v.Source = path.Clean(v.Source)
	case !volumeName.MatchString(v.Source):
		return v, fmt.Errorf("source %q is neither an absolute path nor a volume name", v.Source)
	}
	if !strings.HasPrefix(v.Target, "/") {
		return v, fmt.Errorf("target %q is not an absolute path", v.Target)
	}
	v.Target = path.Clean(v.Target)
	if strings.ContainsAny(item, "\x00\n") {
		return v, fmt.Errorf("control characters in the spec")
	}
	if len(parts) == 3 {
		switch parts[2] {
		case "ro":
			v.ReadOnly = true
		case "rw":
		case "z", "Z":
			v.Relabel = parts[2]
		default:
			return v, fmt.Errorf("unknown mode %q", parts[2])
		}
	}
	return v, nil
}

const envForms = "use KEY=VALUE items separated by commas (K=V,K2=V2), a list of KEY=VALUE, or a map"

// parseEnv reads the environment argument: a map, a list of "K=V", or a
// "K=V,K2=V2" string (upstream's form; values cannot hold commas there).
func parseEnv(v any) (map[string]string, error) {
	out := map[string]string{}
	add := func(k, val string) error {
		k = strings.TrimSpace(k)
		switch {
		case k == "":
			return fmt.Errorf("empty name")
		case strings.ContainsAny(k, "= \t\r\n\x00"):
			return fmt.Errorf("name %q holds '=', a blank or a control character", k)
		case strings.ContainsRune(val, 0):
			return fmt.Errorf("NUL in the value of %s", k)
		}
		out[k] = val
		return nil
	}
	item := func(s string) error {
		k, val, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("no '='")
		}
		return add(k, val)
	}
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		for _, s := range strings.Split(t, ",") {
			if strings.TrimSpace(s) == "" {
				continue
			}
			if err := item(s); err != nil {
				return nil, providers.UserErrorf("invalid environment item %q: %v; %s", s, err, envForms)
			}
		}
	case map[string]any:
		for k, val := range t {
			s := ""
			if val != nil {
				s = fmt.Sprint(val)
			}
			if err := add(k, s); err != nil {
				return nil, providers.UserErrorf("invalid environment variable %q: %v; %s", k, err, envForms)
			}
		}
	case map[string]string:
		for k, val := range t {
			if err := add(k, val); err != nil {
				return nil, providers.UserErrorf("invalid environment variable %q: %v; %s", k, err, envForms)
			}
		}
	case []any, []string:
		items, err := listItems(t, "environment")
		if err != nil {
			return nil, err
		}
		for _, s := range items {
			if err := item(s); err != nil {
				return nil, providers.UserErrorf("invalid environment item %q: %v; %s", s, err, envForms)
			}
		}
	default:
		return nil, providers.UserErrorf("invalid environment %v (%T); %s", v, v, envForms)
	}
	return out, nil
}

// envList is the engines' KEY=VALUE form, sorted.
func envList(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for _, k := range sortedKeys(env) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// parseCommand reads the command argument: a list, or a string split as a
// POSIX shell would split words (quotes and backslashes; no expansions).
func parseCommand(v any) ([]string, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case string:
		words, err := splitWords(t)
		if err != nil {
			return nil, providers.UserErrorf("invalid command %q: %v", t, err)
		}
		return words, nil
	case []string:
		return append([]string(nil), t...), nil
	case []any:
		out := make([]string, len(t))
		for i, w := range t {
			out[i] = fmt.Sprint(w)
		}
		return out, nil
	}
	return nil, providers.UserErrorf("invalid command %v (%T): give a string or a list of words", v, v)
}

// splitWords splits s into words like a POSIX shell: blanks separate words,
// 'single quotes' keep everything, "double quotes" keep everything but \" \\
// \$ \` and a backslash outside quotes escapes the next character.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\\':
			inWord = true
			if i+1 >= len(s) {
				return nil, fmt.Errorf("trailing backslash")
			}
			i++
			if s[i] != '\n' {
				cur.WriteByte(s[i])
			}
		case c == '\'':
			inWord = true
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
		case c == '"':
			inWord = true
			closed := false
			for i++; i < len(s); i++ {
				c := s[i]
				if c == '"' {
					closed = true
					break
				}
				if c == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`\n", s[i+1]) >= 0 {
					i++
					if s[i] != '\n' {
						cur.WriteByte(s[i])
					}
					continue
				}
				cur.WriteByte(c)
			}
			if !closed {
				return nil, fmt.Errorf("unterminated double quote")
			}
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

// parseNames reads a list of names (networks): a string with commas or
// blanks between names, or a list.
func parseNames(v any, what string) ([]string, error) {
	items, err := listItems(v, what)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, s := range items {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out, nil
}

// listItems splits a string on whitespace and commas, or reads a list of
// strings or numbers; empty items are dropped.
func listItems(v any, what string) ([]string, error) {
	var out []string
	switch t := v.(type) {
	case nil:
	case string:
		out = strings.FieldsFunc(t, func(r rune) bool {
			return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
		})
	case []string:
		for _, s := range t {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	case []any:
		for _, x := range t {
			switch x.(type) {
			case string, int, int64, float64, uint16, uint64:
			default:
				return nil, providers.UserErrorf("invalid %s item %v (%T): want a string", what, x, x)
			}
			if s := strings.TrimSpace(fmt.Sprint(x)); s != "" {
				out = append(out, s)
			}
		}
	case int, int64, float64:
		out = []string{fmt.Sprint(t)}
	default:
		return nil, providers.UserErrorf("invalid %s %v (%T): give a string or a list", what, v, v)
	}
	return out, nil
}

// parseBool reads a boolean setting or argument: a bool, or one of
// true/false/yes/no/on/off/1/0 (any case).
func parseBool(v any, what string) (bool, error) {
	switch t := v.(type) {
	case bool:
		return t, nil
	case int:
		return t != 0, nil
	case int64:
		return t != 0, nil
	case float64:
		return t != 0, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "true", "yes", "on", "1", "y":
			return true, nil
		case "false", "no", "off", "0", "n", "":
			return false, nil
		}
	}
	return false, providers.UserErrorf("%s: want true or false, got %v", what, v)
}

// parseLabels reads provider labels: a map (nil values become ""), or a
// "k=v,k2=v2" string.
func parseLabels(v any, what string) (map[string]string, error) {
	switch t := v.(type) {
	case nil:
		return nil, nil
	case map[string]string:
		return t, nil
	case map[string]any:
		out := make(map[string]string, len(t))
		for k, val := range t {
			if val == nil {
				out[k] = ""
				continue
			}
			out[k] = fmt.Sprint(val)
		}
		return out, nil
	case string:
		out := map[string]string{}
		for _, s := range strings.Split(t, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			k, val, _ := strings.Cut(s, "=")
			out[strings.TrimSpace(k)] = val
		}
		return out, nil
	}
	return nil, providers.UserErrorf("%s: want a map of labels, got %v (%T)", what, v, v)
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
