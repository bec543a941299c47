package broker

import (
	"context"
	"net"
	"strconv"
	"strings"

	"github.com/broker-go/broker/settings"
)

// AnsibleInventory returns the inventory (narrowed by filter) as an Ansible
// dynamic inventory: the JSON that an inventory script answers to --list,
// with every host's variables in _meta.hostvars. Container hosts use the
// community.docker.docker or containers.podman.podman connection on their
// engine (no SSH needed), unless their record asks for ssh; other hosts get
// ansible_host, ansible_port and ansible_user. Hosts are grouped by provider
// (lower case) and all of them are in "all". Secrets are left out.
func (b *Broker) AnsibleInventory(ctx context.Context, filterText string) (map[string]any, error) {
	recs, err := b.Inventory(ctx, filterText)
	if err != nil {
		return nil, err
	}
	hostvars := map[string]any{}
	groups := map[string][]string{}
	var all []string
	for _, r := range recs {
		h := b.Host(r)
		name := h.Label()
		if _, dup := hostvars[name]; dup {
			name = h.Hostname()
		}
		vars := b.ansibleVars(h)
		vars["broker_record"] = settings.Redact(map[string]any(r.Host))
		hostvars[name] = vars
		all = append(all, name)
		g := strings.ToLower(r.Host.Provider())
		if g == "" {
			g = "ungrouped"
		}
		groups[g] = append(groups[g], name)
	}
	out := map[string]any{"_meta": map[string]any{"hostvars": hostvars}}
	children := []string{}
	for g, names := range groups {
		out[g] = map[string]any{"hosts": names}
		children = append(children, g)
	}
	out["all"] = map[string]any{"hosts": orEmpty(all), "children": children}
	return out, nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (b *Broker) ansibleVars(h *Host) map[string]any {
	rec := h.Record.Host
	engine, _ := rec["container_engine"].(string)
	runtime, _ := rec["runtime"].(string)
	if h.Connection() != ConnectionSSH && engine != "" && h.Name() != "" {
		switch runtime {
		case "docker":
			return map[string]any{
				"ansible_connection":        "community.docker.docker",
				"ansible_host":              h.Name(),
				"ansible_docker_extra_args": "-H " + engine,
			}
		case "podman":
			return map[string]any{
				"ansible_connection":        "containers.podman.podman",
				"ansible_host":              h.Name(),
				"ansible_podman_extra_args": "--url " + engine,
			}
		}
	}
	ssh := b.set.SSH()
	vars := map[string]any{"ansible_host": h.Hostname()}
	port := 0
	if p, ok := toInt(ssh["host_ssh_port"]); ok {
		port = p
	}
	if host, p, err := net.SplitHostPort(h.Hostname()); err == nil {
		vars["ansible_host"] = host
		if n, err := strconv.Atoi(p); err == nil {
			port = n
		}
	}
	if p, ok := toInt(rec["port"]); ok {
		port = p
	}
	if port > 0 {
		vars["ansible_port"] = port
	}
	user, _ := ssh["host_username"].(string)
	if u, ok := rec["username"].(string); ok && u != "" {
		user = u
	}
	if user != "" {
		vars["ansible_user"] = user
	}
	key, _ := ssh["host_ssh_key_filename"].(string)
	if k, ok := rec["key_filename"].(string); ok && k != "" {
		key = k
	}
	if key != "" {
		vars["ansible_ssh_private_key_file"] = key
	}
	return vars
}
