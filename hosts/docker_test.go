package hosts_test

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/broker-go/broker/hosts"
	"github.com/broker-go/broker/internal/testenv"
	"golang.org/x/crypto/ssh"
)

// docker runs the docker CLI against the test engine.
func docker(t *testing.T, e testenv.Engine, args ...string) string {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command("docker", append([]string{"-H", e.Host}, args...)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// TestDebianContainer logs in to the Debian test image's sshd (root, by
// key only) in a container on the test Docker engine.
func TestDebianContainer(t *testing.T) {
	e := testenv.Need(t, "docker")
	if _, err := exec.LookPath("docker"); err != nil {
		t.Fatalf("the docker CLI: %v", err)
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "id_ed25519")
	pub := writeKey(t, key)
	authorized := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authorized, ssh.MarshalAuthorizedKey(pub), 0o644); err != nil {
		t.Fatal(err)
	}
	id := docker(t, e, "run", "-d", "--label", "broker-test=hosts", "-p", "127.0.0.1::22",
		"-v", authorized+":/root/.ssh/authorized_keys:ro", testenv.DebianImage)
	t.Cleanup(func() {
		if out, err := exec.Command("docker", "-H", e.Host, "rm", "-f", id).CombinedOutput(); err != nil {
			t.Errorf("docker rm -f %s: %v\n%s", id, err, out)
		}
	})
	mapped := docker(t, e, "port", id, "22/tcp")
	mapped, _, _ = strings.Cut(mapped, "\n") // one line per address
	host, port, err := net.SplitHostPort(mapped)
	if err != nil {
		t.Fatalf("docker port: %q: %v", mapped, err)
	}
	p, _ := strconv.Atoi(port)
	cfg := hosts.SSHConfigFrom(map[string]any{"ssh": map[string]any{
		"host_ssh_key_filename": key, "host_key_policy": "accept-new", "known_hosts_file": filepath.Join(dir, "known_hosts"),
	}}, map[string]any{"hostname": host, "port": p, "name": "debian-" + id[:12]})
	cfg.Agent = false
	cfg.ConnectRetry = 30 * time.Second // sshd starts with the container
	s := dial(t, cfg)

	res, err := s.Run(t.Context(), "hostname", hosts.RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hostname := docker(t, e, "inspect", "-f", "{{.Config.Hostname}}", id)
	if strings.TrimSpace(res.Stdout) != hostname || res.Status != 0 {
		t.Errorf("hostname = %#v, want %q", res, hostname)
	}
	if res, err := s.Run(t.Context(), "id -un; no-such-cmd", hosts.RunOptions{}); err != nil || res.Stdout != "root\n" || res.Status != 127 {
		t.Errorf("Run = %#v, %v", res, err)
	}

	local := makeTree(t, t.TempDir())
	if err := s.Put(t.Context(), local, "/opt/broker/"); err != nil {
		t.Fatal(err)
	}
	res, err = s.Run(t.Context(), "stat -c '%a %n' /opt/broker/tree/sub/run.sh /opt/broker/tree/sub/deeper; /opt/broker/tree/sub/run.sh", hosts.RunOptions{})
	if err != nil || res.Stdout != "775 /opt/broker/tree/sub/run.sh\n750 /opt/broker/tree/sub/deeper\nhi\n" {
		t.Errorf("after Put: %#v, %v", res, err)
	}
	back := t.TempDir()
	if err := s.Get(t.Context(), "/opt/broker/tree", back+"/"); err != nil {
		t.Fatal(err)
	}
	sameTree(t, back+"/tree", local)
	if err := s.Get(t.Context(), "/etc/hostname", back+"/etc/"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(back + "/etc/hostname"); strings.TrimSpace(string(b)) != hostname {
		t.Errorf("/etc/hostname = %q", b)
	}
	err = s.Get(t.Context(), "/no/such/file", back+"/")
	wantErr(t, err, "get", hosts.ErrNotFound, "debian-"+id[:12], "/no/such/file")
}
