package hosts_test

import (
	"fmt"
	"net"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/broker-go/broker/hosts"
)

// secret stands for settings.Secret (hosts does not import settings).
type secret string

func (secret) String() string   { return "REDACTED" }
func (s secret) Reveal() string { return string(s) }

func TestSSHConfigFrom(t *testing.T) {
	defaults := map[string]any{"ssh": map[string]any{
		"backend": "hussh", "host_username": "root", "host_password": "toor", "host_ssh_port": 22,
		"host_connection_timeout": 60, "host_ssh_key_filename": nil, "host_ipv6": false, "host_ipv4_fallback": true,
	}}
	tests := []struct {
		name     string
		settings map[string]any
		host     map[string]any
		want     hosts.SSHConfig
	}{
		{"defaults", defaults, map[string]any{"hostname": "h1.example.com"}, hosts.SSHConfig{
			Host: "h1.example.com", Port: 22, User: "root", Password: "toor", Agent: true,
			ConnectTimeout: 60 * time.Second, IPv4Fallback: true, Label: "h1.example.com",
		}},
		{"record wins", defaults, map[string]any{
			"hostname": "h2", "name": "web", "username": "cloud-user", "password": secret("pw"), "port": "2222",
			"key_filename": "/k", "connection_timeout": "90s", "ipv6": "true", "ipv4_fallback": false,
		}, hosts.SSHConfig{
			Host: "h2", Port: 2222, User: "cloud-user", Password: "pw", KeyFile: "/k", Agent: true,
			ConnectTimeout: 90 * time.Second, IPv6: true, Label: "web",
		}},
		{"host:port beats port", nil, map[string]any{"hostname": "127.0.0.1:40022", "port": 22}, hosts.SSHConfig{
			Host: "127.0.0.1", Port: 40022, Agent: true, Label: "127.0.0.1:40022",
		}},
		{"bracketed v6", nil, map[string]any{"hostname": "[fd00::2]:2200"}, hosts.SSHConfig{
			Host: "fd00::2", Port: 2200, Agent: true, Label: "[fd00::2]:2200",
		}},
		{"bare v6", nil, map[string]any{"hostname": "fe80::1%eth0", "port": 2201.0}, hosts.SSHConfig{
			Host: "fe80::1%eth0", Port: 2201, Agent: true, Label: "fe80::1%eth0",
		}},
		{"ip when no hostname", nil, map[string]any{"ip": "10.0.0.5", "timeout": 5}, hosts.SSHConfig{
			Host: "10.0.0.5", Agent: true, ConnectTimeout: 5 * time.Second, Label: "10.0.0.5",
		}},
		{"new keys, section given directly", map[string]any{
			"host_key_policy": "known_hosts", "known_hosts_file": "/kh", "keepalive": 0, "host_ssh_key_filename": "",
		}, map[string]any{"hostname": "h"}, hosts.SSHConfig{
			Host: "h", Agent: true, HostKeyPolicy: "known_hosts", KnownHostsFile: "/kh", Keepalive: -1, Label: "h",
		}},
		{"keepalive seconds", map[string]any{"keepalive": 15.5}, map[string]any{"hostname": "h"}, hosts.SSHConfig{
			Host: "h", Agent: true, Keepalive: 15500 * time.Millisecond, Label: "h",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hosts.SSHConfigFrom(tt.settings, tt.host)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// TestSSHConfigFromBad: values that cannot be used are reported by
// DialSSH, naming the key, and never show a password.
func TestSSHConfigFromBad(t *testing.T) {
	cfg := hosts.SSHConfigFrom(map[string]any{"ssh": map[string]any{
		"host_ssh_port": "ssh", "host_ipv6": "maybe", "host_connection_timeout": "soon", "host_password": []string{"pw-in-a-list"},
	}}, map[string]any{"hostname": "h", "port": 70000})
	_, err := hosts.DialSSH(t.Context(), cfg)
	wantErr(t, err, "connect", nil, "ssh.host_ssh_port", "ssh.host_ipv6", "ssh.host_connection_timeout", "ssh.host_password", "host record field port: 70000")
	if strings.Contains(err.Error(), "pw-in-a-list") {
		t.Errorf("the password shows: %v", err)
	}
}

func TestSSHConfigRedacted(t *testing.T) {
	cfg := hosts.SSHConfig{Host: "h", Password: "hunter2"}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%v %+v %s %#v", cfg, cfg, cfg, cfg), cfg.LogValue().String()} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("the password shows: %s", s)
		}
	}
}

// FuzzSSHConfigFrom: any hostname and port value gives a usable config or
// one DialSSH rejects; a split "host:port" joins back to itself.
func FuzzSSHConfigFrom(f *testing.F) {
	for _, s := range []string{"h", "h:22", "[::1]:2222", "::1", "fe80::1%eth0", "[fe80::1%eth0]:22", "h:", ":22", "h:0", "h:65536",
		"[h]", "[]:1", "[::1", "a:b:c", " h ", "h:+1", "h:0022", "[::1]x", "[[::1]]:2"} {
		f.Add(s, "2222")
	}
	f.Add("h", "-1")
	f.Add("h", "1e3")
	f.Fuzz(func(t *testing.T, hostname, port string) {
		cfg := hosts.SSHConfigFrom(map[string]any{"host_ssh_port": port}, map[string]any{"hostname": hostname})
		if cfg.Port != 0 && (cfg.Port < 1 || cfg.Port > 65535) {
			t.Fatalf("port %d from %q, %q", cfg.Port, hostname, port)
		}
		if cfg.Label != strings.TrimSpace(hostname) {
			t.Fatalf("label %q from %q", cfg.Label, hostname)
		}
		if cfg.Host == "" || cfg.Port == 0 {
			return
		}
		// The split is stable: joining host and port parses back to them.
		again := hosts.SSHConfigFrom(nil, map[string]any{"hostname": net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))})
		if strings.Contains(cfg.Host, "[") || strings.Contains(cfg.Host, "]") {
			return // not an address; DialSSH rejects it
		}
		if again.Host != cfg.Host || again.Port != cfg.Port {
			t.Fatalf("%q → %q port %d → %q port %d", hostname, cfg.Host, cfg.Port, again.Host, again.Port)
		}
	})
}
