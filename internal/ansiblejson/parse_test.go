package ansiblejson

import (
	"os"
	"testing"
)

// FuzzParse: the parser never panics on what ansible-playbook may print,
// and every task status it reports is one of the five it documents.
// (The recorded run is tested in detail at the root: TestParseAnsibleJSON.)
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("../../testdata/ansible/json-callback.json"); err == nil {
		f.Add(b)
		f.Add(append([]byte("Using /etc/ansible/ansible.cfg as config file\n"), b...))
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte(`{"plays": [{"tasks": [{"task": {"name": "t"}, "hosts": {"h": {"failed": true, "msg": "x"}}}]}], "stats": {"h": {"ok": 0, "failures": 1}}}`))
	f.Add([]byte("not json at all"))
	f.Add([]byte(`{"plays": null, "stats": null}`))
	ok := map[string]bool{"ok": true, "changed": true, "failed": true, "skipped": true, "unreachable": true}
	f.Fuzz(func(t *testing.T, data []byte) {
		stats, tasks, err := Parse(data)
		if err != nil {
			return
		}
		if stats == nil || tasks == nil {
			t.Fatal("nil maps without an error")
		}
		for h, ts := range tasks {
			for _, x := range ts {
				if !ok[x.Status] {
					t.Fatalf("host %s task %q: status %q", h, x.Task, x.Status)
				}
				if len(x.Msg) > msgMax+3 {
					t.Fatalf("message of %d bytes, over the %d bound", len(x.Msg), msgMax)
				}
			}
		}
	})
}

func TestParseFindsTheDocumentAfterOtherLines(t *testing.T) {
	out := []byte("Using /etc/ansible/ansible.cfg as config file\n{\"x\": 1}\n{\"plays\": [{\"tasks\": [{\"task\": {\"name\": \"t\"}, \"hosts\": {\"h\": {\"changed\": true}}}]}], \"stats\": {\"h\": {\"ok\": 1, \"changed\": 1}}}\n")
	stats, tasks, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if stats["h"]["changed"] != 1 || len(tasks["h"]) != 1 || tasks["h"][0] != (Task{Task: "t", Status: "changed"}) {
		t.Errorf("stats %v tasks %v", stats, tasks)
	}
}
