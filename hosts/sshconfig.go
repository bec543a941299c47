package hosts

import (
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
	"time"
)

// SSHConfigFrom builds a config from the "ssh" settings section (settings
// may be that section or the whole settings with an "ssh" key) overlaid by
// a host record's fields:
//
//	ssh section              host record          SSHConfig
//	-                        hostname (else ip)   Host ("h:port" gives Port)
//	host_username            username             User
//	host_password            password             Password
//	host_ssh_port            port                 Port
//	host_ssh_key_filename    key_filename         KeyFile
//	host_connection_timeout  connection_timeout   ConnectTimeout (seconds or "90s")
//	host_ipv6                ipv6                 IPv6
//	host_ipv4_fallback       ipv4_fallback        IPv4Fallback
//	host_key_policy          -                    HostKeyPolicy
//	known_hosts_file         -                    KnownHostsFile
//	keepalive                -                    Keepalive (seconds or "30s"; 0 disables)
//	-                        name (else hostname) Label
//
// Agent is on. Values of the wrong kind (a port "abc") are not used;
// DialSSH reports them. Passwords may be any type with a Reveal() string
// method (settings.Secret).
func SSHConfigFrom(settings map[string]any, host map[string]any) SSHConfig {
	sec := settings
	if m, ok := settings["ssh"].(map[string]any); ok {
		sec = m
	}
	c := SSHConfig{Agent: true}
	r := &configReader{cfg: &c}

	r.str(sec, "ssh.", "host_username", &c.User)
	r.str(sec, "ssh.", "host_password", &c.Password)
	r.port(sec, "ssh.", "host_ssh_port", &c.Port)
	r.str(sec, "ssh.", "host_ssh_key_filename", &c.KeyFile)
	r.duration(sec, "ssh.", "host_connection_timeout", &c.ConnectTimeout)
	r.boolean(sec, "ssh.", "host_ipv6", &c.IPv6)
	r.boolean(sec, "ssh.", "host_ipv4_fallback", &c.IPv4Fallback)
	r.str(sec, "ssh.", "host_key_policy", &c.HostKeyPolicy)
	r.str(sec, "ssh.", "known_hosts_file", &c.KnownHostsFile)
	if present(sec["keepalive"]) {
		r.duration(sec, "ssh.", "keepalive", &c.Keepalive)
		if c.Keepalive == 0 {
			c.Keepalive = -1 // disabled
		}
	}

	const rec = "host record field "
	if !r.str(host, rec, "hostname", &c.Host) {
		r.str(host, rec, "ip", &c.Host)
	}
	r.str(host, rec, "username", &c.User)
	r.str(host, rec, "password", &c.Password)
	r.port(host, rec, "port", &c.Port)
	r.str(host, rec, "key_filename", &c.KeyFile)
	if !r.duration(host, rec, "connection_timeout", &c.ConnectTimeout) {
		r.duration(host, rec, "timeout", &c.ConnectTimeout)
	}
	r.boolean(host, rec, "ipv6", &c.IPv6)
	r.boolean(host, rec, "ipv4_fallback", &c.IPv4Fallback)
	if !r.str(host, rec, "name", &c.Label) {
		c.Label = c.Host
	}
	if h, p, ok := splitHostPort(c.Host); ok {
		c.Host = h
		if p != 0 {
			c.Port = p
		}
	}
	return c
}

// configReader reads typed values out of settings maps, noting the ones
// it cannot use.
type configReader struct{ cfg *SSHConfig }

func present(v any) bool {
	if v == nil {
		return false
	}
	s, ok := v.(string)
	return !ok || strings.TrimSpace(s) != ""
}

func (r *configReader) bad(prefix, key string, v any, want string) {
	if strings.HasSuffix(key, "password") {
		v = redacted
	}
	r.cfg.bad = append(r.cfg.bad, fmt.Sprintf("%s%s: %#v is not %s", prefix, key, v, want))
}

func (r *configReader) str(m map[string]any, prefix, key string, dst *string) bool {
	v, ok := m[key]
	if !ok || !present(v) {
		return false
	}
	switch t := v.(type) {
	case string:
		*dst = strings.TrimSpace(t)
	case interface{ Reveal() string }:
		*dst = t.Reveal()
	case int, int64, int32, uint, uint64, uint32:
		*dst = fmt.Sprint(t) // a numeric user name or password
	default:
		r.bad(prefix, key, v, "a string")
		return false
	}
	return true
}

func (r *configReader) port(m map[string]any, prefix, key string, dst *int) bool {
	v, ok := m[key]
	if !ok || !present(v) {
		return false
	}
	n, ok := toInt(v)
	if !ok || n < 1 || n > 65535 {
		r.bad(prefix, key, v, "a port number (1-65535)")
		return false
	}
	*dst = n
	return true
}

func (r *configReader) boolean(m map[string]any, prefix, key string, dst *bool) bool {
	v, ok := m[key]
	if !ok || !present(v) {
		return false
	}
	switch t := v.(type) {
	case bool:
		*dst = t
		return true
	case string:
		switch strings.ToLower(strings.TrimSpace(t)) {
		case "true", "yes", "on", "1":
			*dst = true
			return true
		case "false", "no", "off", "0":
			*dst = false
			return true
		}
	default:
		if n, ok := toInt(v); ok && (n == 0 || n == 1) {
			*dst = n == 1
			return true
		}
	}
	r.bad(prefix, key, v, "true or false")
	return false
}

// duration reads seconds (a number, or a string of one) or a Go duration
// string ("90s", "2m").
func (r *configReader) duration(m map[string]any, prefix, key string, dst *time.Duration) bool {
	v, ok := m[key]
	if !ok || !present(v) {
		return false
	}
	var d time.Duration
	ok = false
	switch t := v.(type) {
	case string:
		s := strings.TrimSpace(t)
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			d, ok = seconds(f)
		} else if pd, err := time.ParseDuration(s); err == nil && pd >= 0 {
			d, ok = pd, true
		}
	case float64:
		d, ok = seconds(t)
	case float32:
		d, ok = seconds(float64(t))
	default:
		if n, isInt := toInt(v); isInt {
			d, ok = seconds(float64(n))
		}
	}
	if !ok {
		r.bad(prefix, key, v, `a number of seconds or a duration such as "90s"`)
		return false
	}
	*dst = d
	return true
}

func seconds(f float64) (time.Duration, bool) {
	if math.IsNaN(f) || f < 0 || f > float64(math.MaxInt64)/float64(time.Second) {
		return 0, false
	}
	return time.Duration(f * float64(time.Second)), true
}

// toInt reads whole numbers of any numeric type, or a string of one.
func toInt(v any) (int, bool) {
	switch t := v.(type) {
	case int:
		return t, true
	case int8:
		return int(t), true
	case int16:
		return int(t), true
	case int32:
		return int(t), true
	case int64:
		if t < math.MinInt32 || t > math.MaxInt32 {
			return 0, false
		}
		return int(t), true
	case uint8:
		return int(t), true
	case uint16:
		return int(t), true
	case uint32:
		return int(t), true
	case uint:
		if t > math.MaxInt32 {
			return 0, false
		}
		return int(t), true
	case uint64:
		if t > math.MaxInt32 {
			return 0, false
		}
		return int(t), true
	case float64:
		if t != math.Trunc(t) || t < math.MinInt32 || t > math.MaxInt32 {
			return 0, false
		}
		return int(t), true
	case float32:
		return toInt(float64(t))
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(t))
		return n, err == nil
	}
	return 0, false
}

// splitHostPort splits "host:port", "[v6]:port" and "[v6]" (port 0: none
// given). ok is false when s has nothing to split: a plain name, a bare
// IPv6 literal ("::1", "fe80::1%eth0"), or a suffix that is no port.
func splitHostPort(s string) (host string, port int, ok bool) {
	if rest, found := strings.CutPrefix(s, "["); found {
		h, after, closed := strings.Cut(rest, "]")
		if !closed || h == "" || strings.ContainsAny(h, "[]") {
			return "", 0, false
		}
		if after == "" {
			return h, 0, true
		}
		p, isPort := parsePort(strings.TrimPrefix(after, ":"))
		if !isPort || !strings.HasPrefix(after, ":") {
			return "", 0, false
		}
		return h, p, true
	}
	if strings.Count(s, ":") != 1 {
		return "", 0, false
	}
	h, ps, _ := strings.Cut(s, ":")
	p, isPort := parsePort(ps)
	if !isPort || h == "" {
		return "", 0, false
	}
	return h, p, true
}

func parsePort(s string) (int, bool) {
	if s == "" || len(s) > 5 || strings.Trim(s, "0123456789") != "" {
		return 0, false
	}
	n, _ := strconv.Atoi(s)
	return n, n >= 1 && n <= 65535
}

// checkHost reports a host that cannot be dialled as written: one with a
// colon that is neither an IPv6 literal nor "host:port".
func checkHost(h string) error {
	if !strings.Contains(h, ":") {
		return nil
	}
	addr, _, _ := strings.Cut(h, "%")
	if net.ParseIP(addr) != nil {
		return nil
	}
	return fmt.Errorf("hostname %q is neither host:port (port 1-65535) nor an IPv6 address", h)
}
