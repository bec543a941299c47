// Package testenv tells tests which real container engines they may use.
//
// The project's setup script (scripts/test-engines) starts a Docker Engine and
// a Podman service and prints BROKER_TEST_DOCKER_HOST and
// BROKER_TEST_PODMAN_HOST. A test that needs an engine asks for it here: when
// the variable is unset the test is skipped with a message, unless the run
// requires engines (CI=true or BROKER_TEST_REQUIRE_ENGINES=1), where it fails:
// a CI run that silently skips engine tests is a failure, not a pass.
package testenv

import (
	"fmt"
	"os"
	"testing"
)

// The test images (built locally by scripts/test-engines images, never pulled).
const (
	BusyboxImage = "localhost/broker-test/busybox:latest"
	DebianImage  = "localhost/broker-test/debian:latest"
)

// Runtimes are the container runtimes every provider test runs on.
var Runtimes = []string{"docker", "podman"}

// Engine is one running engine for tests.
type Engine struct {
	Runtime string // "docker" or "podman"
	Host    string // e.g. unix:///run/broker-test/docker.sock
}

// EnvVar is the variable that names the runtime's test engine.
func EnvVar(runtime string) string {
	switch runtime {
	case "docker":
		return "BROKER_TEST_DOCKER_HOST"
	case "podman":
		return "BROKER_TEST_PODMAN_HOST"
	}
	panic("testenv: unknown runtime " + runtime)
}

// Required reports whether this run must have the engines (CI).
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("BROKER_TEST_REQUIRE_ENGINES") == "1"
}

// Lookup returns the runtime's engine. ok is false when its variable is
// unset; err is non-nil when it is unset but the run requires it.
func Lookup(runtime string) (e Engine, ok bool, err error) {
	v := os.Getenv(EnvVar(runtime))
	if v == "" {
		if Required() {
			return Engine{}, false, fmt.Errorf("%s is unset but this run requires engines (CI=true or BROKER_TEST_REQUIRE_ENGINES=1): start them with eval \"$(scripts/test-engines up)\"", EnvVar(runtime))
		}
		return Engine{}, false, nil
	}
	return Engine{Runtime: runtime, Host: v}, true, nil
}

// Need returns the runtime's engine, skipping the test (with a message) when
// it is not configured, or failing it when the run requires engines.
func Need(t testing.TB, runtime string) Engine {
	t.Helper()
	e, ok, err := Lookup(runtime)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Skipf("%s is unset: no %s engine for this test (start one with eval \"$(scripts/test-engines up)\")", EnvVar(runtime), runtime)
	}
	return e
}

// ForEach runs f as a subtest on every runtime ("docker", "podman").
func ForEach(t *testing.T, f func(t *testing.T, e Engine)) {
	for _, rt := range Runtimes {
		t.Run(rt, func(t *testing.T) {
			f(t, Need(t, rt))
		})
	}
}
