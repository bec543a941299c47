package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// golden is what a scenario run leaves, compared with testdata/<name>.golden.
type golden struct {
	Error    string         `json:"error,omitempty"`
	ExitCode int            `json:"exit_code,omitempty"`
	Exited   bool           `json:"exited,omitempty"`
	Stdout   string         `json:"stdout"`
	Steps    []string       `json:"steps"`
	Captured map[string]any `json:"captured,omitempty"`
	Calls    []string       `json:"broker_calls,omitempty"`
	Hosts    []string       `json:"hosts_left,omitempty"`
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			var g golden
			sc, err := Load(f)
			if err != nil {
				g.Error = err.Error()
			} else {
				fb := &fakeBroker{}
				var out bytes.Buffer
				r := &Runner{Broker: fb, Stdout: &out, Stderr: &out}
				res, err := r.Run(context.Background(), sc)
				if err != nil {
					g.Error = err.Error()
					var ee *ExitError
					if errors.As(err, &ee) {
						g.ExitCode = ee.Code
					}
				}
				g.Exited = res.Exited
				g.Stdout = out.String()
				for _, s := range res.Steps {
					line := s.Name + ": " + s.Status
					if s.Recovery != "" {
						line = "  (recovery of " + s.Recovery + ") " + line
					}
					g.Steps = append(g.Steps, line)
				}
				g.Captured = map[string]any{}
				for k, v := range res.Variables {
					if _, ok := sc.Variables[k]; !ok {
						g.Captured[k] = v
					}
				}
				g.Captured = jsonable(g.Captured).(map[string]any)
				g.Calls = fb.calls
				for _, h := range res.Hosts {
					g.Hosts = append(g.Hosts, hostName(h))
				}
			}
			got, err := json.MarshalIndent(g, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			gf := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(gf, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(gf)
			if err != nil {
				t.Fatalf("%v (run go test ./scenario -run TestGolden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", gf, got, want)
			}
		})
	}
}
