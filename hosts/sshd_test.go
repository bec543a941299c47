package hosts_test

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/broker-go/broker/hosts"
	"github.com/broker-go/broker/internal/testenv"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

const sshdPath = "/usr/sbin/sshd"

// testSSHD is an OpenSSH server on loopback started by the test, with its
// own host key and one authorised user key.
type testSSHD struct {
	Host       string // the address it listens on
	Port       int
	User       string
	HostKey    ssh.PublicKey
	KeyFile    string // the authorised private key
	KnownHosts string // a known_hosts file that holds HostKey
	dir        string
}

// needSSHD returns the sshd binary, skipping the test without it (failing
// when the run requires the test peers).
func needSSHD(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(sshdPath); err != nil {
		if testenv.Required() {
			t.Fatalf("%s: %v (install openssh-server; CI=true or BROKER_TEST_REQUIRE_ENGINES=1 requires it)", sshdPath, err)
		}
		t.Skipf("%s: %v: no OpenSSH server for this test (apt-get install openssh-server)", sshdPath, err)
	}
	// sshd insists on its privilege separation directory.
	if _, err := os.Stat("/run/sshd"); os.IsNotExist(err) && os.Geteuid() == 0 {
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return sshdPath
}

// writeKey writes a new ed25519 private key to path and returns its
// public half.
func writeKey(t testing.TB, path string) ssh.PublicKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, path, block)
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return sshPub
}

func writePEM(t testing.TB, path string, block *pem.Block) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
}

func freePort(t testing.TB, network, host string) int {
	t.Helper()
	l, err := net.Listen(network, net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startSSHD starts sshd on 127.0.0.1 on a free port and waits until it
// answers with its SSH banner.
func startSSHD(t testing.TB) *testSSHD {
	return startSSHDOn(t, "127.0.0.1", 0)
}

// startSSHDOn starts sshd on host:port (port 0: a free one).
func startSSHDOn(t testing.TB, host string, port int) *testSSHD {
	t.Helper()
	bin := needSSHD(t)
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	d := &testSSHD{Host: host, Port: port, User: u.Username, dir: dir, KeyFile: filepath.Join(dir, "id_ed25519")}
	if d.Port == 0 {
		d.Port = freePort(t, "tcp", host)
	}
	d.HostKey = writeKey(t, filepath.Join(dir, "host_ed25519"))
	userKey := writeKey(t, d.KeyFile)
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(userKey), 0o600); err != nil {
		t.Fatal(err)
	}
	d.KnownHosts = filepath.Join(dir, "known_hosts")
	line := knownhosts.Line([]string{net.JoinHostPort(host, strconv.Itoa(d.Port))}, d.HostKey)
	if err := os.WriteFile(d.KnownHosts, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "sshd_config")
	conf := strings.Join([]string{
		"Port " + strconv.Itoa(d.Port),
		"ListenAddress " + host,
		"HostKey " + filepath.Join(dir, "host_ed25519"),
		"AuthorizedKeysFile " + filepath.Join(dir, "authorized_keys"),
		"PidFile " + filepath.Join(dir, "sshd.pid"),
		"StrictModes no",
		"UsePAM no",
		"PermitRootLogin yes",
		"PasswordAuthentication yes",
		"KbdInteractiveAuthentication no",
		"MaxStartups 100",
		"Subsystem sftp internal-sftp",
		"",
	}, "\n")
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, "sshd.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(bin, "-D", "-e", "-f", cfg)
	cmd.Stdout, cmd.Stderr = logf, logf // a file: Wait does not wait for session processes
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-exited
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				t.Logf("sshd log:\n%s", b)
			}
		}
	})

	// Poll until it answers with its banner (or exits).
	addr := net.JoinHostPort(host, strconv.Itoa(d.Port))
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if banner(addr) {
			return d
		}
		select {
		case err := <-exited:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("sshd exited: %v\n%s", err, b)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("sshd did not answer on %s within 20s\n%s", addr, b)
		}
	}
}

func banner(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "SSH-2.0-")
}

// config is a strict config for this sshd logging in with the user key.
func (d *testSSHD) config() hosts.SSHConfig {
	return hosts.SSHConfig{
		Host:           d.Host,
		Port:           d.Port,
		User:           d.User,
		KeyFile:        d.KeyFile,
		HostKeyPolicy:  hosts.HostKeyStrict,
		KnownHostsFile: d.KnownHosts,
		Label:          "loopback",
	}
}

// dial connects with cfg and closes the session at the end of the test.
func dial(t testing.TB, cfg hosts.SSHConfig) *hosts.SSHSession {
	t.Helper()
	s, err := hosts.DialSSH(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func (d *testSSHD) String() string { return fmt.Sprintf("sshd %s:%d", d.Host, d.Port) }
