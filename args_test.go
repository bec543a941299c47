package broker

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/broker-go/broker/providers"
)

func TestParseArgs(t *testing.T) {
	cases := []struct {
		in   []string
		want Args
	}{
		{[]string{"--workflow", "deploy-rhel"}, Args{"workflow": "deploy-rhel"}},
		{[]string{"--x=a=b,c=d"}, Args{"x": "a=b,c=d"}},
		{[]string{"--opt", "-starts-with-dash"}, Args{"opt": "-starts-with-dash"}},
		{[]string{"--opt", "k=v"}, Args{"opt": "k=v"}},
		{[]string{"key=value", "--deploy-rhel-version", "9"}, Args{"key": "value", "deploy-rhel-version": "9"}},
		{[]string{"--AnsibleTower", "testing"}, Args{"AnsibleTower": "testing"}},
		{nil, Args{}},
	}
	for _, c := range cases {
		got, err := ParseArgs(c.in)
		if err != nil {
			t.Errorf("ParseArgs(%q): %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseArgs(%q) = %v, want %v", c.in, got, c.want)
		}
	}
	for _, bad := range [][]string{{"--dangling"}, {"-k", "v"}, {"bare"}, {"=v"}, {"--=v"}} {
		_, err := ParseArgs(bad)
		var ue *providers.UserError
		if !errors.As(err, &ue) {
			t.Errorf("ParseArgs(%q): want a UserError, got %v", bad, err)
		}
	}
}

func FuzzParseArgs(f *testing.F) {
	f.Add("--a", "b", "c=d")
	f.Add("--x=1=2", "--y", "-z")
	f.Add("k=v", "--", "")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		args, err := ParseArgs([]string{a, b, c})
		if err != nil {
			return
		}
		for k := range args {
			if k == "" {
				t.Fatalf("empty key from %q %q %q", a, b, c)
			}
		}
	})
}

func TestParseLabels(t *testing.T) {
	got := ParseLabels("k1=v1,k2=v2,k3=v3=z4,k4")
	want := map[string]string{"k1": "v1", "k2": "v2", "k3": "v3=z4", "k4": ""}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseLabels = %v, want %v", got, want)
	}
}

func TestResolveArgsPrecedence(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "broker_settings.yaml", `
nicks:
  n1:
    container_host: from-nick
    only_nick: yes-nick
    env: {a: nick, b: nick}
Container: {}
`)
	writeFile(t, dir, "args.yaml", "container_host: from-file\nonly_file: f\nenv: {b: file}\n")
	writeFile(t, dir, "extra.json", `[{"x": 1}, {"y": "two"}]`)
	b := newTestBroker(t, dir, nil)
	got, err := b.ResolveArgs(ArgsRequest{
		Nick:     "n1",
		ArgsFile: filepath.Join(dir, "args.yaml"),
		Args:     Args{"container_host": "from-cli", "extra": filepath.Join(dir, "extra.json"), "notafile": "missing.yaml"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Args{
		"container_host": "from-cli", "only_nick": "yes-nick", "only_file": "f",
		"env":      map[string]any{"a": "nick", "b": "file"},
		"extra":    []any{map[string]any{"x": int64(1)}, map[string]any{"y": "two"}},
		"notafile": "missing.yaml",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ResolveArgs =\n%#v\nwant\n%#v", got, want)
	}

	_, err = b.ResolveArgs(ArgsRequest{Nick: "nope"})
	var ue *providers.UserError
	if !errors.As(err, &ue) {
		t.Fatalf("unknown nick: want a UserError, got %v", err)
	}
	_, err = b.ResolveArgs(ArgsRequest{ArgsFile: filepath.Join(dir, "missing.yaml")})
	if !errors.As(err, &ue) {
		t.Fatalf("missing args file: want a UserError, got %v", err)
	}
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func FuzzParseSyncSpec(f *testing.F) {
	for _, s := range []string{"Container", "Container:me", "A::b", "A:x::y", "::", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, _, inst, err := ParseSyncSpec(s)
		if err != nil {
			return
		}
		if p == "" {
			t.Fatalf("ParseSyncSpec(%q): empty provider without an error", s)
		}
		if len(inst) > 0 && (inst == "" || containsColon(inst)) {
			t.Fatalf("ParseSyncSpec(%q): bad instance %q", s, inst)
		}
	})
}

func containsColon(s string) bool {
	for _, c := range s {
		if c == ':' {
			return true
		}
	}
	return false
}
