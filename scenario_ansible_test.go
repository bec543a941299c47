package broker

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/scenario"
)

// testdata/ansible/json-callback.json is ansible-playbook's stdout with the
// ansible.posix.json callback (ansible-core 2.14), recorded on two debian
// containers and one unreachable host running testdata/ansible/play.yml.
func TestParseAnsibleJSON(t *testing.T) {
	data, err := os.ReadFile("testdata/ansible/json-callback.json")
	if err != nil {
		t.Fatal(err)
	}
	const h1, h2 = "abkrec_2ff0e7d5", "abkrec_f76633af"
	check := func(t *testing.T, out []byte) {
		stats, tasks, err := parseAnsibleJSON(out)
		if err != nil {
			t.Fatal(err)
		}
		wantStats := map[string]map[string]int{
			h1:      {"ok": 3, "changed": 1, "failures": 1, "unreachable": 0, "skipped": 0, "rescued": 0, "ignored": 0},
			h2:      {"ok": 4, "changed": 1, "failures": 1, "unreachable": 0, "skipped": 2, "rescued": 1, "ignored": 1},
			"ghost": {"ok": 0, "changed": 0, "failures": 0, "unreachable": 1, "skipped": 0, "rescued": 0, "ignored": 0},
		}
		if !reflect.DeepEqual(stats, wantStats) {
			t.Errorf("stats = %v\nwant %v", stats, wantStats)
		}
		short := func(ts []scenario.TaskStatus) []string {
			var out []string
			for _, t := range ts {
				out = append(out, t.Task+"="+t.Status)
			}
			return out
		}
		want := map[string][]string{
			h1:      {"write a file=ok", "run a command=ok", "only on first=changed", "fail on first=failed"},
			h2:      {"write a file=ok", "run a command=ok", "only on first=skipped", "fail on first=skipped", "ignored failure=failed", "failing in block=failed", "rescue task=ok", "loop task=failed"},
			"ghost": {"write a file=unreachable"},
		}
		for h, w := range want {
			if got := short(tasks[h]); !reflect.DeepEqual(got, w) {
				t.Errorf("tasks[%s] = %q\nwant %q", h, got, w)
			}
		}
		if len(tasks) != len(want) {
			t.Errorf("tasks for %d hosts, want %d", len(tasks), len(want))
		}
		msgs := map[string]string{}
		for h, ts := range tasks {
			for _, tk := range ts {
				if tk.Status != "failed" && tk.Status != "unreachable" {
					if tk.Msg != "" {
						t.Errorf("%s %q (%s) has a msg: %q", h, tk.Task, tk.Status, tk.Msg)
					}
					continue
				}
				msgs[h+"/"+tk.Task] = tk.Msg
			}
		}
		for k, w := range map[string]string{
			h1 + "/fail on first":   "boom on " + h1,
			h2 + "/loop task":       "One or more items failed; item a: non-zero return code (rc 1): cat: /nonexistent-a: No such file or directory",
			h2 + "/ignored failure": "non-zero return code",
		} {
			if msgs[k] != w {
				t.Errorf("msg of %s = %q, want %q", k, msgs[k], w)
			}
		}
		if m := msgs["ghost/write a file"]; !strings.HasPrefix(m, "Failed to create temporary directory") || strings.Contains(m, "\n") {
			t.Errorf("unreachable msg = %q", m)
		}
	}
	t.Run("plain", func(t *testing.T) { check(t, data) })
	// -v adds lines before the document; warnings may print braces too
	t.Run("verbose", func(t *testing.T) {
		noisy := "Using /etc/ansible/ansible.cfg as config file\n{not json}\nPLAYBOOK: play.yml ***\n" + string(data) + "\n"
		check(t, []byte(noisy))
	})
}

func TestParseAnsibleJSONErrors(t *testing.T) {
	for _, out := range []string{"", "ERROR! the playbook could not be found\n", "{\"plays\": [\n"} {
		if _, _, err := parseAnsibleJSON([]byte(out)); err == nil {
			t.Errorf("parseAnsibleJSON(%q) succeeded", out)
		}
	}
}

func TestAnsibleHostName(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:2222": "127.0.0.1_2222",
		"web[1:3]":       "web_1_3_",
		"c_1234":         "c_1234",
		"":               "host",
	} {
		if got := ansibleHostName(in); got != want {
			t.Errorf("ansibleHostName(%q) = %q, want %q", in, got, want)
		}
	}
}

// fakeAnsiblePlaybook puts an ansible-playbook script first in PATH. It
// saves its arguments, environment and inventory in dir, then runs body.
func fakeAnsiblePlaybook(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	script := "#!/bin/sh\n" +
		`printf '%s\n' "$@" > "` + dir + `/args"` + "\n" +
		`env > "` + dir + `/env"` + "\n" +
		`cp "$2" "` + dir + `/inventory.json"` + "\n" +
		`for a in "$@"; do case "$a" in @*) cp "${a#@}" "` + dir + `/extra.json";; esac; done` + "\n" +
		body + "\n"
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "ansible-playbook"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return dir
}

func playbookHosts(b *Broker) []scenario.Host {
	recs := []inventory.Host{
		{"hostname": "127.0.0.1:32768", "name": "c_1", "_broker_provider": "Container", "runtime": "docker",
			"container_engine": "unix:///run/e.sock", "password": "hunter2"},
		{"hostname": "127.0.0.1:32769", "name": "c_2", "_broker_provider": "Container", "runtime": "docker",
			"container_engine": "unix:///run/e.sock"},
		{"hostname": "vm.example.com:2222", "_broker_provider": "AnsibleTower", "username": "admin"},
	}
	out := make([]scenario.Host, len(recs))
	for i, r := range recs {
		out[i] = &scenarioHost{h: b.Host(inventory.Record{Host: r})}
	}
	return out
}

func TestRunPlaybookInvocation(t *testing.T) {
	sample, err := os.ReadFile("testdata/ansible/json-callback.json")
	if err != nil {
		t.Fatal(err)
	}
	samplePath := filepath.Join(t.TempDir(), "out.json")
	if err := os.WriteFile(samplePath, sample, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := fakeAnsiblePlaybook(t, `echo "[WARNING]: something" >&2; cat "`+samplePath+`"; exit 4`)
	b, _ := testBroker(t)
	sb := &scenarioBroker{b: b}
	pb := filepath.Join(t.TempDir(), "play.yml")
	res, err := sb.RunPlaybook(context.Background(), playbookHosts(b), scenario.PlaybookSpec{
		Playbook: pb, ExtraVars: map[string]any{"a": 1}, Options: []string{"--tags", "x"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != 4 || res.Stderr != "[WARNING]: something\n" || len(res.Stats) != 3 || len(res.Tasks["abkrec_2ff0e7d5"]) != 4 {
		t.Errorf("result: status %d, stderr %q, stats %v", res.Status, res.Stderr, res.Stats)
	}
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	args := strings.Split(strings.TrimSpace(read("args")), "\n")
	if len(args) != 7 || args[0] != "-i" || args[2] != "-e" || !strings.HasPrefix(args[3], "@") || args[4] != "--tags" || args[5] != "x" || args[6] != pb {
		t.Errorf("args = %q", args)
	}
	if got := read("extra.json"); got != `{"a":1}` {
		t.Errorf("extra vars = %s", got)
	}
	env := read("env")
	for _, kv := range []string{"ANSIBLE_STDOUT_CALLBACK=ansible.posix.json", "ANSIBLE_HOST_KEY_CHECKING=False",
		"ANSIBLE_RETRY_FILES_ENABLED=False", "DOCKER_HOST=unix:///run/e.sock"} {
		if !strings.Contains(env, "\n"+kv+"\n") {
			t.Errorf("environment lacks %s", kv)
		}
	}
	var inv struct {
		All struct {
			Hosts map[string]map[string]any `json:"hosts"`
		} `json:"all"`
	}
	raw := read("inventory.json")
	if err := json.Unmarshal([]byte(raw), &inv); err != nil {
		t.Fatal(err)
	}
	hv := inv.All.Hosts
	if len(hv) != 3 || hv["c_1"]["ansible_connection"] != "community.docker.docker" || hv["c_2"]["ansible_docker_extra_args"] != "-H unix:///run/e.sock" {
		t.Errorf("inventory: %s", raw)
	}
	if vm := hv["vm.example.com_2222"]; vm == nil || vm["ansible_host"] != "vm.example.com" || vm["ansible_port"] != float64(2222) || vm["ansible_user"] != "admin" {
		t.Errorf("inventory: %s", raw)
	}
	if strings.Contains(raw, "hunter2") {
		t.Errorf("a secret reached the inventory: %s", raw)
	}
}

func TestRunPlaybookCancel(t *testing.T) {
	// ansible-playbook and a child of its own that outlives it unless the
	// whole process group is killed
	dir := fakeAnsiblePlaybook(t, `sleep 300 & echo $! > "$(dirname "$0")/../child"; wait`)
	b, _ := testBroker(t)
	sb := &scenarioBroker{b: b}
	start := time.Now()
	_, err := sb.RunPlaybook(context.Background(), playbookHosts(b)[:1], scenario.PlaybookSpec{Playbook: "/nonexistent/play.yml", Timeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "timed out after 1s") {
		t.Fatalf("error = %v", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("returned after %s", d)
	}
	data, err := os.ReadFile(filepath.Join(dir, "child"))
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	deadline := time.Now().Add(3 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("child %d of ansible-playbook still runs", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRunPlaybookNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	b, _ := testBroker(t)
	_, err := (&scenarioBroker{b: b}).RunPlaybook(context.Background(), playbookHosts(b), scenario.PlaybookSpec{Playbook: "p.yml"})
	if !errors.Is(err, scenario.ErrAnsibleNotFound) {
		t.Errorf("error = %v", err)
	}
}
