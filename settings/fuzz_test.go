package settings_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/broker-go/broker/settings"
)

func seedFiles(f *testing.F) {
	for _, name := range []string{"testdata/upstream_broker_settings.yaml", "testdata/upstream_pre06_settings.yaml", "../broker_settings.yaml.example"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "~", "- a", "a: &x {b: *x}", "logging: loud", "P:\n  instances:\n    - a: {default: true}\n    - b:\n",
		"inventory_fields: {A: a, B: b}", "nicks: {n: {x: 2024-01-01}}", "<<: {a: 1}", "a: !!binary aGk=",
		"P: {instances: {a: {default: true}, b: {default: false}}}", "1: 2\ntrue: false\n", "a:\n\t- b",
		"x: &a [*a]", "SCENARIO_IMPORT: {git_hosts: []}\nscenario_import: {git_hosts: [{}]}",
	} {
		f.Add([]byte(s))
	}
}

// checkLoaded exercises every accessor of loaded settings and checks that
// they agree with each other.
func checkLoaded(t *testing.T, s *settings.Settings) {
	t.Helper()
	if cols := s.InventoryFields(); len(cols) == 0 {
		t.Error("no inventory columns")
	}
	for _, n := range s.Nicks() {
		if _, err := s.Nick(n); err != nil {
			t.Errorf("listed nick %q: %v", n, err)
		}
	}
	for _, p := range s.ProviderNames() {
		if !s.HasProvider(p) {
			t.Errorf("listed provider %q is not configured", p)
		}
		names, def := s.Instances(p)
		cfg, chosen, err := s.Provider(p, "")
		if err != nil {
			t.Errorf("Provider(%q): %v", p, err)
		}
		if chosen != def {
			t.Errorf("Provider(%q) chose %q, Instances says default %q", p, chosen, def)
		}
		if _, ok := cfg["instances"]; ok {
			t.Errorf("Provider(%q) config keeps instances", p)
		}
		for _, n := range names {
			if _, got, err := s.Provider(p, n); err != nil || got != n {
				t.Errorf("Provider(%q, %q) = %q, %v", p, n, got, err)
			}
		}
	}
	if s.ThreadLimit() < 0 {
		t.Errorf("ThreadLimit = %d", s.ThreadLimit())
	}
	lg := s.Logging()
	if !filepath.IsAbs(lg.LogPath) {
		t.Errorf("LogPath %q is not absolute", lg.LogPath)
	}
	ok := false
	for _, l := range settings.LogLevels() {
		ok = ok || l == lg.ConsoleLevel
	}
	if !ok {
		t.Errorf("console level %q", lg.ConsoleLevel)
	}
	_ = s.SSH()
	_ = s.ProviderLabels()
	_ = s.InventoryListVars()
	if err := s.Validate("all"); err != nil {
		t.Errorf("Validate(all) after a successful Load: %v", err)
	}
	all := s.All()
	if !reflect.DeepEqual(all, s.All()) {
		t.Error("All is not stable")
	}
	_ = settings.Redact(all)
	if _, err := yaml.Marshal(settings.Redact(all)); err != nil {
		t.Errorf("redacted settings do not encode: %v", err)
	}
}

// FuzzLoad: any file content loads, or fails with a *ValidationError;
// loaded settings are self-consistent.
func FuzzLoad(f *testing.F) {
	seedFiles(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, settings.FileName), data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := settings.Load(settings.LoadOptions{Dir: dir})
		if err != nil {
			var ve *settings.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
			}
			if !strings.HasPrefix(ve.Error(), ve.File) || ve.File == "" {
				t.Fatalf("error %q does not start with the file", ve.Error())
			}
			return
		}
		checkLoaded(t, s)
		// What ViewChunk shows of the whole file is YAML that loads the same.
		out, err := settings.ViewChunkRaw(s.File, "")
		if err != nil {
			t.Fatalf("ViewChunkRaw of a loadable file: %v", err)
		}
		dir2 := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir2, settings.FileName), out, 0o600); err != nil {
			t.Fatal(err)
		}
		s2, err := settings.Load(settings.LoadOptions{Dir: dir2})
		if err != nil {
			t.Fatalf("re-encoded file does not load: %v\n%s", err, out)
		}
		if a, b := settings.Redact(s.All()), settings.Redact(s2.All()); !reflect.DeepEqual(a, b) {
			t.Fatalf("re-encoded file loads differently:\n%#v\n%#v", a, b)
		}
	})
}

// FuzzEnv: any BROKER_ variable, over the upstream file, loads or fails
// with a *ValidationError naming the variable.
func FuzzEnv(f *testing.F) {
	for _, s := range [][2]string{
		{"LOGGING__CONSOLE_LEVEL", "debug"}, {"AnsibleTower__base_url", "https://x/"},
		{"TESTPROVIDER__INSTANCES__TEST2__foo", "bar"}, {"THREAD_LIMIT", "[1,2]"},
		{"CONTAINER__INSTANCES", "[{a: {}}]"}, {"NICKS", "{a: 1}"}, {"ANSIBLETOWER__INSTANCES__PRODUCTION__DEFAULT", "false"},
		{"X", "'quoted'"}, {"SSH__HOST_SSH_PORT", "70000"}, {"CONTAINER", "null"},
	} {
		f.Add(s[0], s[1])
	}
	data, err := os.ReadFile("testdata/upstream_broker_settings.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, value string) {
		if strings.ContainsAny(name, "=\x00") || strings.Contains(value, "\x00") {
			t.Skip()
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, settings.FileName), data, 0o600); err != nil {
			t.Fatal(err)
		}
		env := "BROKER_" + name
		s, err := settings.Load(settings.LoadOptions{Dir: dir, Environ: []string{env + "=" + value}})
		if err != nil {
			var ve *settings.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
			}
			if ve.File != "environment variable "+env {
				t.Fatalf("error blames %q, not the variable: %v", ve.File, err)
			}
			return
		}
		checkLoaded(t, s)
	})
}

// FuzzParseScalar: strings that are not special come back unchanged, and
// typed results survive a YAML round trip.
func FuzzParseScalar(f *testing.F) {
	for _, s := range []string{"", "true", "42", "-0", "9.4", "1e999", "[1, 2]", "{a: b}", `"q"`, "'q'", "0123", "~", "[", "{a: [}", "x: y", ".inf", "1_000", "+5", "9223372036854775808"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := settings.ParseScalar(s)
		switch t2 := v.(type) {
		case string:
			if len(s) > 0 && s[0] != '"' && s[0] != '\'' && t2 != s {
				t.Fatalf("ParseScalar(%q) = %q, want the string unchanged", s, t2)
			}
			return
		case nil, bool, int, int64, float64, []any, map[string]any:
		default:
			t.Fatalf("ParseScalar(%q) = %#v (%T)", s, v, v)
		}
		out, err := yaml.Marshal(map[string]any{"v": v})
		if err != nil {
			t.Fatalf("ParseScalar(%q) = %#v does not encode: %v", s, v, err)
		}
		var back map[string]any
		if err := yaml.Unmarshal(out, &back); err != nil {
			t.Fatalf("ParseScalar(%q) round trip: %v", s, err)
		}
	})
}

// FuzzSetChunk: setting any chunk to any string either refuses (file
// untouched) or writes a file that loads and shows the value back.
func FuzzSetChunk(f *testing.F) {
	for _, s := range [][2]string{
		{"thread_limit", "5"}, {"logging.console_level", "loud"}, {"nicks.x.container_host", "busybox"},
		{"Container.instances.a.default", "true"}, {"a.b.c", "[1, {x: y}]"}, {"AnsibleTower.token", "0123"},
		{"inventory_fields", "{A: a}"}, {"logging", "null"}, {"nicks.busybox", "~"}, {"ssh.host_ssh_port", "0"},
	} {
		f.Add(s[0], s[1])
	}
	example, err := os.ReadFile("../broker_settings.yaml.example")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, chunk, value string) {
		dir := t.TempDir()
		file := filepath.Join(dir, settings.FileName)
		if err := os.WriteFile(file, example, 0o600); err != nil {
			t.Fatal(err)
		}
		err := settings.SetChunk(file, chunk, value)
		if err != nil {
			var ve *settings.ValidationError
			var nf *settings.NotFoundError
			if !errors.As(err, &ve) && !errors.As(err, &nf) {
				t.Fatalf("SetChunk(%q, %q): %v (%T) is neither a ValidationError nor a NotFoundError", chunk, value, err, err)
			}
			if got, _ := os.ReadFile(file); string(got) != string(example) {
				t.Fatalf("refused SetChunk(%q, %q) changed the file", chunk, value)
			}
			return
		}
		s, err := settings.Load(settings.LoadOptions{Dir: dir})
		if err != nil {
			t.Fatalf("SetChunk(%q, %q) wrote a file that does not load: %v\n%s", chunk, value, err, readFile(t, file))
		}
		checkLoaded(t, s)
		if got := readFile(t, settings.BackupFile(file)); got != string(example) {
			t.Fatalf("backup differs from the old file")
		}
		out, err := settings.ViewChunkRaw(file, chunk)
		if err != nil {
			t.Fatalf("ViewChunkRaw(%q) after setting it: %v", chunk, err)
		}
		var back any
		if err := yaml.Unmarshal(out, &back); err != nil {
			t.Fatalf("ViewChunkRaw(%q) = %q: %v", chunk, out, err)
		}
		want := settings.ParseScalar(value)
		parts := strings.Split(chunk, ".")
		if settings.IsSensitive(parts[len(parts)-1]) {
			want = value
		}
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("SetChunk(%q, %q) then view = %#v, want %#v", chunk, value, back, want)
		}
	})
}
