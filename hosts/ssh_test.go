package hosts_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/broker-go/broker/hosts"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// wantErr checks that err is a *hosts.Error for op wrapping target and
// that its message holds every part.
func wantErr(t *testing.T, err error, op string, target error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %v", target)
	}
	var he *hosts.Error
	if !errors.As(err, &he) {
		t.Fatalf("%T %v is not a *hosts.Error", err, err)
	}
	if he.Op != op {
		t.Errorf("Op = %q, want %q (%v)", he.Op, op, err)
	}
	if target != nil && !errors.Is(err, target) {
		t.Errorf("%v: not %v", err, target)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%v\ndoes not say %q", err, p)
		}
	}
	t.Logf("%v", err)
}

func TestRun(t *testing.T) {
	d := startSSHD(t)
	s := dial(t, d.config())
	ctx := t.Context()

	t.Run("output and status", func(t *testing.T) {
		res, err := s.Run(ctx, "echo out; echo err >&2; exit 3", hosts.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := hosts.Result{Status: 3, Stdout: "out\n", Stderr: "err\n"}
		if res != want {
			t.Errorf("Run = %#v, want %#v", res, want)
		}
	})
	t.Run("streaming", func(t *testing.T) {
		var out, errb bytes.Buffer
		res, err := s.Run(ctx, "for i in 1 2 3; do echo o$i; echo e$i >&2; done", hosts.RunOptions{Stdout: &out, Stderr: &errb})
		if err != nil {
			t.Fatal(err)
		}
		if res.Stdout != "o1\no2\no3\n" || res.Stderr != "e1\ne2\ne3\n" || res.Status != 0 {
			t.Errorf("Run = %#v", res)
		}
		if out.String() != res.Stdout || errb.String() != res.Stderr {
			t.Errorf("streamed %q, %q; captured %q, %q", out.String(), errb.String(), res.Stdout, res.Stderr)
		}
	})
	t.Run("one writer for both streams", func(t *testing.T) {
		var both bytes.Buffer
		res, err := s.Run(ctx, "echo a; echo b >&2", hosts.RunOptions{Stdout: &both, Stderr: &both})
		if err != nil {
			t.Fatal(err)
		}
		if both.Len() != len(res.Stdout)+len(res.Stderr) {
			t.Errorf("streamed %q for %#v", both.String(), res)
		}
	})
	t.Run("stdin", func(t *testing.T) {
		in := strings.Repeat("line of input\n", 10000) // bigger than a channel window
		res, err := s.Run(ctx, "wc -l; cat >/dev/null", hosts.RunOptions{Stdin: strings.NewReader(in)})
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(res.Stdout) != "10000" {
			t.Errorf("wc -l of 10000 lines = %q", res.Stdout)
		}
		res, err = s.Run(ctx, "cat", hosts.RunOptions{Stdin: strings.NewReader("echo me")})
		if err != nil || res.Stdout != "echo me" {
			t.Errorf("cat = %#v, %v", res, err)
		}
	})
	t.Run("no stdin", func(t *testing.T) {
		res, err := s.Run(ctx, "cat; echo done", hosts.RunOptions{})
		if err != nil || res.Stdout != "done\n" {
			t.Errorf("cat without stdin = %#v, %v", res, err)
		}
	})
	t.Run("command not found", func(t *testing.T) {
		res, err := s.Run(ctx, "no-such-command-broker", hosts.RunOptions{})
		if err != nil {
			t.Fatalf("a missing command is a status, not an error: %v", err)
		}
		if res.Status != 127 || !strings.Contains(res.Stderr, "no-such-command-broker") {
			t.Errorf("Run = %#v, want status 127", res)
		}
	})
	t.Run("large output", func(t *testing.T) {
		res, err := s.Run(ctx, "head -c 3000000 /dev/zero | tr '\\0' x", hosts.RunOptions{})
		if err != nil || len(res.Stdout) != 3000000 {
			t.Errorf("Run = %d bytes, %v", len(res.Stdout), err)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		// More than OpenSSH's MaxSessions (10) channels at once: the rest wait.
		const n = 25
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				res, err := s.Run(ctx, fmt.Sprintf("sleep 0.2; echo %d", i), hosts.RunOptions{})
				if err == nil && res.Stdout != fmt.Sprintf("%d\n", i) {
					err = fmt.Errorf("run %d: stdout %q", i, res.Stdout)
				}
				errs[i] = err
			})
		}
		// Files copied meanwhile share the connection too.
		local := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(local, []byte("while running"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(ctx, local, filepath.Join(t.TempDir(), "g")); err != nil {
			t.Error(err)
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Error(err)
		}
	})
	t.Run("result text", func(t *testing.T) {
		res, _ := s.Run(ctx, "echo hi", hosts.RunOptions{})
		if got := res.String(); got != "stdout:\nhi\n\nstderr:\n\nstatus: 0" {
			t.Errorf("String = %q", got)
		}
	})
}

// TestRunCancel: cancelling a long command returns at once (before the
// command ends) with the context's error and the output so far.
func TestRunCancel(t *testing.T) {
	d := startSSHD(t)
	s := dial(t, d.config())
	marker := "31." + strconv.Itoa(os.Getpid()%1000) // a sleep we can find
	started := make(chan struct{})
	var once sync.Once
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	type ran struct {
		res hosts.Result
		err error
	}
	done := make(chan ran, 1)
	begin := time.Now()
	go func() {
		res, err := s.Run(ctx, "echo started; sleep "+marker+"; echo finished", hosts.RunOptions{Stdout: writerFunc(func(p []byte) {
			once.Do(func() { close(started) })
		})})
		done <- ran{res, err}
	}()
	<-started
	cancel()
	r := <-done
	wantErr(t, r.err, "run", context.Canceled)
	t.Logf("returned %v after the start", time.Since(begin).Round(time.Millisecond))
	if r.res.Stdout != "started\n" || r.res.Status != -1 {
		t.Errorf("Result = %#v, want the output so far and status -1", r.res)
	}

	// The session carries on. As root, OpenSSH refuses the kill signal;
	// as another user the sleep is gone. Either way, end it.
	res, err := s.Run(t.Context(), "pkill -f 'sleep "+marker+"$'; true", hosts.RunOptions{})
	if err != nil {
		t.Fatalf("Run after a cancel: %#v, %v", res, err)
	}

	// A cancelled context fails before running anything.
	if _, err := s.Run(ctx, "true", hosts.RunOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled ctx = %v", err)
	}
}

type writerFunc func(p []byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }

func TestClose(t *testing.T) {
	d := startSSHD(t)
	s, err := hosts.DialSSH(t.Context(), d.config())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), d.KnownHosts, t.TempDir()+"/"); err != nil {
		t.Fatal(err) // starts SFTP, which Close closes too
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	_, err = s.Run(t.Context(), "true", hosts.RunOptions{})
	wantErr(t, err, "run", nil, "closed")
	err = s.Get(t.Context(), d.KnownHosts, t.TempDir()+"/")
	wantErr(t, err, "get", nil, "closed")
}

func TestAuth(t *testing.T) {
	d := startSSHD(t)
	t.Run("wrong key", func(t *testing.T) {
		cfg := d.config()
		cfg.KeyFile = filepath.Join(t.TempDir(), "other")
		writeKey(t, cfg.KeyFile)
		_, err := hosts.DialSSH(t.Context(), cfg)
		wantErr(t, err, "connect", hosts.ErrAuth, "loopback: connect:", "key file "+cfg.KeyFile, "ssh.host_ssh_key_filename")
		if errors.Is(err, hosts.ErrConnect) || errors.Is(err, hosts.ErrHostKey) {
			t.Errorf("%v is more than an auth failure", err)
		}
	})
	t.Run("missing key file", func(t *testing.T) {
		cfg := d.config()
		cfg.KeyFile = filepath.Join(t.TempDir(), "nope")
		_, err := hosts.DialSSH(t.Context(), cfg)
		wantErr(t, err, "connect", hosts.ErrAuth, "key not found in '"+cfg.KeyFile+"'")
	})
	t.Run("wrong password", func(t *testing.T) {
		cfg := d.config()
		cfg.KeyFile, cfg.Password = "", "not-the-password"
		_, err := hosts.DialSSH(t.Context(), cfg)
		wantErr(t, err, "connect", hosts.ErrAuth, "tried password", "ssh.host_password")
		if strings.Contains(err.Error(), cfg.Password) {
			t.Errorf("the password shows: %v", err)
		}
	})
	t.Run("key then password", func(t *testing.T) {
		cfg := d.config()
		cfg.KeyFile = filepath.Join(t.TempDir(), "other")
		writeKey(t, cfg.KeyFile)
		cfg.Password = "not-the-password"
		_, err := hosts.DialSSH(t.Context(), cfg)
		wantErr(t, err, "connect", hosts.ErrAuth, "tried key file "+cfg.KeyFile+", password")
	})
	t.Run("nothing to offer", func(t *testing.T) {
		cfg := d.config()
		cfg.KeyFile = ""
		_, err := hosts.DialSSH(t.Context(), cfg)
		wantErr(t, err, "connect", hosts.ErrAuth, "ssh.host_ssh_key_filename", "ssh.host_password")
	})
	t.Run("encrypted key", func(t *testing.T) {
		cfg := d.config()
		pem, err := os.ReadFile(d.KeyFile)
		if err != nil {
			t.Fatal(err)
		}
		key, err := ssh.ParseRawPrivateKey(pem)
		if err != nil {
			t.Fatal(err)
		}
		block, err := ssh.MarshalPrivateKeyWithPassphrase(key, "", []byte("phrase"))
		if err != nil {
			t.Fatal(err)
		}
		cfg.KeyFile = filepath.Join(t.TempDir(), "encrypted")
		writePEM(t, cfg.KeyFile, block)
		_, err = hosts.DialSSH(t.Context(), cfg)
		wantErr(t, err, "connect", hosts.ErrAuth, "passphrase")

		cfg.Password = "phrase" // decrypts the key
		s := dial(t, cfg)
		if res, err := s.Run(t.Context(), "echo ok", hosts.RunOptions{}); err != nil || res.Stdout != "ok\n" {
			t.Errorf("Run = %#v, %v", res, err)
		}
	})
}

func TestHostKey(t *testing.T) {
	d := startSSHD(t)
	hostport := net.JoinHostPort(d.Host, strconv.Itoa(d.Port))
	other := writeKey(t, filepath.Join(t.TempDir(), "other"))

	t.Run("mismatch", func(t *testing.T) {
		for _, policy := range []string{hosts.HostKeyStrict, hosts.HostKeyAcceptNew, ""} {
			cfg := d.config()
			cfg.HostKeyPolicy = policy
			cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
			content := "# a comment\n" + knownhosts.Line([]string{hostport}, other) + "\n"
			if err := os.WriteFile(cfg.KnownHostsFile, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := hosts.DialSSH(t.Context(), cfg)
			wantErr(t, err, "connect", hosts.ErrHostKey, cfg.KnownHostsFile+":2", "ssh-keygen -R", knownhosts.Normalize(hostport))
			if b, _ := os.ReadFile(cfg.KnownHostsFile); string(b) != content {
				t.Errorf("%s changed:\n%s", policy, b)
			}
		}
	})
	t.Run("only keys of another type known", func(t *testing.T) {
		// The host was rebuilt with an ed25519 key; known_hosts has its old
		// RSA key: the handshake finds no key type in common.
		rsaFile := filepath.Join(t.TempDir(), "rsa")
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", rsaFile).CombinedOutput(); err != nil {
			t.Skipf("ssh-keygen: %v %s", err, out)
		}
		b, err := os.ReadFile(rsaFile + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		rsaKey, _, _, _, err := ssh.ParseAuthorizedKey(b)
		if err != nil {
			t.Fatal(err)
		}
		cfg := d.config()
		cfg.HostKeyPolicy = hosts.HostKeyAcceptNew
		cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(cfg.KnownHostsFile, []byte(knownhosts.Line([]string{hostport}, rsaKey)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err = hosts.DialSSH(t.Context(), cfg)
		wantErr(t, err, "connect", hosts.ErrHostKey, "ssh-rsa ("+cfg.KnownHostsFile+":1)", "ssh-keygen -R")
	})
	t.Run("accept-new adds an unknown key", func(t *testing.T) {
		cfg := d.config()
		cfg.HostKeyPolicy = hosts.HostKeyAcceptNew
		cfg.KnownHostsFile = filepath.Join(t.TempDir(), "new-dir", "known_hosts")
		dial(t, cfg).Close()
		b, err := os.ReadFile(cfg.KnownHostsFile)
		if err != nil {
			t.Fatal(err)
		}
		want := knownhosts.Line([]string{hostport}, d.HostKey) + "\n"
		if string(b) != want {
			t.Errorf("known_hosts = %q, want %q", b, want)
		}
		// Now known: strict accepts it, and accept-new adds nothing.
		cfg.HostKeyPolicy = hosts.HostKeyStrict
		dial(t, cfg).Close()
		cfg.HostKeyPolicy = hosts.HostKeyAcceptNew
		dial(t, cfg).Close()
		if b2, _ := os.ReadFile(cfg.KnownHostsFile); string(b2) != want {
			t.Errorf("known_hosts after a second connection = %q", b2)
		}
	})
	t.Run("accept-new appends to a file without a final newline", func(t *testing.T) {
		cfg := d.config()
		cfg.HostKeyPolicy = hosts.HostKeyAcceptNew
		cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
		first := knownhosts.Line([]string{"elsewhere.example"}, other)
		if err := os.WriteFile(cfg.KnownHostsFile, []byte(first), 0o600); err != nil {
			t.Fatal(err)
		}
		dial(t, cfg).Close()
		b, _ := os.ReadFile(cfg.KnownHostsFile)
		if want := first + "\n" + knownhosts.Line([]string{hostport}, d.HostKey) + "\n"; string(b) != want {
			t.Errorf("known_hosts = %q, want %q", b, want)
		}
	})
	t.Run("strict refuses an unknown key", func(t *testing.T) {
		cfg := d.config()
		cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
		_, err := hosts.DialSSH(t.Context(), cfg)
		wantErr(t, err, "connect", hosts.ErrHostKey, "unknown host key", cfg.KnownHostsFile, "ssh-keyscan")
		if _, err := os.Stat(cfg.KnownHostsFile); !os.IsNotExist(err) {
			t.Errorf("strict created %s: %v", cfg.KnownHostsFile, err)
		}
	})
	t.Run("off", func(t *testing.T) {
		cfg := d.config()
		cfg.HostKeyPolicy = hosts.HostKeyOff
		cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(cfg.KnownHostsFile, []byte(knownhosts.Line([]string{hostport}, other)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		dial(t, cfg).Close()
	})
	t.Run("unknown policy", func(t *testing.T) {
		cfg := d.config()
		cfg.HostKeyPolicy = "yes"
		_, err := hosts.DialSSH(t.Context(), cfg)
		wantErr(t, err, "connect", nil, `unknown host key policy "yes"`)
	})
	t.Run("a broken known_hosts file", func(t *testing.T) {
		cfg := d.config()
		cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
		if err := os.WriteFile(cfg.KnownHostsFile, []byte("garbage\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := hosts.DialSSH(t.Context(), cfg)
		wantErr(t, err, "connect", nil, cfg.KnownHostsFile)
	})
}

func TestConnectErrors(t *testing.T) {
	needSSHD(t)
	t.Run("refused", func(t *testing.T) {
		port := freePort(t, "tcp", "127.0.0.1") // closed again
		cfg := hosts.SSHConfig{Host: "127.0.0.1", Port: port, KeyFile: "", Password: "x", HostKeyPolicy: hosts.HostKeyOff}
		_, err := hosts.DialSSH(t.Context(), cfg)
		wantErr(t, err, "connect", hosts.ErrConnect, "127.0.0.1:"+strconv.Itoa(port), "connection refused")
		var he *hosts.Error
		if errors.As(err, &he) && he.Host != "127.0.0.1" {
			t.Errorf("Host = %q, want the config's host", he.Host)
		}
	})
	t.Run("host:port in Host", func(t *testing.T) {
		port := freePort(t, "tcp", "127.0.0.1")
		cfg := hosts.SSHConfig{Host: "127.0.0.1:" + strconv.Itoa(port), Port: 2, Password: "x", ConnectRetry: -1, Label: "web1"}
		_, err := hosts.DialSSH(t.Context(), cfg)
		wantErr(t, err, "connect", hosts.ErrConnect, "web1: connect:", "127.0.0.1:"+strconv.Itoa(port))
	})
	t.Run("unresolvable", func(t *testing.T) {
		cfg := hosts.SSHConfig{Host: "no-such-host.invalid", Password: "x", ConnectRetry: -1}
		_, err := hosts.DialSSH(t.Context(), cfg)
		wantErr(t, err, "connect", hosts.ErrConnect, "no-such-host.invalid:22")
	})
	t.Run("not an ssh server", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
				c.Close()
			}
		}()
		cfg := hosts.SSHConfig{Host: l.Addr().String(), Password: "x", ConnectRetry: -1}
		_, err = hosts.DialSSH(t.Context(), cfg)
		wantErr(t, err, "connect", hosts.ErrConnect, l.Addr().String())
	})
	t.Run("silent server", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		accepted := make(chan net.Conn, 1)
		go func() {
			if c, err := l.Accept(); err == nil {
				accepted <- c // held open, never a word
			}
		}()
		cfg := hosts.SSHConfig{Host: l.Addr().String(), Password: "x", ConnectTimeout: 300 * time.Millisecond}
		_, err = hosts.DialSSH(t.Context(), cfg)
		wantErr(t, err, "connect", hosts.ErrConnect, l.Addr().String(), "no SSH login within 300ms")
		(<-accepted).Close()
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := hosts.DialSSH(ctx, hosts.SSHConfig{Host: "127.0.0.1", Password: "x"})
		wantErr(t, err, "connect", context.Canceled)
	})
	t.Run("bad config", func(t *testing.T) {
		_, err := hosts.DialSSH(t.Context(), hosts.SSHConfig{Password: "x"})
		wantErr(t, err, "connect", nil, "no hostname")
		_, err = hosts.DialSSH(t.Context(), hosts.SSHConfig{Host: "h:0x", Password: "x"})
		wantErr(t, err, "connect", nil, `"h:0x"`)
		_, err = hosts.DialSSH(t.Context(), hosts.SSHConfig{Host: "h", Port: 70000, Password: "x"})
		wantErr(t, err, "connect", nil, "port 70000")
	})
}

// TestConnectRetry: DialSSH waits for an sshd that starts a moment after.
func TestConnectRetry(t *testing.T) {
	needSSHD(t)
	port := freePort(t, "tcp", "127.0.0.1")
	dir := t.TempDir()
	known := filepath.Join(dir, "known_hosts")
	got := make(chan error, 1)
	go func() {
		s, err := hosts.DialSSH(t.Context(), hosts.SSHConfig{
			Host: "127.0.0.1", Port: port, Password: "unused", KeyFile: "",
			HostKeyPolicy: hosts.HostKeyAcceptNew, KnownHostsFile: known, ConnectRetry: 20 * time.Second,
		})
		if err == nil {
			s.Close()
		}
		got <- err
	}()
	startSSHDOn(t, "127.0.0.1", port)
	// No key and a wrong password: reaching authentication proves the
	// retries found the server.
	err := <-got
	wantErr(t, err, "connect", hosts.ErrAuth)
}

func TestIPv6(t *testing.T) {
	d := startSSHD(t) // 127.0.0.1 only
	cfg := d.config()
	cfg.Host = "localhost"
	cfg.HostKeyPolicy = hosts.HostKeyAcceptNew
	cfg.KnownHostsFile = filepath.Join(t.TempDir(), "known_hosts")
	cfg.IPv6 = true
	cfg.ConnectRetry = -1

	cfg.IPv4Fallback = true
	s := dial(t, cfg)
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Errorf("Addr = %s, want 127.0.0.1", s.Addr())
	}
	if res, err := s.Run(t.Context(), "echo v4", hosts.RunOptions{}); err != nil || res.Stdout != "v4\n" {
		t.Errorf("Run = %#v, %v", res, err)
	}

	cfg.IPv4Fallback = false
	_, err := hosts.DialSSH(t.Context(), cfg)
	wantErr(t, err, "connect", hosts.ErrConnect, "localhost:"+strconv.Itoa(d.Port))

	t.Run("IPv6 literal", func(t *testing.T) {
		if l, err := net.Listen("tcp6", "[::1]:0"); err != nil {
			t.Skipf("no IPv6 loopback here: %v", err)
		} else {
			l.Close()
		}
		d6 := startSSHDOn(t, "::1", 0)
		for _, host := range []string{"::1", "[::1]:" + strconv.Itoa(d6.Port)} {
			cfg := d6.config()
			cfg.Host, cfg.IPv6 = host, true
			s := dial(t, cfg)
			if s.Addr() != "[::1]:"+strconv.Itoa(d6.Port) {
				t.Errorf("Addr = %s", s.Addr())
			}
		}
	})
}

// TestKeepalive: a server that stops answering is noticed and the session
// reports the lost connection.
func TestKeepalive(t *testing.T) {
	d := startSSHD(t)
	// A proxy we can freeze between the client and sshd.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	frozen, stop := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		up, err := net.Dial("tcp", net.JoinHostPort(d.Host, strconv.Itoa(d.Port)))
		if err != nil {
			return
		}
		defer up.Close()
		go func() { pipe(up, c, frozen, stop) }()
		pipe(c, up, frozen, stop)
	}()
	cfg := d.config()
	cfg.Host = l.Addr().String()
	cfg.HostKeyPolicy = hosts.HostKeyOff
	cfg.Keepalive = 200 * time.Millisecond
	s := dial(t, cfg)
	if _, err := s.Run(t.Context(), "true", hosts.RunOptions{}); err != nil {
		t.Fatal(err)
	}
	close(frozen)
	// Poll until the session notices.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(10 * time.Second); ; <-tick.C {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		_, err := s.Run(ctx, "true", hosts.RunOptions{})
		cancel()
		if errors.Is(err, hosts.ErrConnect) {
			wantErr(t, err, "run", hosts.ErrConnect, "keepalive")
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still no lost connection: %v", err)
		}
	}
}

// pipe copies src to dst until frozen is closed, then stops forwarding
// (keeping both ends open, as a dead network would) until stop.
func pipe(dst, src net.Conn, frozen, stop <-chan struct{}) {
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		select {
		case <-frozen:
			<-stop
			return
		default:
		}
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// TestAgent logs in with a key held by a real ssh-agent, after a wrong
// password: the methods are offered key file > password > agent.
func TestAgent(t *testing.T) {
	d := startSSHD(t)
	bin, err := exec.LookPath("ssh-agent")
	if err != nil {
		t.Skipf("no ssh-agent: %v", err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	agentCmd := exec.Command(bin, "-D", "-a", sock)
	if err := agentCmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { agentCmd.Process.Kill(); agentCmd.Wait() })
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(10 * time.Second); ; <-tick.C {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("ssh-agent did not listen")
		}
	}
	add := exec.Command("ssh-add", d.KeyFile)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("ssh-add: %v\n%s", err, out)
	}
	t.Setenv("SSH_AUTH_SOCK", sock)

	var logs bytes.Buffer
	cfg := d.config()
	cfg.KeyFile, cfg.Password, cfg.Agent = "", "wrong", true
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := dial(t, cfg)
	if res, err := s.Run(t.Context(), "echo agent", hosts.RunOptions{}); err != nil || res.Stdout != "agent\n" {
		t.Errorf("Run = %#v, %v", res, err)
	}
	if !strings.Contains(logs.String(), `auth="password, ssh-agent"`) {
		t.Errorf("log does not show password then agent:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "wrong") {
		t.Errorf("the password shows in the log:\n%s", logs.String())
	}

	cfg.Agent = false // the same without the agent fails
	_, err = hosts.DialSSH(t.Context(), cfg)
	wantErr(t, err, "connect", hosts.ErrAuth, "tried password")
}
