package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"
)

// stepVariables renders the step's own variables against the scenario's
// (so they cannot refer to each other) and lays them over vars: they
// override the scenario's variables for this step only.
func stepVariables(s *Step, vars map[string]any) error {
	if len(s.Variables) == 0 {
		return nil
	}
	names := make([]string, 0, len(s.Variables))
	for k := range s.Variables {
		names = append(names, k)
	}
	sort.Strings(names)
	base := maps.Clone(vars)
	for _, k := range names {
		v, err := Render(s.Variables[k], base)
		if err != nil {
			return fmt.Errorf("step variables: %s: %w", k, err)
		}
		vars[k] = v
	}
	return nil
}

// inputText is what a step's input: feeds to h's command: the named
// step's captured value (or, without a capture, its output). A string is
// fed as is; a command result ({status, stdout, stderr}) feeds its stdout;
// per-host results feed h's own stdout when h is among them; anything else
// is fed as JSON. h may be nil (a container step).
func (st *state) inputText(s *Step, h Host) (string, bool, error) {
	if s.Input == "" {
		return "", false, nil
	}
	st.mu.Lock()
	m := st.memories[s.Input]
	var v any
	var status string
	if m != nil {
		status = m.status
		v = m.output
		if m.hasCaptured {
			v = m.captured
		}
	}
	st.mu.Unlock()
	if m == nil {
		return "", false, fmt.Errorf("input: no step named %q ran before step %q; input must name an earlier step", s.Input, s.Name)
	}
	if status != StatusCompleted {
		return "", false, fmt.Errorf("input: step %q is %s, not completed; it has no output to feed to step %q", s.Input, status, s.Name)
	}
	return pipeText(plain(v), h), true, nil
}

func pipeText(v any, h Host) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case map[string]any:
		if out, ok := resultStdout(t); ok {
			return out
		}
		if h != nil {
			if r, ok := t[hostName(h)].(map[string]any); ok {
				if out, ok := resultStdout(r); ok {
					return out
				}
			}
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func resultStdout(m map[string]any) (string, bool) {
	if _, ok := m["status"]; !ok {
		return "", false
	}
	out, ok := m["stdout"].(string)
	return out, ok
}

// runOn runs cmd on h, with the step's input on stdin when it has one.
func (st *state) runOn(ctx context.Context, s *Step, h Host, cmd string) (Result, error) {
	text, ok, err := st.inputText(s, h)
	if err != nil {
		return Result{}, err
	}
	if !ok {
		return h.Run(ctx, cmd)
	}
	ir, can := h.(InputRunner)
	if !can {
		return Result{}, fmt.Errorf("input: host %s cannot take stdin", hostName(h))
	}
	return ir.RunInput(ctx, cmd, strings.NewReader(text))
}

// inputReader is the step's input for a container (nil without input:).
func (st *state) inputReader(s *Step) (io.Reader, error) {
	text, ok, err := st.inputText(s, nil)
	if err != nil || !ok {
		return nil, err
	}
	return strings.NewReader(text), nil
}
