package settings_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/broker-go/broker/settings"
)

// BenchmarkLoad loads the upstream example with a few environment
// variables: the cost every broker command pays before doing anything.
func BenchmarkLoad(b *testing.B) {
	data, err := os.ReadFile("testdata/upstream_broker_settings.yaml")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, settings.FileName), data, 0o600); err != nil {
		b.Fatal(err)
	}
	env := append(os.Environ(), "BROKER_LOGGING__CONSOLE_LEVEL=debug", "BROKER_ANSIBLETOWER__TOKEN=x")
	for b.Loop() {
		if _, err := settings.Load(settings.LoadOptions{Dir: dir, Environ: env}); err != nil {
			b.Fatal(err)
		}
	}
}
