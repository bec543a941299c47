package hosts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
)

// Defaults for the zero values of SSHConfig.
const (
	DefaultSSHPort        = 22
	DefaultSSHUser        = "root"
	DefaultConnectTimeout = 60 * time.Second
	DefaultKeepalive      = 30 * time.Second
	DefaultConnectRetry   = 3 * time.Second
	DefaultMaxSessions    = 10 // OpenSSH's MaxSessions
)

// Host key policies (SSHConfig.HostKeyPolicy).
const (
	HostKeyStrict    = "known_hosts" // unknown or mismatched keys are refused
	HostKeyAcceptNew = "accept-new"  // unknown keys are added, mismatches refused (default)
	HostKeyOff       = "off"         // no check at all
)

// SSHConfig says how to reach one host over SSH. Zero values take the
// defaults noted on each field.
type SSHConfig struct {
	// Host is a name or address (an IPv6 literal, bare or in brackets, is
	// allowed). "host:port" is accepted too and overrides Port.
	Host     string
	Port     int    // default 22
	User     string // default "root"
	Password string // optional; also answers keyboard-interactive prompts and decrypts KeyFile
	// KeyFile is an optional private key file ("~/" is expanded). It must
	// exist when set.
	KeyFile string
	// Agent offers the keys of the ssh-agent at $SSH_AUTH_SOCK (when set).
	// SSHConfigFrom turns it on.
	Agent bool
	// ConnectTimeout bounds the TCP connect and the SSH handshake of each
	// address tried (default 60s, upstream's host_connection_timeout).
	ConnectTimeout time.Duration
	// ConnectRetry is how long DialSSH keeps retrying a refused connection or
	// a handshake cut short (a freshly started sshd that is not ready yet);
	// default 3s, negative disables.
	ConnectRetry time.Duration
	// Keepalive is the interval of keepalive@openssh.com requests; a
	// connection that does not answer within one interval is closed.
	// Default 30s; negative disables (SSHConfigFrom maps a setting of 0 to
	// that).
	Keepalive time.Duration
	// IPv6 tries the host's IPv6 addresses only, then (with IPv4Fallback)
	// its IPv4 ones. Without IPv6, IPv4 addresses are tried first, then IPv6.
	IPv6         bool
	IPv4Fallback bool
	// HostKeyPolicy is HostKeyStrict ("known_hosts"), HostKeyAcceptNew
	// ("accept-new", the default) or HostKeyOff ("off").
	HostKeyPolicy string
	// KnownHostsFile defaults to ~/.ssh/known_hosts; accept-new creates it
	// (and its directory) when it has a key to add.
	KnownHostsFile string
	// MaxSessions caps the channels open at once on the connection (each
	// Run uses one while it runs, SFTP one for the session's life); more
	// Runs wait their turn. Default 10, OpenSSH's MaxSessions.
	MaxSessions int
	// Label names the host in errors and logs (default: Host as given).
	Label  string
	Logger *slog.Logger

	bad []string // settings SSHConfigFrom could not use; DialSSH reports them
}

// String describes the config without its password.
func (c SSHConfig) String() string {
	pw := ""
	if c.Password != "" {
		pw = " password=" + redacted
	}
	return fmt.Sprintf("ssh %s@%s port=%d key=%q%s agent=%t ipv6=%t ipv4_fallback=%t host_key_policy=%q",
		c.User, c.Host, c.Port, c.KeyFile, pw, c.Agent, c.IPv6, c.IPv4Fallback, c.HostKeyPolicy)
}

// GoString is %#v without the password.
func (c SSHConfig) GoString() string {
	type plain SSHConfig
	p := plain(c)
	if p.Password != "" {
		p.Password = redacted
	}
	return strings.Replace(fmt.Sprintf("%#v", p), "hosts.plain", "hosts.SSHConfig", 1)
}

// LogValue logs the config without its password.
func (c SSHConfig) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("host", c.Host), slog.Int("port", c.Port), slog.String("user", c.User),
		slog.String("key_filename", c.KeyFile), slog.Bool("agent", c.Agent),
		slog.Bool("ipv6", c.IPv6), slog.Bool("ipv4_fallback", c.IPv4Fallback),
		slog.String("host_key_policy", c.HostKeyPolicy),
	}
	if c.Password != "" {
		attrs = append(attrs, slog.String("password", redacted))
	}
	return slog.GroupValue(attrs...)
}

const redacted = "*****"

// withDefaults fills in the defaults and splits "host:port".
func (c SSHConfig) withDefaults() SSHConfig {
	if c.Label == "" {
		c.Label = c.Host
	}
	if h, p, ok := splitHostPort(c.Host); ok {
		c.Host = h
		if p != 0 {
			c.Port = p
		}
	}
	if c.Port == 0 {
		c.Port = DefaultSSHPort
	}
	if c.User == "" {
		c.User = DefaultSSHUser
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.ConnectRetry == 0 {
		c.ConnectRetry = DefaultConnectRetry
	}
	if c.Keepalive == 0 {
		c.Keepalive = DefaultKeepalive
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = DefaultMaxSessions
	}
	if c.HostKeyPolicy == "" {
		c.HostKeyPolicy = HostKeyAcceptNew
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c SSHConfig) validate() error {
	var errs []error
	for _, b := range c.bad {
		errs = append(errs, errors.New(b))
	}
	if c.Host == "" {
		errs = append(errs, errors.New("no hostname: the host record needs a hostname or ip"))
	} else if err := checkHost(c.Host); err != nil {
		errs = append(errs, err)
	}
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d is out of range 1-65535", c.Port))
	}
	switch c.HostKeyPolicy {
	case HostKeyStrict, HostKeyAcceptNew, HostKeyOff:
	default:
		errs = append(errs, fmt.Errorf("unknown host key policy %q: use %s, %s or %s", c.HostKeyPolicy, HostKeyStrict, HostKeyAcceptNew, HostKeyOff))
	}
	return errors.Join(errs...)
}

// SSHSession is a Session over one SSH connection: every Run opens a
// channel on it, Put and Get share one SFTP client made on first use.
type SSHSession struct {
	label  string
	addr   string // the address connected to
	log    *slog.Logger
	client *ssh.Client
	slots  chan struct{} // MaxSessions channel slots

	sftpMu   sync.Mutex
	sftpc    *sftp.Client
	sftpSess *ssh.Session // the channel sftpc speaks over
	pinned   atomic.Int32 // slots held for the session's life (SFTP)

	done      chan struct{}
	closeOnce sync.Once
	lostMu    sync.Mutex
	lost      error // why the connection ended, when it did on its own
}

var _ Session = (*SSHSession)(nil)

// DialSSH connects and authenticates to cfg's host. The session is for
// concurrent use until Close. Errors are *Error (Op "connect") wrapping
// ErrConnect, ErrAuth or ErrHostKey, or a configuration error.
func DialSSH(ctx context.Context, cfg SSHConfig) (*SSHSession, error) {
	cfg = cfg.withDefaults()
	fail := func(err error, hint string) error {
		return &Error{Host: cfg.Label, Op: "connect", Err: err, Hint: hint}
	}
	if err := cfg.validate(); err != nil {
		return nil, fail(err, "")
	}
	auth, err := newAuthenticator(cfg)
	if err != nil {
		return nil, fail(err, authHint(cfg))
	}
	defer auth.close()
	hk, err := newHostKeys(cfg)
	if err != nil {
		return nil, fail(err, "")
	}

	deadline := time.Now().Add(cfg.ConnectRetry)
	wait := 50 * time.Millisecond
	for {
		s, err := dial(ctx, cfg, auth, hk)
		if err == nil {
			return s, nil
		}
		var de *dialError
		if !errors.As(err, &de) || !de.retry || time.Now().Add(wait).After(deadline) || ctx.Err() != nil {
			if ctx.Err() != nil {
				return nil, fail(ctx.Err(), "")
			}
			if de != nil {
				return nil, fail(de.err, de.hint)
			}
			return nil, fail(err, "")
		}
		cfg.Logger.Debug("ssh connect: retrying", "host", cfg.Label, "err", de.err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fail(ctx.Err(), "")
		case <-t.C:
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// dialError is one failed connection attempt: err for the user, and
// whether another attempt may do better.
type dialError struct {
	err   error
	hint  string
	retry bool
}

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// dial tries the host's addresses in order and returns the first session.
func dial(ctx context.Context, cfg SSHConfig, auth *authenticator, hk *hostKeys) (*SSHSession, error) {
	port := strconv.Itoa(cfg.Port)
	addrs, err := resolve(ctx, cfg)
	if err != nil {
		return nil, err
	}
	var errs []error
	retry := false
	for _, ip := range addrs {
		addr := net.JoinHostPort(ip, port)
		s, err := dialAddr(ctx, cfg, addr, auth, hk)
		if err == nil {
			return s, nil
		}
		var de *dialError
		if errors.As(err, &de) && !errors.Is(de.err, ErrConnect) {
			return nil, err // auth or host key: another address will say the same
		}
		if de != nil && de.retry {
			retry = true
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		cfg.Logger.Debug("ssh connect failed", "host", cfg.Label, "addr", addr, "err", err)
		errs = append(errs, err)
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return nil, &dialError{err: fmt.Errorf("%w: every address of %s failed: %s", ErrConnect, cfg.Host, strings.Join(msgs, "; ")), retry: retry}
}

// resolve lists the addresses to try, in order (see SSHConfig.IPv6).
func resolve(ctx context.Context, cfg SSHConfig) ([]string, error) {
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, cfg.Host)
	if err != nil {
		return nil, &dialError{err: fmt.Errorf("%w to %s: %w", ErrConnect, net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)), err)}
	}
	var v4, v6 []string
	for _, ip := range ips {
		if ip.IP.To4() != nil {
			v4 = append(v4, ip.IP.String())
		} else {
			v6 = append(v6, ip.String()) // keeps a zone
		}
	}
	if !cfg.IPv6 {
		return append(v4, v6...), nil
	}
	if cfg.IPv4Fallback {
		return append(v6, v4...), nil
	}
	if len(v6) == 0 {
		return nil, &dialError{
			err:  fmt.Errorf("%w to %s: it has no IPv6 address (only %s) and IPv4 fallback is off", ErrConnect, net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)), strings.Join(v4, ", ")),
			hint: "set ssh.host_ipv4_fallback (host record: ipv4_fallback) to true, or host_ipv6 to false",
		}
	}
	return v6, nil
}

// dialAddr connects to one address and runs the SSH handshake.
func dialAddr(ctx context.Context, cfg SSHConfig, addr string, auth *authenticator, hk *hostKeys) (*SSHSession, error) {
	hostport := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	connErr := func(err error, retry bool) error {
		where := hostport
		if !strings.HasPrefix(addr, "["+cfg.Host+"]") && !strings.HasPrefix(addr, cfg.Host+":") {
			where += " (" + addr + ")"
		}
		return &dialError{err: fmt.Errorf("%w to %s: %w", ErrConnect, where, err), retry: retry}
	}
	check, err := hk.check(hostport)
	if err != nil {
		return nil, &dialError{err: err, hint: "fix or remove the file, or set ssh.known_hosts_file"}
	}
	d := net.Dialer{Timeout: cfg.ConnectTimeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, connErr(err, errors.Is(err, syscall.ECONNREFUSED))
	}

	attempt := auth.attempt()
	config := &ssh.ClientConfig{
		User:              cfg.User,
		AuthCallback:      attempt.next,
		HostKeyCallback:   check.verify,
		HostKeyAlgorithms: check.algorithms,
		Timeout:           cfg.ConnectTimeout,
	}
	_ = conn.SetDeadline(time.Now().Add(cfg.ConnectTimeout))
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	c, chans, reqs, err := ssh.NewClientConn(conn, hostport, config)
	if !stop() {
		if err == nil {
			c.Close()
		}
		return nil, ctx.Err()
	}
	if err != nil {
		conn.Close()
		var neg *ssh.AlgorithmNegotiationError
		switch {
		case check.err != nil:
			return nil, &dialError{err: check.err.err, hint: check.err.hint}
		case len(check.known) > 0 && errors.As(err, &neg) && neg.What == "host key":
			f := check.noCommonType(hostport, neg.RequestedAlgorithms)
			return nil, &dialError{err: f.err, hint: f.hint}
		case errors.Is(err, os.ErrDeadlineExceeded):
			return nil, connErr(fmt.Errorf("no SSH login within %s", cfg.ConnectTimeout), false)
		case check.ok:
			// The host key was accepted: what failed is authentication.
			return nil, &dialError{
				err:  fmt.Errorf("%w for %s@%s (tried %s): %w", ErrAuth, cfg.User, hostport, attempt.describe(), err),
				hint: authHint(cfg),
			}
		default:
			// Cut short before the host key: an sshd still starting, or
			// something that is not an SSH server.
			return nil, connErr(err, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET))
		}
	}
	_ = conn.SetDeadline(time.Time{})

	s := &SSHSession{
		label:  cfg.Label,
		addr:   addr,
		log:    cfg.Logger.With("host", cfg.Label),
		client: ssh.NewClient(c, chans, reqs),
		slots:  make(chan struct{}, cfg.MaxSessions),
		done:   make(chan struct{}),
	}
	go s.watch()
	if cfg.Keepalive > 0 {
		go s.keepalive(cfg.Keepalive)
	}
	s.log.Debug("ssh connected", "addr", addr, "user", cfg.User, "auth", attempt.describe())
	return s, nil
}

// Addr is the address (ip:port) the session is connected to.
func (s *SSHSession) Addr() string { return s.addr }

// watch records why the connection ended when it ends on its own.
func (s *SSHSession) watch() {
	err := s.client.Wait()
	select {
	case <-s.done:
	default:
		if err == nil {
			err = io.EOF
		}
		s.setLost(fmt.Errorf("connection closed: %w", err))
	}
}

func (s *SSHSession) setLost(err error) {
	s.lostMu.Lock()
	defer s.lostMu.Unlock()
	if s.lost == nil {
		s.lost = err
		s.log.Debug("ssh connection lost", "err", err)
	}
}

// keepalive asks the server for a reply every interval and closes the
// connection when one does not come within the next interval.
func (s *SSHSession) keepalive(interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-tick.C:
		}
		reply := make(chan error, 1)
		go func() {
			_, _, err := s.client.SendRequest("keepalive@openssh.com", true, nil)
			reply <- err
		}()
		timer := time.NewTimer(interval)
		select {
		case <-s.done:
			timer.Stop()
			return
		case err := <-reply:
			timer.Stop()
			if err != nil {
				s.setLost(fmt.Errorf("keepalive failed: %w", err))
				s.client.Close()
				return
			}
		case <-timer.C:
			s.setLost(fmt.Errorf("no keepalive reply within %s", interval))
			s.client.Close()
			return
		}
	}
}

// errClosed is returned by calls after Close.
var errClosed = errors.New("session is closed")

// connErr explains a failure to open a channel: the session closed, the
// connection lost, or err.
func (s *SSHSession) connErr(err error) error {
	select {
	case <-s.done:
		return errClosed
	default:
	}
	s.lostMu.Lock()
	lost := s.lost
	s.lostMu.Unlock()
	if lost != nil {
		return fmt.Errorf("%w: %w", ErrConnect, lost)
	}
	return err
}

// acquire takes a channel slot, waiting for ctx.
func (s *SSHSession) acquire(ctx context.Context) error {
	select {
	case s.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return errClosed
	}
}

func (s *SSHSession) release() { <-s.slots }

// openSession takes a channel slot and opens a session channel on it,
// giving up when ctx ends (a channel that opens later is closed then).
// The caller closes the session and releases the slot.
func (s *SSHSession) openSession(ctx context.Context) (*ssh.Session, error) {
	if err := s.acquire(ctx); err != nil {
		return nil, err
	}
	ch := make(chan opened, 1)
	go func() {
		sess, err := s.newSession(ctx)
		ch <- opened{sess, err}
	}()
	select {
	case o := <-ch:
		if o.err != nil {
			s.release()
			return nil, s.connErr(fmt.Errorf("open a session channel: %w", o.err))
		}
		return o.sess, nil
	case <-ctx.Done():
		s.abandon(ch)
		return nil, ctx.Err()
	case <-s.done:
		s.abandon(ch)
		return nil, errClosed
	}
}

// abandon closes the session that ch brings, if any, and releases its slot.
func (s *SSHSession) abandon(ch <-chan opened) {
	go func() {
		if o := <-ch; o.err == nil {
			o.sess.Close()
		}
		s.release()
	}()
}

type opened struct {
	sess *ssh.Session
	err  error
}

// newSession opens a session channel, retrying while the server rejects
// it: sshd counts a closed session against MaxSessions until its next
// cleanup pass, and a server may allow fewer sessions than we do (then
// the others in use must end first).
func (s *SSHSession) newSession(ctx context.Context) (*ssh.Session, error) {
	start, wait := time.Now(), 2*time.Millisecond
	for {
		sess, err := s.client.NewSession()
		var rejected *ssh.OpenChannelError
		if err == nil || !errors.As(err, &rejected) {
			return sess, err
		}
		if others := len(s.slots) - 1 - int(s.pinned.Load()); others <= 0 && time.Since(start) > time.Second {
			return nil, fmt.Errorf("%w (the host refuses even one more session on this connection)", err)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-s.done:
			t.Stop()
			return nil, errClosed
		case <-t.C:
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

// Run runs command through the remote user's shell. See Session.Run.
//
// Cancelling ctx returns at once with ctx's error and the output so far
// (Status -1): the command is sent SIGKILL and its channel closed.
// OpenSSH refuses signals for root logins (no privilege separation after
// authentication), so there a command that writes nothing may run on until
// it ends; one that writes gets SIGPIPE.
func (s *SSHSession) Run(ctx context.Context, command string, opts RunOptions) (Result, error) {
	fail := func(res Result, err error) (Result, error) {
		return res, &Error{Host: s.label, Op: "run", Err: err}
	}
	if err := ctx.Err(); err != nil {
		return fail(Result{}, err)
	}
	sess, err := s.openSession(ctx)
	if err != nil {
		return fail(Result{}, err)
	}
	finish := func() {
		sess.Close()
		s.release()
	}

	outW, errW := &tee{w: opts.Stdout}, &tee{w: opts.Stderr}
	if opts.Stdout != nil && opts.Stdout == opts.Stderr {
		// One writer for both streams, which are copied concurrently.
		var mu sync.Mutex
		outW.shared, errW.shared = &mu, &mu
	}
	sess.Stdout, sess.Stderr, sess.Stdin = outW, errW, opts.Stdin
	early := context.AfterFunc(ctx, func() { sess.Close() })
	err = sess.Start(command)
	if !early() {
		finish()
		return fail(Result{}, ctx.Err())
	}
	if err != nil {
		finish()
		return fail(Result{}, s.connErr(fmt.Errorf("start %q: %w", command, err)))
	}
	waited := make(chan error, 1)
	go func() { waited <- sess.Wait() }()
	var werr error
	select {
	case werr = <-waited:
		finish()
	case <-ctx.Done():
		_ = sess.Signal(ssh.SIGKILL)
		sess.Close()
		res := Result{Status: -1, Stdout: outW.stop(), Stderr: errW.stop()}
		// The channel counts against the server's MaxSessions until the
		// server closes it.
		go func() {
			<-waited
			finish()
		}()
		return fail(res, ctx.Err())
	}

	res := Result{Stdout: outW.stop(), Stderr: errW.stop()}
	var exit *ssh.ExitError
	switch {
	case werr == nil:
	case errors.As(werr, &exit):
		res.Status = exit.ExitStatus()
	default:
		res.Status = -1
		return fail(res, s.connErr(fmt.Errorf("%q: %w", command, werr)))
	}
	if err := errors.Join(outW.err, errW.err); err != nil {
		return fail(res, fmt.Errorf("stream output of %q: %w", command, err))
	}
	return res, nil
}

// tee captures a stream and copies it to w too. A failing w is dropped
// (its error kept) so the capture, and the command, carry on; after stop
// nothing more is kept or copied.
type tee struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	w       io.Writer
	shared  *sync.Mutex // held around w when it serves both streams
	err     error
	stopped bool
}

func (t *tee) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return len(p), nil
	}
	t.buf.Write(p)
	if t.w != nil && t.err == nil {
		if t.shared != nil {
			t.shared.Lock()
			defer t.shared.Unlock()
		}
		if _, err := t.w.Write(p); err != nil {
			t.err = err
		}
	}
	return len(p), nil
}

// stop ends the capture and returns what was captured.
func (t *tee) stop() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	return t.buf.String()
}

// Close ends the session: the SFTP client and the connection.
func (s *SSHSession) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.done)
		// The connection first: that ends whatever waits on it, also an
		// SFTP start holding sftpMu.
		if cerr := s.client.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = &Error{Host: s.label, Op: "close", Err: cerr}
		}
		s.sftpMu.Lock()
		if s.sftpc != nil {
			s.sftpc.Close()
			s.sftpc, s.sftpSess = nil, nil
		}
		s.sftpMu.Unlock()
	})
	return err
}
