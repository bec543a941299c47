package container

import (
	"os"
	"strings"
	"testing"

	"github.com/broker-go/broker/internal/testenv"
	"github.com/broker-go/broker/providers"
)

// TestOverSSH checks a host out through an ssh:// engine URL. It needs an
// SSH server whose login reaches the engines, so it runs only when
// BROKER_TEST_SSH_DOCKER_HOST (e.g. ssh://root@127.0.0.1:2222, where the
// remote docker CLI reaches a Docker engine) or BROKER_TEST_SSH_PODMAN_HOST
// (e.g. ssh://root@127.0.0.1:2222/run/broker-test/podman.sock) is set;
// the ssh client must log in without a prompt (key or agent; for Podman,
// $CONTAINER_SSHKEY names the key).
func TestOverSSH(t *testing.T) {
	for _, rt := range testenv.Runtimes {
		t.Run(rt, func(t *testing.T) {
			v := "BROKER_TEST_SSH_" + map[string]string{"docker": "DOCKER", "podman": "PODMAN"}[rt] + "_HOST"
			host := os.Getenv(v)
			if host == "" {
				t.Skipf("%s is unset: no SSH route to a %s engine", v, rt)
			}
			p := newTestProvider(t, providers.Spec{Instance: "ssh", Config: map[string]any{"runtime": rt, "host": host}, User: uniqueUser(t)})
			h := checkout(t, p, providers.Args{"container_host": testenv.DebianImage, "ports": "22"})
			t.Logf("record: %v", h)
			if got, err := p.List(t.Context(), ""); err != nil || len(got) != 1 {
				t.Errorf("List = %v, %v", names(got), err)
			}
			res, err := p.Execute(t.Context(), providers.Args{"container_app": testenv.BusyboxImage, "command": "echo over ssh"}, providers.ExecOptions{})
			if err != nil || res.Output != "over ssh\n" {
				t.Errorf("Execute = %+v, %v", res, err)
			}
			if err := p.Checkin(t.Context(), h); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSSHErrors: a password is refused for Docker over ssh and never shows
// in a Podman connection error.
func TestSSHErrors(t *testing.T) {
	p := newTestProvider(t, providers.Spec{Config: map[string]any{
		"runtime": "docker", "host": "ssh://root@127.0.0.1:1", "host_password": "s3cret-pw",
	}, User: "u"})
	_, err := p.List(t.Context(), "")
	wantUserError(t, err, "key or an agent", "Container.host_password")
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("the password shows: %v", err)
	}

	t.Setenv("CONTAINER_SSHKEY", "")
	p = newTestProvider(t, providers.Spec{Config: map[string]any{
		"runtime": "podman", "host": "ssh://root@127.0.0.1:1/run/podman/podman.sock", "host_password": "s3cret-pw",
	}, User: "u"})
	_, err = p.List(t.Context(), "")
	if err == nil || strings.Contains(err.Error(), "s3cret-pw") {
		t.Fatalf("podman over ssh to a closed port: %v", err)
	}
	t.Log(err)
	wantUserError(t, err, "cannot reach the podman engine at ssh://root:xxxxx@127.0.0.1:1/run/podman/podman.sock")
}
