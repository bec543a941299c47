package hosts

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// authMethod is one way to log in, in the order offered.
type authMethod struct {
	name   string // protocol name: "publickey", "password", "keyboard-interactive"
	desc   string // for messages: "key file /x", "password", "ssh-agent"
	method ssh.AuthMethod
}

// authenticator holds the methods of one config: key file, password,
// agent, in that order (upstream's order), each offered when given.
type authenticator struct {
	methods []authMethod
	agent   net.Conn // closed by close
}

func newAuthenticator(cfg SSHConfig) (*authenticator, error) {
	a := &authenticator{}
	if cfg.KeyFile != "" {
		signer, err := loadKey(cfg.KeyFile, cfg.Password)
		if err != nil {
			return nil, err
		}
		a.methods = append(a.methods, authMethod{"publickey", "key file " + cfg.KeyFile, ssh.PublicKeys(signer)})
	}
	if cfg.Password != "" {
		pw := cfg.Password
		a.methods = append(a.methods,
			authMethod{"password", "password", ssh.Password(pw)},
			authMethod{"keyboard-interactive", "password (keyboard-interactive)", ssh.KeyboardInteractive(
				func(_, _ string, questions []string, _ []bool) ([]string, error) {
					answers := make([]string, len(questions))
					for i := range answers {
						answers[i] = pw
					}
					return answers, nil
				})})
	}
	if sock := os.Getenv("SSH_AUTH_SOCK"); cfg.Agent && sock != "" {
		conn, err := net.Dial("unix", sock)
		if err != nil {
			cfg.Logger.Debug("ssh-agent unreachable; not offering its keys", "host", cfg.Label, "SSH_AUTH_SOCK", sock, "err", err)
		} else {
			a.agent = conn
			a.methods = append(a.methods, authMethod{"publickey", "ssh-agent", ssh.PublicKeysCallback(agent.NewClient(conn).Signers)})
		}
	}
	if len(a.methods) == 0 {
		return nil, fmt.Errorf("%w: no way to log in: no key file, no password and no ssh-agent", ErrAuth)
	}
	return a, nil
}

func (a *authenticator) close() {
	if a.agent != nil {
		a.agent.Close()
	}
}

// loadKey reads a private key file; an encrypted one is decrypted with
// the password, as upstream's libraries do.
func loadKey(path, password string) (ssh.Signer, error) {
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			path = filepath.Join(home, rest)
		}
	}
	pem, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: key not found in '%s'", ErrAuth, path)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: read key: %w", ErrAuth, err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		if password == "" {
			return nil, fmt.Errorf("%w: key '%s' is passphrase-protected: load it into ssh-agent (ssh-add) and leave the key file unset, or set the passphrase as the password", ErrAuth, path)
		}
		signer, err = ssh.ParsePrivateKeyWithPassphrase(pem, []byte(password))
	}
	if err != nil {
		return nil, fmt.Errorf("%w: key '%s': %w", ErrAuth, path, err)
	}
	return signer, nil
}

// attempt walks the methods in order for one handshake and remembers
// which it offered.
type authAttempt struct {
	methods []authMethod
	pos     int
	tried   []string
}

func (a *authenticator) attempt() *authAttempt { return &authAttempt{methods: a.methods} }

// next is the ssh.ClientConfig.AuthCallback: the next of our methods the
// server allows, or none (the handshake then fails).
func (t *authAttempt) next(ctx *ssh.ClientAuthContext) (ssh.AuthMethod, error) {
	for t.pos < len(t.methods) {
		m := t.methods[t.pos]
		t.pos++
		if slices.Contains(ctx.AllowedMethods, m.name) {
			if !slices.Contains(t.tried, m.desc) {
				t.tried = append(t.tried, m.desc)
			}
			return m.method, nil
		}
	}
	return nil, nil
}

func (t *authAttempt) describe() string {
	if len(t.tried) == 0 {
		var all []string
		for _, m := range t.methods {
			all = append(all, m.desc)
		}
		return "none the server allows of: " + strings.Join(all, ", ")
	}
	return strings.Join(t.tried, ", ")
}

// authHint says what to set to log in.
func authHint(cfg SSHConfig) string {
	switch {
	case cfg.KeyFile == "" && cfg.Password == "":
		return "set ssh.host_ssh_key_filename (host record: key_filename) to a private key the host accepts, or ssh.host_password (host record: password)"
	case cfg.KeyFile != "":
		return "check that ssh.host_ssh_key_filename (host record: key_filename) names a key in the host's authorized_keys for " + cfg.User + ", or set ssh.host_password"
	default:
		return "check ssh.host_password (host record: password), or set ssh.host_ssh_key_filename (host record: key_filename) to a private key the host accepts"
	}
}
