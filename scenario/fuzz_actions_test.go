package scenario

import (
	"log/slog"
	"path"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzContainerArgs feeds YAML argument maps to the container action's
// argument parser: it never panics, and what it accepts is well formed.
func FuzzContainerArgs(f *testing.F) {
	for _, s := range []string{
		"image: busybox\ncommand: echo hi\n",
		"image: busybox\ncommand: [sh, -c, 'echo $A']\nenvironment: {A: 1, B: true}\nworkdir: /w\n",
		"image: x\nvolumes: ['in:/in', 'out:/out:rw', {source: a, target: /a, rw: true}]\noutput: /r/x.json\ntimeout: 5m\n",
		"image: x\nenvironment: ['A=1', 'B=2']\noutput: stderr\n",
		"image: ''\n", "image: x\ncommand: []\n", "image: x\nvolumes: ['a']\n", "image: x\nworkdir: rel\n",
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, src string) {
		var args map[string]any
		if yaml.Unmarshal([]byte(src), &args) != nil || args == nil {
			return
		}
		st := &state{r: &Runner{}, sc: &Scenario{Path: dir + "/s.yaml"}, log: slog.New(slog.DiscardHandler), vars: map[string]any{}}
		spec, err := st.containerSpec(&Step{Name: "f"}, args, map[string]any{"v": 1})
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if strings.TrimSpace(spec.Image) == "" {
			t.Fatalf("accepted an empty image: %q", src)
		}
		if spec.Output != "stdout" && spec.Output != "stderr" && !path.IsAbs(spec.Output) {
			t.Fatalf("accepted output %q", spec.Output)
		}
		if spec.Workdir != "" && !path.IsAbs(spec.Workdir) {
			t.Fatalf("accepted workdir %q", spec.Workdir)
		}
		for _, v := range spec.Volumes {
			if v.Source == "" || v.Target == "" {
				t.Fatalf("accepted volume %+v from %q", v, src)
			}
		}
		for k := range spec.Env {
			if !validEnvName(k) {
				t.Fatalf("accepted environment name %q", k)
			}
		}
	})
}

// FuzzRender: a string without {{ or {% passes through unchanged (as
// upstream), and nothing panics on any template.
func FuzzRender(f *testing.F) {
	for _, s := range []string{"plain", "{{ a }}", "{{ a + 1 }} x", "{% for i in l %}{{ i }}{% endfor %}", "{{ d.items() | list }}",
		"{{ 'x' in l }}", "{{ nope }}", "{{", "{% if %}", "{{ a | trim }}"} {
		f.Add(s)
	}
	vars := map[string]any{"a": 1, "l": []any{"x", 2}, "d": map[string]any{"k": "v"}}
	f.Fuzz(func(t *testing.T, src string) {
		out, err := Render(src, vars)
		if !strings.Contains(src, "{{") && !strings.Contains(src, "{%") {
			if err != nil || out != src {
				t.Fatalf("Render(%q) = %v, %v; want it unchanged", src, out, err)
			}
		}
	})
}
