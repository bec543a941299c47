// Package ansiblejson parses the document the ansible.posix.json stdout
// callback prints at the end of an ansible-playbook run: per-host stats and,
// per host in run order, each task's status. It is its own small package so
// that its fuzz target runs fast.
package ansiblejson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Callback is the stdout callback whose output Parse reads (ansible-core
// 2.14 has no builtin json callback; the ansible.posix collection ships with
// Debian's ansible package).
const Callback = "ansible.posix.json"

// msgMax bounds a failed task's message kept in a Task.
const msgMax = 1000

// Task is one task's result on one host: status ok, changed, failed,
// skipped or unreachable, and the message of failures.
type Task struct {
	Task   string
	Status string
	Msg    string
}

// document is the part of the ansible.posix.json document read here.
type document struct {
	Plays []struct {
		Play struct {
			Name string `json:"name"`
		} `json:"play"`
		Tasks []struct {
			Task struct {
				Name string `json:"name"`
			} `json:"task"`
			Hosts map[string]map[string]any `json:"hosts"`
		} `json:"tasks"`
	} `json:"plays"`
	Stats map[string]map[string]int `json:"stats"`
}

// Parse reads the ansible.posix.json callback's document from
// ansible-playbook's stdout (other lines, e.g. from -v, are skipped): the
// stats per host and, per host in run order, each task's status (ok,
// changed, failed, skipped, unreachable) with the message of failures.
func Parse(stdout []byte) (map[string]map[string]int, map[string][]Task, error) {
	doc, err := find(stdout)
	if err != nil {
		return nil, nil, err
	}
	tasks := map[string][]Task{}
	for h := range doc.Stats {
		tasks[h] = []Task{}
	}
	for _, p := range doc.Plays {
		for _, t := range p.Tasks {
			for h, r := range t.Hosts {
				name := t.Task.Name
				if name == "" {
					name, _ = r["action"].(string)
				}
				ts := Task{Task: name, Status: taskStatus(r)}
				if ts.Status == "failed" || ts.Status == "unreachable" {
					ts.Msg = failMsg(r)
				}
				tasks[h] = append(tasks[h], ts)
			}
		}
	}
	stats := doc.Stats
	if stats == nil {
		stats = map[string]map[string]int{}
	}
	return stats, tasks, nil
}

func find(stdout []byte) (*document, error) {
	if len(bytes.TrimSpace(stdout)) == 0 {
		return nil, errors.New("empty output (no " + Callback + " document)")
	}
	var firstErr error
	for off := 0; off < len(stdout); {
		i := bytes.IndexByte(stdout[off:], '{')
		if i < 0 {
			break
		}
		at := off + i
		// only a '{' that starts a line starts the document
		if at == 0 || stdout[at-1] == '\n' {
			var doc document
			dec := json.NewDecoder(bytes.NewReader(stdout[at:]))
			err := dec.Decode(&doc)
			if err == nil && doc.Stats != nil {
				return &doc, nil
			}
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}
		off = at + 1
	}
	if firstErr != nil {
		return nil, fmt.Errorf("no %s document: %w", Callback, firstErr)
	}
	return nil, fmt.Errorf("no %s document in the output", Callback)
}

func taskStatus(r map[string]any) string {
	switch {
	case truthy(r["unreachable"]):
		return "unreachable"
	case truthy(r["failed"]):
		return "failed"
	case truthy(r["skipped"]):
		return "skipped"
	case truthy(r["changed"]):
		return "changed"
	}
	return "ok"
}

func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return x == "true" || x == "True" || x == "yes"
	case float64:
		return x != 0
	}
	return false
}

// failMsg is a failed result's message, with the command's stderr
// when there is one and, for loops, the first failed item's message.
func failMsg(r map[string]any) string {
	msg := text(r["msg"])
	if items, ok := r["results"].([]any); ok {
		for _, it := range items {
			m, ok := it.(map[string]any)
			if !ok || !truthy(m["failed"]) && !truthy(m["unreachable"]) {
				continue
			}
			label := text(m["_ansible_item_label"])
			if label == "" {
				label = text(m["item"])
			}
			sub := failMsg(m)
			if label != "" {
				sub = "item " + label + ": " + sub
			}
			if msg == "" {
				msg = sub
			} else {
				msg += "; " + sub
			}
			break
		}
	}
	if se := strings.TrimSpace(text(r["stderr"])); se != "" && !strings.Contains(msg, se) {
		if rc, ok := r["rc"].(float64); ok {
			msg = fmt.Sprintf("%s (rc %d): %s", msg, int(rc), se)
		} else {
			msg += ": " + se
		}
	}
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > msgMax {
		msg = strings.ToValidUTF8(msg[:msgMax], "") + "..."
	}
	return msg
}

func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
