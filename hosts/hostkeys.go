package hosts

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// hostKeys checks host keys against a known_hosts file under a policy.
type hostKeys struct {
	policy string
	file   string
	log    *slog.Logger
}

func newHostKeys(cfg SSHConfig) (*hostKeys, error) {
	hk := &hostKeys{policy: cfg.HostKeyPolicy, file: cfg.KnownHostsFile, log: cfg.Logger}
	if hk.policy == HostKeyOff {
		return hk, nil
	}
	if hk.file == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("no known_hosts file: %w; set ssh.known_hosts_file", err)
		}
		hk.file = filepath.Join(home, ".ssh", "known_hosts")
	}
	return hk, nil
}

// load reads the known_hosts file; a missing one is empty.
func (hk *hostKeys) load() (ssh.HostKeyCallback, error) {
	if _, err := os.Stat(hk.file); errors.Is(err, fs.ErrNotExist) {
		return knownhosts.New()
	}
	db, err := knownhosts.New(hk.file)
	if err != nil {
		return nil, fmt.Errorf("read known_hosts file: %w", err)
	}
	return db, nil
}

// hostKeyCheck verifies the key of one handshake and remembers the outcome.
type hostKeyCheck struct {
	hk         *hostKeys
	db         ssh.HostKeyCallback
	algorithms []string              // the known key types of the host, if any
	known      []knownhosts.KnownKey // the host's known keys
	ok         bool                  // the key was accepted
	err        *hostKeyFailure
}

type hostKeyFailure struct {
	err  error
	hint string
}

// check prepares the verification of hostport's key. Where known_hosts
// has keys for the host, the handshake asks for those key types only, so
// a host with several keys is not reported as a mismatch.
func (hk *hostKeys) check(hostport string) (*hostKeyCheck, error) {
	c := &hostKeyCheck{hk: hk}
	if hk.policy == HostKeyOff {
		return c, nil
	}
	db, err := hk.load()
	if err != nil {
		return nil, err
	}
	c.db = db
	var ke *knownhosts.KeyError
	if errors.As(db(hostport, probeAddr, probeKey{}), &ke) {
		c.known = ke.Want
		for _, k := range ke.Want {
			for _, alg := range keyAlgorithms(k.Key.Type()) {
				if !slices.Contains(c.algorithms, alg) {
					c.algorithms = append(c.algorithms, alg)
				}
			}
		}
	}
	return c, nil
}

// noCommonType explains a handshake that found none of the host's known
// key types on offer (a host rebuilt with other key types).
func (c *hostKeyCheck) noCommonType(hostport string, offered []string) *hostKeyFailure {
	name := knownhosts.Normalize(hostport)
	var where []string
	for _, k := range c.known {
		where = append(where, fmt.Sprintf("%s (%s:%d)", k.Key.Type(), k.Filename, k.Line))
	}
	return &hostKeyFailure{
		err: &sentinelError{ErrHostKey, fmt.Sprintf("host key mismatch for %s: known_hosts holds %s for it, but it offers only %s keys",
			name, strings.Join(where, ", "), strings.Join(offered, ", "))},
		hint: fmt.Sprintf("if the host was rebuilt, remove the stale lines with: ssh-keygen -R '%s' -f '%s'", name, c.known[0].Filename),
	}
}

// keyAlgorithms are the signature algorithms a key type can serve.
func keyAlgorithms(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

// probeKey is no real key: checking it lists the host's known keys.
type probeKey struct{}

func (probeKey) Type() string                        { return "broker-probe" }
func (probeKey) Marshal() []byte                     { return []byte("broker-probe") }
func (probeKey) Verify([]byte, *ssh.Signature) error { return errors.New("probe key") }

var probeAddr = &net.TCPAddr{IP: net.IPv4zero}

// verify is the ssh.HostKeyCallback.
func (c *hostKeyCheck) verify(hostport string, remote net.Addr, key ssh.PublicKey) error {
	if c.hk.policy == HostKeyOff {
		c.ok = true
		return nil
	}
	err := c.db(hostport, remote, key)
	if err == nil {
		c.ok = true
		return nil
	}
	if f := c.hk.explain(hostport, key, err); f != nil {
		c.err = f
		return f.err
	}
	// Unknown host under accept-new.
	if err := c.hk.add(hostport, remote, key); err != nil {
		c.err = err
		return err.err
	}
	c.ok = true
	return nil
}

// explain turns a knownhosts error into a failure for the user; nil means
// the host is unknown and the policy lets it be added.
func (hk *hostKeys) explain(hostport string, key ssh.PublicKey, err error) *hostKeyFailure {
	name := knownhosts.Normalize(hostport)
	host, port, _ := net.SplitHostPort(hostport)
	fp := key.Type() + " " + ssh.FingerprintSHA256(key)
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(err, &re):
		return &hostKeyFailure{
			err: &sentinelError{ErrHostKey, fmt.Sprintf("host key of %s (%s) is revoked in %s:%d", name, fp, re.Revoked.Filename, re.Revoked.Line)},
		}
	case errors.As(err, &ke) && len(ke.Want) > 0:
		w := ke.Want[0]
		return &hostKeyFailure{
			err: &sentinelError{ErrHostKey, fmt.Sprintf("host key mismatch for %s: it presents %s, but %s:%d holds another %s key for it (a rebuilt host, or someone in between)",
				name, fp, w.Filename, w.Line, w.Key.Type())},
			hint: fmt.Sprintf("if the host was rebuilt, remove the stale line with: ssh-keygen -R '%s' -f '%s'", name, w.Filename),
		}
	case errors.As(err, &ke) && hk.policy == HostKeyStrict:
		return &hostKeyFailure{
			err:  &sentinelError{ErrHostKey, fmt.Sprintf("unknown host key: %s (%s) is not in %s and ssh.host_key_policy is %s", name, fp, hk.file, HostKeyStrict)},
			hint: fmt.Sprintf("after checking the fingerprint, add it with: ssh-keyscan -p %s '%s' >> '%s'; or set ssh.host_key_policy to %s", port, host, hk.file, HostKeyAcceptNew),
		}
	case errors.As(err, &ke):
		return nil
	default:
		return &hostKeyFailure{err: &sentinelError{ErrHostKey, fmt.Sprintf("check the host key of %s against %s: %v", name, hk.file, err)}}
	}
}

// knownHostsMu serialises additions to known_hosts files in this process.
var knownHostsMu sync.Mutex

// add appends hostport's key to the known_hosts file (accept-new),
// unless another session added a key for it meanwhile.
func (hk *hostKeys) add(hostport string, remote net.Addr, key ssh.PublicKey) *hostKeyFailure {
	knownHostsMu.Lock()
	defer knownHostsMu.Unlock()
	db, err := hk.load()
	if err != nil {
		return &hostKeyFailure{err: err}
	}
	if err := db(hostport, remote, key); err == nil {
		return nil
	} else if f := hk.explain(hostport, key, err); f != nil {
		return f
	}
	fail := func(err error) *hostKeyFailure {
		return &hostKeyFailure{
			err:  fmt.Errorf("add the host key of %s to %s: %w", knownhosts.Normalize(hostport), hk.file, err),
			hint: "set ssh.known_hosts_file to a writable file",
		}
	}
	if err := os.MkdirAll(filepath.Dir(hk.file), 0o700); err != nil {
		return fail(err)
	}
	f, err := os.OpenFile(hk.file, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fail(err)
	}
	line := knownhosts.Line([]string{hostport}, key) + "\n"
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
			line = "\n" + line
		}
	}
	_, err = f.WriteString(line)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(err)
	}
	hk.log.Info("added the host key to known_hosts", "host", knownhosts.Normalize(hostport),
		"key", key.Type()+" "+ssh.FingerprintSHA256(key), "file", hk.file)
	return nil
}

// sentinelError is a message that wraps a sentinel without repeating it.
type sentinelError struct {
	sentinel error
	msg      string
}

func (e *sentinelError) Error() string { return e.msg }
func (e *sentinelError) Unwrap() error { return e.sentinel }
