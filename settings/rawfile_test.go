package settings_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/broker-go/broker/settings"
)

const rawSettings = `# top comment
_version: 0.7.0
logging:
  console_level: info # the console
  file_level: debug
thread_limit: null # no limit
AnsibleTower:
  base_url: https://tower/
  token: abc123
  instances:
    my_instance:
      password: pw # keep
      url: https://u:p@host/
nicks:
  rhel9:
    workflow: deploy-rhel
empty:
`

func settingsFile(t *testing.T, content string) string {
	t.Helper()
	return filepath.Join(newDir(t, content), settings.FileName)
}

func TestViewChunk(t *testing.T) {
	file := settingsFile(t, rawSettings)
	out, err := settings.ViewChunk(file, "")
	if err != nil {
		t.Fatal(err)
	}
	whole := string(out)
	for _, want := range []string{"# top comment", "# the console", "token: '******'", "password: '******' # keep", "url: https://u:******@host/", "base_url: https://tower/"} {
		if !strings.Contains(whole, want) {
			t.Errorf("whole file lacks %q:\n%s", want, whole)
		}
	}
	if strings.Contains(whole, "abc123") || strings.Contains(whole, "pw #") {
		t.Errorf("secret shown:\n%s", whole)
	}

	out, err = settings.ViewChunk(file, "AnsibleTower.instances.my_instance")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "chunk", string(out), "password: '******' # keep\nurl: https://u:******@host/\n")
	out, err = settings.ViewChunk(file, "AnsibleTower.token")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "secret scalar chunk", string(out), "'******'\n")
	out, err = settings.ViewChunk(file, "logging.console_level")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "scalar chunk", string(out), "info # the console\n")
	out, err = settings.ViewChunkRaw(file, "AnsibleTower.token")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "raw secret", string(out), "abc123\n")

	_, err = settings.ViewChunk(file, "AnsibleTower.nope")
	nf := asNotFound(t, err)
	equal(t, "Kind", nf.Kind, "chunk")
	equal(t, "message", err.Error(), `chunk "AnsibleTower.nope" not found in `+file+`; see broker config view`)
	_, err = settings.ViewChunk(file, "empty.x")
	equal(t, "null intermediate", err.Error(), `chunk "empty.x" not found in `+file+`; empty is null; see broker config view`)
	_, err = settings.ViewChunk(file, "ansibletower")
	equal(t, "case-sensitive", asNotFound(t, err).Kind, "chunk")
	_, err = settings.ViewChunk(file, "a..b")
	equal(t, "empty part", asNotFound(t, err).Kind, "chunk")
	none := filepath.Join(t.TempDir(), "none.yaml")
	_, err = settings.ViewChunk(none, "")
	equal(t, "missing file", asNotFound(t, err).Kind, "file")
	equal(t, "missing file message", err.Error(), "no settings file at "+none+"; broker config init writes one")
}

func TestSetChunkScalar(t *testing.T) {
	file := settingsFile(t, rawSettings)
	if err := settings.SetChunk(file, "thread_limit", "5"); err != nil {
		t.Fatal(err)
	}
	equal(t, "backup", readFile(t, settings.BackupFile(file)), rawSettings)
	equal(t, "backup name", settings.BackupFile(file), filepath.Join(filepath.Dir(file), "broker_settings.bak"))
	got := readFile(t, file)
	for _, want := range []string{"thread_limit: 5 # no limit", "# top comment", "console_level: info # the console"} {
		if !strings.Contains(got, want) {
			t.Errorf("file lacks %q:\n%s", want, got)
		}
	}
	s, err := settings.Load(settings.LoadOptions{Dir: filepath.Dir(file)})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "ThreadLimit", s.ThreadLimit(), 5)

	if err := settings.SetChunk(file, "logging.console_level", "debug"); err != nil {
		t.Fatal(err)
	}
	equal(t, "backup replaced", readFile(t, settings.BackupFile(file)), got)
	out, _ := settings.ViewChunkRaw(file, "logging.console_level")
	equal(t, "console level", string(out), "debug # the console\n")

	// A quoted value stays a string; a sensitive key keeps the string.
	if err := settings.SetChunk(file, "nicks.rhel9.deploy_rhel_version", `"9.10"`); err != nil {
		t.Fatal(err)
	}
	if err := settings.SetChunk(file, "AnsibleTower.password", "0123"); err != nil {
		t.Fatal(err)
	}
	s, err = settings.Load(settings.LoadOptions{Dir: filepath.Dir(file)})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := s.Nick("rhel9")
	equal(t, "quoted", n["deploy_rhel_version"], "9.10")
	equal(t, "password", s.Get("AnsibleTower.password"), "0123")
}

func TestSetChunkCreatesIntermediateMaps(t *testing.T) {
	file := settingsFile(t, rawSettings)
	if err := settings.SetChunk(file, "Container.instances.remote.host", "ssh://me@build"); err != nil {
		t.Fatal(err)
	}
	if err := settings.SetChunk(file, "empty.child", "true"); err != nil {
		t.Fatal(err)
	}
	s, err := settings.Load(settings.LoadOptions{Dir: filepath.Dir(file)})
	if err != nil {
		t.Fatal(err)
	}
	cfg, chosen, err := s.Provider("Container", "")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "chosen", chosen, "remote")
	equal(t, "config", cfg, map[string]any{"host": "ssh://me@build"})
	equal(t, "under null", s.Get("empty.child"), true)

	err = settings.SetChunk(file, "logging.console_level.deeper", "x")
	ve := asValidation(t, err)
	equal(t, "Key", ve.Key, "logging.console_level")
	if !strings.Contains(err.Error(), `want a map to set deeper in; got "info"`) {
		t.Errorf("error = %v", err)
	}
}

func TestSetChunkStructuredValues(t *testing.T) {
	file := settingsFile(t, rawSettings)
	nick := map[string]any{"container_host": "busybox:latest", "ports": []any{22, "8080:80"}}
	if err := settings.SetChunk(file, "nicks.busybox", nick); err != nil {
		t.Fatal(err)
	}
	if err := settings.SetChunk(file, "provider_labels", "{team: qe}"); err != nil {
		t.Fatal(err)
	}
	s, err := settings.Load(settings.LoadOptions{Dir: filepath.Dir(file)})
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Nick("busybox")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "nick", n, nick)
	equal(t, "labels", s.ProviderLabels(), map[string]string{"team": "qe"})
	equal(t, "nick order (file, then new)", s.Nicks(), []string{"rhel9", "busybox"})
}

func TestSetChunkRefusesInvalid(t *testing.T) {
	file := settingsFile(t, rawSettings)
	for _, tc := range []struct {
		chunk string
		value any
		want  string
	}{
		{"logging.console_level", "loud", `logging.console_level: want one of`},
		{"thread_limit", "0", `thread_limit: want null or a whole number`},
		{"nicks", "[a, b]", `nicks: want a map`},
		{"AnsibleTower.instances", "five", `AnsibleTower.instances: want a map of instance name`},
	} {
		err := settings.SetChunk(file, tc.chunk, tc.value)
		if err == nil {
			t.Fatalf("SetChunk(%s, %v) succeeded", tc.chunk, tc.value)
		}
		asValidation(t, err)
		if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "settings not changed: "+file) {
			t.Errorf("SetChunk(%s) error = %v", tc.chunk, err)
		}
		equal(t, "file untouched", readFile(t, file), rawSettings)
	}
	if _, err := os.Stat(settings.BackupFile(file)); !os.IsNotExist(err) {
		t.Errorf("a refused change made a backup (stat: %v)", err)
	}
	err := settings.SetChunk(file, "", "x")
	asValidation(t, err)
	err = settings.SetChunk(file, "a..b", "x")
	asNotFound(t, err)
}

func TestSetChunkMissingFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), settings.FileName)
	if err := settings.SetChunk(file, "nicks.a.container_host", "x"); err != nil {
		t.Fatal(err)
	}
	equal(t, "new file", readFile(t, file), "nicks:\n  a:\n    container_host: x\n")
	if _, err := os.Stat(settings.BackupFile(file)); !os.IsNotExist(err) {
		t.Errorf("backup of nothing made (stat: %v)", err)
	}
}

func TestRestore(t *testing.T) {
	file := settingsFile(t, rawSettings)
	err := settings.Restore(file)
	nf := asNotFound(t, err)
	equal(t, "Kind", nf.Kind, "backup")
	if !strings.HasPrefix(err.Error(), "no backup file found at "+settings.BackupFile(file)) {
		t.Errorf("message = %v", err)
	}
	if err := settings.SetChunk(file, "thread_limit", "3"); err != nil {
		t.Fatal(err)
	}
	if err := settings.Restore(file); err != nil {
		t.Fatal(err)
	}
	equal(t, "restored", readFile(t, file), rawSettings)
}

func TestInit(t *testing.T) {
	file := settingsFile(t, rawSettings)
	source := []byte("# fresh\nthread_limit: 2\nnicks:\n  rhel9: {workflow: new-rhel}\nlogging: {console_level: warning}\n")
	if err := settings.Init(file, "nicks.rhel9", source); err != nil {
		t.Fatal(err)
	}
	s, err := settings.Load(settings.LoadOptions{Dir: filepath.Dir(file)})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := s.Nick("rhel9")
	equal(t, "chunk replaced", n, map[string]any{"workflow": "new-rhel"})
	equal(t, "rest kept", s.ThreadLimit(), 0)
	equal(t, "rest kept (token)", s.Get("AnsibleTower.token"), "abc123")
	equal(t, "backup", readFile(t, settings.BackupFile(file)), rawSettings)

	if err := settings.Init(file, "", source); err != nil {
		t.Fatal(err)
	}
	equal(t, "whole file", readFile(t, file), string(source))

	err = settings.Init(file, "AnsibleTower", source)
	nf := asNotFound(t, err)
	equal(t, "message", err.Error(), `chunk "AnsibleTower" not found in the source; see broker config view`)
	_ = nf

	err = settings.Init(file, "", []byte("thread_limit: many\n"))
	asValidation(t, err)
	equal(t, "file untouched", readFile(t, file), string(source))

	// A chunk whose aliases point outside it is refused; inside is fine.
	aliased := []byte("base: &b {x: 1}\nnicks:\n  a: {inner: *b}\n  c: {y: &y 2, z: *y}\n  d: *b\n")
	err = settings.Init(file, "nicks.a", aliased)
	asValidation(t, err)
	if err := settings.Init(file, "nicks.c", aliased); err != nil {
		t.Fatal(err)
	}
	s, err = settings.Load(settings.LoadOptions{Dir: filepath.Dir(file)})
	if err != nil {
		t.Fatal(err)
	}
	n, _ = s.Nick("c")
	equal(t, "aliased chunk", n, map[string]any{"y": 2, "z": 2})
	if err := settings.Init(file, "nicks.d", aliased); err != nil {
		t.Fatal(err)
	}
	s, err = settings.Load(settings.LoadOptions{Dir: filepath.Dir(file)})
	if err != nil {
		t.Fatal(err)
	}
	n, _ = s.Nick("d")
	equal(t, "chunk that is an alias", n, map[string]any{"x": 1})

	fresh := filepath.Join(t.TempDir(), "sub", settings.FileName)
	if err := settings.Init(fresh, "", source); err != nil {
		t.Fatal(err)
	}
	equal(t, "new file", readFile(t, fresh), string(source))
}

func TestEditsKeepFileMode(t *testing.T) {
	file := settingsFile(t, rawSettings)
	if err := os.Chmod(file, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := settings.SetChunk(file, "thread_limit", "2"); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "mode", st.Mode().Perm(), os.FileMode(0o640))
	entries, _ := os.ReadDir(filepath.Dir(file))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestViewChunkOfSetValueRoundTrips(t *testing.T) {
	file := settingsFile(t, "")
	if err := settings.SetChunk(file, "P.list", []any{1, "two", map[string]any{"three": 3}}); err != nil {
		t.Fatal(err)
	}
	out, err := settings.ViewChunkRaw(file, "P.list")
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	equal(t, "round trip", v, []any{1, "two", map[string]any{"three": 3}})
}

func TestViewUpstreamFileHidesSecrets(t *testing.T) {
	dir := copyTestdata(t, "upstream_broker_settings.yaml")
	out, err := settings.ViewChunk(filepath.Join(dir, settings.FileName), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"<AT personal access token>", "<plain text password>", "<password>", "foreman_password: secret"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("view shows %q", secret)
		}
	}
	for _, kept := range []string{"# Disable rich colors", "host_ssh_key_filename: \"</path/to/the/ssh-key>\"", "token: \"\"", "username: \"<username>\""} {
		if !strings.Contains(string(out), kept) {
			t.Errorf("view lacks %q", kept)
		}
	}
}

func TestSetChunkAwkwardStrings(t *testing.T) {
	file := settingsFile(t, "")
	for _, v := range []string{"\n", "\n\nb\n", "line one\nline two\n", " padded ", "#not a comment", "a: b", "- x"} {
		if err := settings.SetChunk(file, "P.v", v); err != nil {
			t.Fatalf("SetChunk(%q): %v", v, err)
		}
		s, err := settings.Load(settings.LoadOptions{Dir: filepath.Dir(file)})
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "value", s.Get("P.v"), v)
	}
	for _, chunk := range []string{"P.\x01", "P.\n", "P.\xff"} {
		err := settings.SetChunk(file, chunk, "x")
		if !strings.Contains(asValidation(t, err).Want, "printable UTF-8") {
			t.Errorf("SetChunk(%q) = %v", chunk, err)
		}
	}
	err := settings.SetChunk(file, "P.v", "\xff")
	equal(t, "Want", asValidation(t, err).Want, "a value in UTF-8 text")
}
