package broker_test

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/broker-go/broker/internal/testenv"
)

// TestMain leaves the runnable examples out, with a message, when no Docker
// test engine is configured (they check real containers out); under CI
// (engines required) they always run.
func TestMain(m *testing.M) {
	flag.Parse()
	if _, ok, err := testenv.Lookup("docker"); !ok && err == nil {
		fmt.Fprintln(os.Stderr, "broker: BROKER_TEST_DOCKER_HOST is unset: skipping the examples (they need a Docker engine)")
		flag.Set("test.skip", "^Example")
	}
	os.Exit(m.Run())
}
