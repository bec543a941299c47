package settings_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/broker-go/broker/settings"
)

func TestLoadDefaultsWithoutFile(t *testing.T) {
	dir := t.TempDir()
	s, err := settings.Load(settings.LoadOptions{Dir: dir, Example: []byte("thread_limit: 3\n"), NoFile: true})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "File", s.File, filepath.Join(dir, "broker_settings.yaml"))
	equal(t, "Created", s.Created, false)
	equal(t, "FromFile", s.FromFile, false)
	if _, err := os.Stat(s.File); !os.IsNotExist(err) {
		t.Errorf("NoFile wrote %s (stat: %v)", s.File, err)
	}
	equal(t, "ThreadLimit", s.ThreadLimit(), 0)
	equal(t, "Logging", s.Logging(), settings.Logging{
		ConsoleLevel: "info", FileLevel: "debug",
		LogPath: filepath.Join(dir, "logs", "broker.log"),
	})
	equal(t, "SSH", s.SSH(), map[string]any{
		"host_username": "root", "host_password": "toor", "host_ssh_port": 22,
		"host_connection_timeout": 60, "host_ssh_key_filename": nil,
		"host_ipv6": false, "host_ipv4_fallback": true, "backend": "hussh",
	})
	equal(t, "InventoryListVars", s.InventoryListVars(), "hostname | name")
	equal(t, "InventoryFields", s.InventoryFields(), []settings.Column{
		{"Host", "hostname | name"}, {"Provider", "_broker_provider"},
		{"Action", "$action"}, {"OS", "os_distribution os_distribution_version"},
	})
	equal(t, "ProviderNames", s.ProviderNames(), []string{"Container"})
	equal(t, "HasProvider(Container)", s.HasProvider("Container"), true)
	equal(t, "HasProvider(AnsibleTower)", s.HasProvider("AnsibleTower"), false)
	cfg, chosen, err := s.Provider("Container", "")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Container config", cfg, map[string]any{})
	equal(t, "chosen", chosen, "")
	equal(t, "Nicks", len(s.Nicks()), 0)
	equal(t, "ProviderLabels", s.ProviderLabels(), map[string]string{})
}

func TestLoadFirstRunWritesExample(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing", ".broker")
	example := []byte("# example\nthread_limit: 7\nnicks:\n  one: {container_host: x}\n")
	s, err := settings.Load(settings.LoadOptions{Dir: dir, Example: example})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Created", s.Created, true)
	equal(t, "FromFile", s.FromFile, true)
	equal(t, "file content", readFile(t, s.File), string(example))
	st, err := os.Stat(s.File)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "file mode", st.Mode().Perm(), os.FileMode(0o600))
	equal(t, "ThreadLimit", s.ThreadLimit(), 7)

	again, err := settings.Load(settings.LoadOptions{Dir: dir, Example: []byte("thread_limit: 1\n")})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Created on second run", again.Created, false)
	equal(t, "ThreadLimit on second run", again.ThreadLimit(), 7)
}

func TestLoadFirstRunWithoutExampleUsesDefaults(t *testing.T) {
	dir := t.TempDir()
	s, err := settings.Load(settings.LoadOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Created", s.Created, false)
	equal(t, "FromFile", s.FromFile, false)
	if _, err := os.Stat(s.File); !os.IsNotExist(err) {
		t.Errorf("a file was written without an example (stat: %v)", err)
	}
	equal(t, "console level", s.Logging().ConsoleLevel, "info")
}

func TestLoadNeedsDir(t *testing.T) {
	err := loadErr(t, settings.LoadOptions{})
	if !strings.Contains(err.Error(), "no broker directory") {
		t.Errorf("error = %v", err)
	}
}

func TestExampleFileLoads(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("..", "broker_settings.yaml.example"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s, err := settings.Load(settings.LoadOptions{Dir: dir, Example: example})
	if err != nil {
		t.Fatalf("the example settings file does not load: %v", err)
	}
	equal(t, "Created", s.Created, true)
	equal(t, "ProviderNames", s.ProviderNames(), []string{"Container"})
	equal(t, "HasProvider(AnsibleTower)", s.HasProvider("AnsibleTower"), false)
	equal(t, "Nicks", s.Nicks(), []string{"busybox"})
	n, err := s.Nick("busybox")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "busybox nick", n, map[string]any{"container_host": "localhost/broker-test/busybox:latest"})
	cfg, chosen, err := s.Provider("Container", "")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Container config", cfg, map[string]any{})
	equal(t, "chosen", chosen, "")
	equal(t, "InventoryFields", s.InventoryFields(), settings.DefaultInventoryFields())
	equal(t, "InventoryListVars", s.InventoryListVars(), "hostname | name | ip")
	equal(t, "Logging", s.Logging(), settings.Logging{ConsoleLevel: "info", FileLevel: "debug", LogPath: filepath.Join(dir, "logs", "broker.log")})
	equal(t, "ThreadLimit", s.ThreadLimit(), 0)
	equal(t, "_version", s.Get("_version"), "0.7.0")
	for _, chunk := range []string{"all", "base", "ssh", "Container"} {
		if err := s.Validate(chunk); err != nil {
			t.Errorf("Validate(%q) = %v", chunk, err)
		}
	}
}

func TestExampleFileAnsibleTowerWhenUncommented(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("..", "broker_settings.yaml.example"))
	if err != nil {
		t.Fatal(err)
	}
	// Uncommenting the section (dropping "# " from its lines) configures it.
	var out []string
	in := false
	for _, line := range strings.Split(string(example), "\n") {
		if strings.HasPrefix(line, "# AnsibleTower:") {
			in = true
		}
		if in && strings.HasPrefix(line, "# ") {
			line = line[2:]
		}
		out = append(out, line)
	}
	s := load(t, strings.Join(out, "\n"))
	names, def := s.Instances("AnsibleTower")
	equal(t, "instances", names, []string{"production", "staging"})
	equal(t, "default", def, "production")
	cfg, chosen, err := s.Provider("AnsibleTower", "staging")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "chosen", chosen, "staging")
	equal(t, "base_url", cfg["base_url"], "https://tower-stage.example.com/")
	equal(t, "workflow_timeout", cfg["workflow_timeout"], 3600)
}

func TestUpstreamFileLoads(t *testing.T) {
	s, err := settings.Load(settings.LoadOptions{Dir: copyTestdata(t, "upstream_broker_settings.yaml")})
	if err != nil {
		t.Fatalf("the upstream example does not load: %v", err)
	}
	equal(t, "InventoryFields", s.InventoryFields(), []settings.Column{
		{"Host", "hostname | name"}, {"Provider", "_broker_provider"},
		{"Action", "$action"}, {"OS", "os_distribution os_distribution_version"},
		{"Version", "_broker_args.deploy_sat_version"}, {"Snap", "_broker_args.deploy_snap_version"},
	})
	equal(t, "InventoryListVars", s.InventoryListVars(), "hostname | name | ip")
	equal(t, "Nicks", s.Nicks(), []string{"rhel9", "sat"})
	equal(t, "ProviderNames", s.ProviderNames(), []string{"AnsibleTower", "Beaker", "Container", "Foreman", "OpenStack"})
	equal(t, "less_colors", s.Bool("less_colors"), false)
	equal(t, "ThreadLimit", s.ThreadLimit(), 0)
	equal(t, "ssh password", s.SSH()["host_password"], "<password>")
	equal(t, "ssh timeout (default)", s.SSH()["host_connection_timeout"], 60)
	equal(t, "git hosts (SCENARIO_IMPORT)", len(s.Get("scenario_import.git_hosts").([]any)), 2)
	equal(t, "Beaker.max_job_wait", s.String("Beaker.max_job_wait"), "24h")
	equal(t, "Beaker.hub_url", s.Get("Beaker.hub_url"), nil)

	names, def := s.Instances("AnsibleTower")
	equal(t, "AnsibleTower instances", names, []string{"production", "testing"})
	equal(t, "AnsibleTower default", def, "production")
	cfg, chosen, err := s.Provider("AnsibleTower", "")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "chosen", chosen, "production")
	equal(t, "production config", cfg, map[string]any{
		"base_url": "https://<ansible tower host>/", "token": "<AT personal access token>",
		"username": "<username>", "inventory": "<inventory name>",
		"release_workflow": "remove-vm", "extend_workflow": "extend-vm", "new_expire_time": "+172800",
		"workflow_timeout": 3600, "workflow_poll_interval": 5, "max_resilient_wait": 7200,
		"results_limit": 50, "aap_version": nil,
	})
	cfg, _, err = s.Provider("AnsibleTower", "testing")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "testing workflow_timeout", cfg["workflow_timeout"], 1800)
	equal(t, "testing aap_version", cfg["aap_version"], "2.5")
	equal(t, "testing max_resilient_wait (section)", cfg["max_resilient_wait"], 7200)

	names, def = s.Instances("Container")
	equal(t, "Container instances", names, []string{"docker", "podman"})
	equal(t, "Container default", def, "docker")
	cfg, _, err = s.Provider("Container", "podman")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "podman runtime", cfg["runtime"], "podman")
	equal(t, "podman network", cfg["network"], "net1,net2")
	equal(t, "podman name_prefix (section)", cfg["name_prefix"], "broker")
	equal(t, "podman results_limit", cfg["results_limit"], 10)

	n, err := s.Nick("rhel9")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "rhel9", n, map[string]any{"workflow": "deploy-rhel", "deploy_rhel_version": 9.4, "notes": "Requested by broker"})
	if err := s.Validate("all"); err != nil {
		t.Errorf("Validate(all) = %v", err)
	}
}

func TestPre06ListInstancesAreNormalised(t *testing.T) {
	s, err := settings.Load(settings.LoadOptions{Dir: copyTestdata(t, "upstream_pre06_settings.yaml")})
	if err != nil {
		t.Fatalf("the pre-0.6 file does not load: %v", err)
	}
	names, def := s.Instances("AnsibleTower")
	equal(t, "AnsibleTower instances", names, []string{"production", "testing"})
	equal(t, "AnsibleTower default", def, "production")
	names, def = s.Instances("Container")
	equal(t, "Container instances (file order)", names, []string{"remote", "docker"})
	equal(t, "Container default", def, "docker")
	insts, ok := s.Get("Container.instances").(map[string]any)
	if !ok || len(insts) != 2 {
		t.Fatalf("Container.instances = %#v, want a map of 2", s.Get("Container.instances"))
	}
	cfg, chosen, err := s.Provider("AnsibleTower", "testing")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "chosen", chosen, "testing")
	equal(t, "password", cfg["password"], "<plain text password>")
	equal(t, "release_workflow", cfg["release_workflow"], "remove-vm")
	// The old top-level SSH keys are kept as they are (not migrated).
	equal(t, "top-level host_password", s.Get("host_password"), "<password>")
	equal(t, "ssh.host_password (default)", s.SSH()["host_password"], "toor")
}

func TestInstancesListErrors(t *testing.T) {
	for _, tc := range []struct{ name, content, want string }{
		{"duplicate", "P:\n  instances:\n    - a: {x: 1}\n    - a: {x: 2}\n",
			`:4: P.instances.a: want each instance defined once; got "a" twice`},
		{"scalar item", "P:\n  instances:\n    - a\n",
			`:2: P.instances: want a map of instance name to settings, or a list of single-key maps; got "a"`},
		{"scalar instance", "P:\n  instances:\n    a: 5\n",
			`:3: P.instances.a: want a map of instance settings; got 5`},
		{"instances string", "P:\n  instances: lots\n",
			`:2: P.instances: want a map of instance name to settings, or a list of single-key maps; got "lots"`},
		{"two defaults", "P:\n  instances:\n    a: {default: true}\n    b: {default: true}\n",
			`:4: P.instances: want at most one instance with default: true; got a and b`},
		{"default not bool", "P:\n  instances:\n    a: {default: 'yes'}\n",
			`:3: P.instances.a.default: want true or false; got "yes"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := newDir(t, tc.content)
			err := loadErr(t, settings.LoadOptions{Dir: dir})
			asValidation(t, err)
			want := filepath.Join(dir, settings.FileName) + tc.want
			equal(t, "error", err.Error(), want)
		})
	}
}

func TestLayerPrecedence(t *testing.T) {
	content := "logging:\n  console_level: warning\n  file_level: error\nthread_limit: 4\n"
	dir := newDir(t, content)
	opts := settings.LoadOptions{Dir: dir}
	s, err := settings.Load(opts)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "file beats default", s.Logging().ConsoleLevel, "warning")
	equal(t, "default kept", s.Logging().LogPath, filepath.Join(dir, "logs", "broker.log"))

	opts.Environ = []string{"BROKER_LOGGING__CONSOLE_LEVEL=debug", "BROKER_THREAD_LIMIT=8", "PATH=/bin"}
	if s, err = settings.Load(opts); err != nil {
		t.Fatal(err)
	}
	equal(t, "env beats file", s.Logging().ConsoleLevel, "debug")
	equal(t, "file kept beside env", s.Logging().FileLevel, "error")
	equal(t, "env thread_limit", s.ThreadLimit(), 8)

	opts.Overrides = map[string]any{"logging.console_level": "trace"}
	if s, err = settings.Load(opts); err != nil {
		t.Fatal(err)
	}
	equal(t, "override beats env", s.Logging().ConsoleLevel, "trace")
	equal(t, "env kept beside override", s.ThreadLimit(), 8)
}

func TestEnvCaseInsensitive(t *testing.T) {
	content := "AnsibleTower:\n  base_url: https://file/\n  release_workflow: remove-vm\n"
	s := load(t, content,
		"BROKER_AnsibleTower__base_url=https://env/",
		"BROKER_ANSIBLETOWER__RELEASE_WORKFLOW=remove-fast",
		"BROKER_ANSIBLETOWER__NEW_KEY=x",
		"BROKER_ssh__HOST_USERNAME=admin",
		"BROKER_Foreman__URL=https://foreman/",
	)
	cfg, _, err := s.Provider("AnsibleTower", "")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "AnsibleTower", cfg, map[string]any{"base_url": "https://env/", "release_workflow": "remove-fast", "new_key": "x"})
	equal(t, "ssh.host_username", s.SSH()["host_username"], "admin")
	equal(t, "ProviderNames", s.ProviderNames(), []string{"AnsibleTower", "Container", "foreman"})
	equal(t, "HasProvider(Foreman)", s.HasProvider("Foreman"), true)
	cfg, _, err = s.Provider("Foreman", "")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Foreman from env only", cfg, map[string]any{"url": "https://foreman/"})
	equal(t, "Get folds case", s.Get("ANSIBLETOWER.Base_Url"), "https://env/")
}

func TestEnvValuesAreYAMLScalars(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  any
	}{
		{"true", true},
		{"False", false},
		{"42", 42},
		{"-7", -7},
		{"9.4", 9.4},
		{"[1,2]", []any{1, 2}},
		{"[a, b]", []any{"a", "b"}},
		{"{a: 1}", map[string]any{"a": 1}},
		{"x", "x"},
		{"0123", "0123"},
		{`"5"`, "5"},
		{"'true'", "true"},
		{"yes", "yes"},
		{"0x1F", "0x1F"},
		{"2024-01-01", "2024-01-01"},
		{"a: b", "a: b"},
		{"null", nil},
		{"ssh://me@host:22", "ssh://me@host:22"},
		{"[unclosed", "[unclosed"},
	} {
		s := load(t, "", "BROKER_NICKS__N__V="+tc.value)
		equal(t, "value of "+tc.value, s.Get("nicks.n.v"), tc.want)
	}
}

func TestEnvSensitiveValuesStayStrings(t *testing.T) {
	s := load(t, "AnsibleTower: {}\n", "BROKER_ANSIBLETOWER__PASSWORD=012345", "BROKER_ANSIBLETOWER__TOKEN=true")
	cfg, _, err := s.Provider("AnsibleTower", "")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "password", cfg["password"], "012345")
	equal(t, "token", cfg["token"], "true")
}

func TestEnvExcludedVariables(t *testing.T) {
	s := load(t, "",
		"BROKER_DIRECTORY=/elsewhere",
		"BROKER_NO_GLOBAL_CONFIG=1",
		"BROKER_NON_INTERACTIVE=1",
		"BROKER_VAULT_TOKEN=secret",
		"BROKER_CONTAINER__VAULT_X=1",
		"BROKER___BAD=1",
		"BROKER_A____B=1",
		"BROKER_TRAILING__=1",
		"NOT_BROKER_X=1",
		"broker_lower=1",
		"BROKER_KEPT=1",
		"BROKER_LOGGING__CONSOLE_LEVEL=",
	)
	equal(t, "empty variable is unset", s.Logging().ConsoleLevel, "info")
	all := s.All()
	for _, k := range []string{"directory", "no_global_config", "non_interactive", "vault_token", "bad", "a", "trailing", "x", "lower"} {
		if _, ok := all[k]; ok {
			t.Errorf("key %q was set from the environment: %v", k, all[k])
		}
	}
	equal(t, "Container", all["Container"], map[string]any{})
	equal(t, "kept", all["kept"], 1)
}

func TestEnvDunderMergesIntoMaps(t *testing.T) {
	content := "TestProvider:\n  instances:\n    test1: {foo: bar, default: true}\n    test2: {foo: baz, keep: 1}\n"
	s := load(t, content, "BROKER_TESTPROVIDER__INSTANCES__TEST2__foo=envbar", "BROKER_TESTPROVIDER__INSTANCES__TEST3__foo=new")
	cfg, chosen, err := s.Provider("TestProvider", "test2")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "chosen", chosen, "test2")
	equal(t, "test2", cfg, map[string]any{"foo": "envbar", "keep": 1})
	cfg, _, err = s.Provider("TestProvider", "test1")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "test1 untouched", cfg, map[string]any{"foo": "bar"})
	names, def := s.Instances("TestProvider")
	equal(t, "instances (file order, then env)", names, []string{"test1", "test2", "test3"})
	equal(t, "default", def, "test1")
}

func TestInstanceOverlayAndOverrideEnvars(t *testing.T) {
	content := `TestProvider:
  config_value: something
  foo: section
  nested: {a: 1, b: 2}
  instances:
    test1:
      foo: bar
      nested: {b: 3}
      default: true
    test2:
      foo: baz
      override_envars: true
`
	s := load(t, content, "BROKER_TESTPROVIDER__foo=envar", "BROKER_TESTPROVIDER__NESTED__A=10")
	cfg, chosen, err := s.Provider("TestProvider", "")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "chosen", chosen, "test1")
	equal(t, "env beats the default instance", cfg, map[string]any{
		"config_value": "something", "foo": "envar", "nested": map[string]any{"a": 10, "b": 3},
	})
	cfg, chosen, err = s.Provider("TestProvider", "test2")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "chosen", chosen, "test2")
	equal(t, "override_envars keeps the instance's value", cfg, map[string]any{
		"config_value": "something", "foo": "baz", "nested": map[string]any{"a": 10, "b": 2},
	})

	// Command-line overrides beat the instance even with override_envars.
	s, err = settings.Load(settings.LoadOptions{Dir: newDir(t, content), Overrides: map[string]any{"TestProvider.foo": "flag"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err = s.Provider("TestProvider", "test2")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "override", cfg["foo"], "flag")
}

func TestProviderInstanceChoice(t *testing.T) {
	s := load(t, `Several:
  key: top
  instances:
    a: {key: a}
    b: {key: b}
Single:
  instances:
    only: {key: only}
NoInstances:
  key: plain
`)
	cfg, chosen, err := s.Provider("Several", "")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "several, no default: no overlay", cfg, map[string]any{"key": "top"})
	equal(t, "several, no default: chosen", chosen, "")
	names, def := s.Instances("Several")
	equal(t, "names", names, []string{"a", "b"})
	equal(t, "def", def, "")

	cfg, chosen, err = s.Provider("single", "")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "the only instance", chosen, "only")
	equal(t, "its config", cfg, map[string]any{"key": "only"})

	cfg, chosen, err = s.Provider("Several", "B")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "case-insensitive instance", chosen, "b")
	equal(t, "its config", cfg, map[string]any{"key": "b"})

	cfg, chosen, err = s.Provider("NoInstances", "")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "plain section", cfg, map[string]any{"key": "plain"})
	equal(t, "plain chosen", chosen, "")
	names, def = s.Instances("NoInstances")
	equal(t, "no instances", len(names), 0)
	equal(t, "no default", def, "")

	// The returned map is a copy.
	cfg["key"] = "changed"
	again, _, _ := s.Provider("NoInstances", "")
	equal(t, "copy", again["key"], "plain")
}

func TestProviderErrors(t *testing.T) {
	s := load(t, "Container:\n  instances:\n    docker: {default: true}\n    podman: {}\nPlain: {a: 1}\n")
	_, _, err := s.Provider("Container", "nope")
	nf := asNotFound(t, err)
	equal(t, "Kind", nf.Kind, "instance")
	equal(t, "Known", nf.Known, []string{"docker", "podman"})
	equal(t, "message", err.Error(), `unknown instance "nope" of Container: known instances are docker, podman; pick one of them, or define it under Container.instances in `+s.File)

	_, _, err = s.Provider("Plain", "x")
	equal(t, "no instances message", err.Error(), `unknown instance "x" of Plain: there are no instances; define it under Plain.instances in `+s.File)

	_, _, err = s.Provider("AnsibleTower", "")
	nf = asNotFound(t, err)
	equal(t, "Kind", nf.Kind, "provider")
	equal(t, "message", err.Error(), `unknown provider "AnsibleTower": known providers are Container, Plain; add a AnsibleTower: section to `+s.File)

	_, _, err = s.Provider("logging", "")
	equal(t, "base key is no provider", asNotFound(t, err).Kind, "provider")
}

func TestNicks(t *testing.T) {
	s := load(t, "nicks:\n  sat: {workflow: deploy-sat}\n  rhel9: {workflow: deploy-rhel, deploy_rhel_version: 9.4}\n  empty:\n",
		"BROKER_NICKS__ALPHA__X=1")
	equal(t, "Nicks (file order, then env)", s.Nicks(), []string{"sat", "rhel9", "empty", "alpha"})
	n, err := s.Nick("rhel9")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "rhel9", n, map[string]any{"workflow": "deploy-rhel", "deploy_rhel_version": 9.4})
	n, err = s.Nick("EMPTY")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "empty nick", n, map[string]any{})

	_, err = s.Nick("rhel8")
	nf := asNotFound(t, err)
	equal(t, "Kind", nf.Kind, "nick")
	equal(t, "message", err.Error(), `unknown nick "rhel8": known nicks are sat, rhel9, empty, alpha; define it under nicks: in `+s.File)

	_, err = load(t, "").Nick("x")
	if !strings.HasPrefix(err.Error(), `unknown nick "x": there are no nicks; define it under nicks: in `) {
		t.Errorf("message = %v", err)
	}
}

func TestValidationErrors(t *testing.T) {
	levels := "error, warning, info, debug, trace, silent"
	for _, tc := range []struct{ name, content, want string }{
		{"console level", "logging:\n  console_level: loud\n",
			`:2: logging.console_level: want one of ` + levels + `; got "loud"`},
		{"file level type", "logging:\n  file_level: 5\n",
			`:2: logging.file_level: want one of ` + levels + `; got 5`},
		{"logging not a map", "logging: loud\n",
			`:1: logging: want a map; got "loud"`},
		{"structured", "logging: {structured: maybe}\n",
			`:1: logging.structured: want true or false; got "maybe"`},
		{"thread_limit zero", "thread_limit: 0\n",
			`:1: thread_limit: want null or a whole number of at least 1; got 0`},
		{"thread_limit string", "thread_limit: '5'\n",
			`:1: thread_limit: want null or a whole number of at least 1; got "5"`},
		{"thread_limit float", "thread_limit: 2.5\n",
			`:1: thread_limit: want null or a whole number of at least 1; got 2.5`},
		{"inventory_fields list", "inventory_fields: [a, b]\n",
			`:1: inventory_fields: want a map of column title to field spec; got a list`},
		{"inventory_fields value", "inventory_fields:\n  Host: hostname\n  Id: 3\n",
			`:3: inventory_fields.Id: want a field spec string such as "hostname | name"; got 3`},
		{"inventory_list_vars", "inventory_list_vars: [a]\n",
			`:1: inventory_list_vars: want a field spec string such as "hostname | name"; got a list`},
		{"nicks list", "nicks: [a]\n",
			`:1: nicks: want a map of nick name to arguments; got a list`},
		{"nick string", "nicks:\n  a: {x: 1}\n  b: text\n",
			`:3: nicks.b: want a map of broker arguments; got "text"`},
		{"ssh port", "ssh:\n  host_ssh_port: abc\n",
			`:2: ssh.host_ssh_port: want a port number (1-65535); got "abc"`},
		{"ssh ipv6", "ssh:\n  host_ipv6: 'yes'\n",
			`:2: ssh.host_ipv6: want true or false; got "yes"`},
		{"ssh username", "ssh:\n  host_username: [a]\n",
			`:2: ssh.host_username: want a string; got a list`},
		{"ssh key file", "ssh:\n  host_ssh_key_filename: 5\n",
			`:2: ssh.host_ssh_key_filename: want null or a key file path; got 5`},
		{"ssh timeout", "ssh:\n  host_connection_timeout: -1\n",
			`:2: ssh.host_connection_timeout: want null or a number of seconds; got -1`},
		{"less_colors", "less_colors: 1\n",
			`:1: less_colors: want true or false; got 1`},
		{"provider_labels", "provider_labels: {a: [1]}\n",
			`:1: provider_labels.a: want a plain value; got a list`},
		{"git_hosts", "scenario_import: {git_hosts: github}\n",
			`:1: scenario_import.git_hosts: want a list of {url, token, type}; got "github"`},
		{"yaml syntax", "logging:\n  console_level: info\n bad: [\n",
			`:2: invalid YAML: did not find expected key`}, // yaml.v3 names the block's line
		{"yaml tabs", "a:\n\t- b\n",
			`:2: invalid YAML: found character that cannot start any token`},
		{"top-level list", "- a\n- b\n",
			`:1: want a map of settings at the top level; got a list`},
		{"top-level scalar", "hello\n",
			`:1: want a map of settings at the top level; got "hello"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := newDir(t, tc.content)
			err := loadErr(t, settings.LoadOptions{Dir: dir})
			ve := asValidation(t, err)
			equal(t, "error", err.Error(), filepath.Join(dir, settings.FileName)+tc.want)
			equal(t, "File", ve.File, filepath.Join(dir, settings.FileName))
		})
	}
}

func TestValidationErrorFormat(t *testing.T) {
	e := &settings.ValidationError{File: "/home/u/.broker/broker_settings.yaml", Key: "logging.console_level",
		Want: "one of error, warning, info, debug, trace, silent", Got: `"loud"`}
	equal(t, "message", e.Error(), `/home/u/.broker/broker_settings.yaml: logging.console_level: want one of error, warning, info, debug, trace, silent; got "loud"`)
	e.Line = 4
	equal(t, "with line", e.Error(), `/home/u/.broker/broker_settings.yaml:4: logging.console_level: want one of error, warning, info, debug, trace, silent; got "loud"`)
}

func TestValidationBlamesTheLayer(t *testing.T) {
	dir := newDir(t, "logging:\n  console_level: loud\n")
	// The environment fixes the file's bad value: the merged result is valid.
	s, err := settings.Load(settings.LoadOptions{Dir: dir, Environ: []string{"BROKER_LOGGING__CONSOLE_LEVEL=debug"}})
	if err != nil {
		t.Fatalf("env should mask the file's value: %v", err)
	}
	equal(t, "console level", s.Logging().ConsoleLevel, "debug")

	err = loadErr(t, settings.LoadOptions{Dir: newDir(t, ""), Environ: []string{"BROKER_logging__console_level=noisy"}})
	equal(t, "env message", err.Error(), `environment variable BROKER_logging__console_level: logging.console_level: want one of error, warning, info, debug, trace, silent; got "noisy"`)

	err = loadErr(t, settings.LoadOptions{Dir: newDir(t, ""), Environ: []string{"BROKER_THREAD_LIMIT=-2"}})
	equal(t, "env File", asValidation(t, err).File, "environment variable BROKER_THREAD_LIMIT")

	err = loadErr(t, settings.LoadOptions{Dir: newDir(t, ""), Overrides: map[string]any{"logging.console_level": "chatty"}})
	equal(t, "override message", err.Error(), `command line: logging.console_level: want one of error, warning, info, debug, trace, silent; got "chatty"`)
}

func TestNullMeansDefault(t *testing.T) {
	s := load(t, "logging:\nssh:\n  host_username: null\n  host_ssh_port: ~\nthread_limit: null\ninventory_fields: null\n")
	equal(t, "logging", s.Logging().ConsoleLevel, "info")
	equal(t, "ssh user", s.SSH()["host_username"], "root")
	equal(t, "ssh port", s.SSH()["host_ssh_port"], 22)
	equal(t, "fields", s.InventoryFields(), settings.DefaultInventoryFields())
	equal(t, "merged logging", s.Get("logging.file_level"), "debug")
}

func TestInventoryFields(t *testing.T) {
	s := load(t, "inventory_fields:\n  Zed: z\n  Alpha: a\n  Mid: m | n\n", "BROKER_INVENTORY_FIELDS__Extra=e", "BROKER_INVENTORY_FIELDS__ALPHA=a2")
	equal(t, "columns (file order, env after)", s.InventoryFields(), []settings.Column{
		{"Zed", "z"}, {"Alpha", "a2"}, {"Mid", "m | n"}, {"extra", "e"},
	})
	s = load(t, "inventory_fields: {}\n")
	equal(t, "empty map → defaults", s.InventoryFields(), settings.DefaultInventoryFields())
	s = load(t, "", "BROKER_INVENTORY_FIELDS__Extra=e")
	equal(t, "env adds to the defaults", s.InventoryFields(), append(settings.DefaultInventoryFields(), settings.Column{"extra", "e"}))
}

func TestLogPath(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "x.log")
	for _, tc := range []struct{ path, want string }{
		{"logs/broker.log", "logs/broker.log"},
		{"mylogs", "mylogs/broker.log"},
		{"deep/dir/", "deep/dir/broker.log"},
		{"other.txt", "other.txt"},
		{abs, abs},
	} {
		dir := newDir(t, "logging:\n  log_path: "+tc.path+"\n")
		s, err := settings.Load(settings.LoadOptions{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		want := tc.want
		if !filepath.IsAbs(want) {
			want = filepath.Join(dir, want)
		}
		equal(t, "LogPath of "+tc.path, s.Logging().LogPath, want)
	}
	s := load(t, "logging: {console_level: DEBUG, structured: true}\n")
	equal(t, "level lower-cased", s.Logging().ConsoleLevel, "debug")
	equal(t, "structured", s.Logging().Structured, true)
}

func TestAccessors(t *testing.T) {
	s := load(t, `thread_limit: 5
provider_labels: {team: qe, empty: null, n: 3}
P:
  str: text
  num: 7
  numstr: "12"
  flag: true
  flagstr: "true"
  whole: 3.0
  sub: {a: 1}
`)
	equal(t, "ThreadLimit", s.ThreadLimit(), 5)
	equal(t, "ProviderLabels", s.ProviderLabels(), map[string]string{"team": "qe", "empty": "", "n": "3"})
	equal(t, "String", s.String("P.str"), "text")
	equal(t, "String of int", s.String("P.num"), "7")
	equal(t, "String of map", s.String("P.sub"), "")
	equal(t, "String missing", s.String("P.nope"), "")
	equal(t, "Int", s.Int("P.num"), 7)
	equal(t, "Int of string", s.Int("P.numstr"), 12)
	equal(t, "Int of whole float", s.Int("P.whole"), 3)
	equal(t, "Int of text", s.Int("P.str"), 0)
	equal(t, "Bool", s.Bool("P.flag"), true)
	equal(t, "Bool of string", s.Bool("P.flagstr"), true)
	equal(t, "Bool of text", s.Bool("P.str"), false)
	equal(t, "Map", s.Map("P.sub"), map[string]any{"a": 1})
	equal(t, "Map of scalar", s.Map("P.str"), map[string]any(nil))
	equal(t, "Get folded", s.Get("p.SUB.a"), 1)
	equal(t, "Get missing", s.Get("P.sub.a.b"), nil)

	m := s.Map("P.sub")
	m["a"] = 2
	all := s.All()
	all["P"].(map[string]any)["str"] = "changed"
	equal(t, "copies", s.Get("P.sub.a"), 1)
	equal(t, "copies (All)", s.String("P.str"), "text")
}

func TestValidateChunks(t *testing.T) {
	s := load(t, "Container:\n  instances:\n    docker: {default: true}\n    podman: {}\n")
	for _, chunk := range []string{"base", "ssh", "all", "Container", "container", "Container:podman"} {
		if err := s.Validate(chunk); err != nil {
			t.Errorf("Validate(%q) = %v", chunk, err)
		}
	}
	err := s.Validate("Container:nope")
	equal(t, "unknown instance", asNotFound(t, err).Kind, "instance")
	err = s.Validate("bogus")
	nf := asNotFound(t, err)
	equal(t, "Kind", nf.Kind, "validation target")
	equal(t, "message", err.Error(), `unknown validation target "bogus": known validation targets are all, base, ssh, Container; name a provider configured in `+s.File+`, optionally as Provider:instance`)
}

func TestDir(t *testing.T) {
	base := t.TempDir()
	env := map[string]string{"BROKER_DIRECTORY": filepath.Join(base, "new", "dir")}
	getenv := func(k string) string { return env[k] }
	dir, err := settings.Dir(getenv)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "dir", dir, filepath.Join(base, "new", "dir"))
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Errorf("BROKER_DIRECTORY was not created: %v", err)
	}

	env = map[string]string{"HOME": base}
	if dir, err = settings.Dir(getenv); err != nil {
		t.Fatal(err)
	}
	equal(t, "home dir", dir, filepath.Join(base, ".broker"))
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Errorf("~/.broker was not created: %v", err)
	}

	env = map[string]string{"HOME": base, "BROKER_DIRECTORY": "~/custom"}
	if dir, err = settings.Dir(getenv); err != nil {
		t.Fatal(err)
	}
	equal(t, "tilde", dir, filepath.Join(base, "custom"))

	file := filepath.Join(base, "file")
	os.WriteFile(file, nil, 0o600)
	env = map[string]string{"BROKER_DIRECTORY": file}
	if _, err = settings.Dir(getenv); err == nil {
		t.Error("Dir accepted a regular file")
	}
}

func TestNotFoundErrorMessages(t *testing.T) {
	equal(t, "chunk", (&settings.NotFoundError{Kind: "chunk", Name: "a.b", Scope: "/p/broker_settings.yaml", Hint: "see broker config view"}).Error(),
		`chunk "a.b" not found in /p/broker_settings.yaml; see broker config view`)
	equal(t, "backup", (&settings.NotFoundError{Kind: "backup", Name: "/p/broker_settings.bak"}).Error(),
		`no backup file found at /p/broker_settings.bak`)
}
