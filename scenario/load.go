package scenario

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"gopkg.in/yaml.v3"
)

// Supported scenario format versions (_spec_ver).
const (
	MinSpecVersion     = 1
	CurrentSpecVersion = 3
)

// Scenario is a parsed, validated scenario file.
type Scenario struct {
	Path        string
	SpecVersion int
	Description string
	Config      Config
	Variables   map[string]any
	Steps       []*Step
	// Extra holds the other top-level keys (tags, author, priority...).
	Extra map[string]any
}

// Config is the scenario's config section.
type Config struct {
	InventoryPath string
	LogPath       string
	// Settings is deep-merged over the normal settings by the caller.
	Settings map[string]any
}

// Step is one step of a scenario (or of an on_error list).
type Step struct {
	Index       int // position in its list, from 0
	Line        int // line of the step in the file
	Name        string
	Action      string
	Description string
	Arguments   map[string]any
	Hosts       string // with.hosts; "" when the step has no with
	When        string
	Loop        *Loop
	Capture     *Capture
	// OnError: Continue, or recovery Steps, or neither.
	OnErrorContinue bool
	OnError         []*Step
	ExitOnError     bool // default true
	Parallel        bool // default true
	ParallelSet     bool // parallel was written in the file
	Retry           Retry
	Timeout         time.Duration // 0 = none
	// Input names an earlier step whose captured value (or output) is fed
	// to this step's command on stdin (ssh, container).
	Input string
	// Variables override the scenario's variables for this step only.
	Variables map[string]any
}

// Loop is a step's loop section.
type Loop struct {
	Iterable string
	IterVar  []string // one name, or several for unpacking ("k, v")
	Continue bool     // loop.on_error: continue
}

// Capture is a step's capture section.
type Capture struct {
	As        string
	Transform string
	Key       string
}

// Retry is a step's retry section; Count is at least 1.
type Retry struct {
	Count int
	Delay time.Duration
}

// LoadError is a scenario file that cannot be used: missing, unparsable or
// not matching the schema. Step is -1 when the problem is outside steps.
type LoadError struct {
	Path     string
	Line     int    // 0 when unknown
	Step     int    // index in steps, -1 if none
	StepName string // may be empty
	Location string // JSON pointer of the offending value, e.g. /steps/2/loop
	Msg      string
	Err      error
}

func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Step >= 0 {
		fmt.Fprintf(&b, "step %d", e.Step+1)
		if e.StepName != "" {
			fmt.Fprintf(&b, " (%q)", e.StepName)
		}
		b.WriteString(": ")
	}
	if e.Location != "" {
		fmt.Fprintf(&b, "at %s: ", e.Location)
	}
	b.WriteString(e.Msg)
	return b.String()
}

func (e *LoadError) Unwrap() error { return e.Err }

// ErrInvalid is wrapped by every LoadError caused by the content of the file
// (parse, schema, version), as opposed to reading it.
var ErrInvalid = errors.New("invalid scenario")

//go:embed schema.json
var schemaJSON []byte

var compiledSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemaJSON))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	const url = "https://github.com/broker-go/broker/scenario/schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
})

// Schema returns the embedded JSON schema (draft-07) scenarios are validated
// against.
func Schema() []byte { return bytes.Clone(schemaJSON) }

// Load reads and validates a scenario file.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &LoadError{Path: path, Step: -1, Msg: "scenario file not found", Err: err}
		}
		return nil, &LoadError{Path: path, Step: -1, Msg: "read scenario file", Err: err}
	}
	return Parse(path, data)
}

// Parse validates a scenario given as YAML; path is used in messages.
func Parse(path string, data []byte) (*Scenario, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &LoadError{Path: path, Step: -1, Msg: "failed to parse scenario file: " + err.Error(),
			Err: errors.Join(ErrInvalid, err), Line: yamlErrLine(err)}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		line := 0
		if len(doc.Content) > 0 {
			line = doc.Content[0].Line
		}
		return nil, &LoadError{Path: path, Step: -1, Line: line,
			Msg: "scenario file is empty or has invalid format (want a mapping with steps)", Err: ErrInvalid}
	}
	root := doc.Content[0]
	var raw any
	if err := root.Decode(&raw); err != nil {
		return nil, &LoadError{Path: path, Step: -1, Msg: "failed to parse scenario file: " + err.Error(),
			Err: errors.Join(ErrInvalid, err)}
	}
	inst, err := jsonValue(raw)
	if err != nil {
		return nil, &LoadError{Path: path, Step: -1, Msg: err.Error(), Err: errors.Join(ErrInvalid, err)}
	}
	sch, err := compiledSchema()
	if err != nil {
		return nil, fmt.Errorf("scenario: compile embedded schema: %w", err)
	}
	if err := sch.Validate(inst); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return nil, &LoadError{Path: path, Step: -1, Msg: "scenario validation failed: " + err.Error(), Err: errors.Join(ErrInvalid, err)}
		}
		return nil, schemaError(path, root, inst, ve)
	}
	m := inst.(map[string]any)
	sc := &Scenario{Path: path, SpecVersion: 1, Extra: map[string]any{}}
	if v, ok := m["_spec_ver"]; ok {
		sc.SpecVersion = toInt(v)
	}
	if sc.SpecVersion < MinSpecVersion || sc.SpecVersion > CurrentSpecVersion {
		return nil, &LoadError{Path: path, Step: -1, Line: keyLine(root, "_spec_ver"),
			Msg: fmt.Sprintf("unsupported scenario format version: %d (supported %d to %d)", sc.SpecVersion, MinSpecVersion, CurrentSpecVersion),
			Err: ErrInvalid}
	}
	sc.Description, _ = m["description"].(string)
	if c, ok := m["config"].(map[string]any); ok {
		sc.Config.InventoryPath, _ = c["inventory_path"].(string)
		sc.Config.LogPath, _ = c["log_path"].(string)
		sc.Config.Settings, _ = c["settings"].(map[string]any)
	}
	sc.Variables, _ = m["variables"].(map[string]any)
	if sc.Variables == nil {
		sc.Variables = map[string]any{}
	}
	for k, v := range m {
		switch k {
		case "_spec_ver", "description", "config", "variables", "steps":
		default:
			sc.Extra[k] = v
		}
	}
	stepsNode := mapValue(root, "steps")
	sc.Steps, err = buildSteps(path, m["steps"], stepsNode, -1)
	if err != nil {
		return nil, err
	}
	return sc, nil
}

func buildSteps(path string, raw any, node *yaml.Node, top int) ([]*Step, error) {
	list, _ := raw.([]any)
	out := make([]*Step, 0, len(list))
	for i, it := range list {
		sm := it.(map[string]any)
		var sn *yaml.Node
		if node != nil && node.Kind == yaml.SequenceNode && i < len(node.Content) {
			sn = node.Content[i]
		}
		s := &Step{Index: i, ExitOnError: true, Parallel: true, Retry: Retry{Count: 1}}
		if sn != nil {
			s.Line = sn.Line
		}
		s.Name, _ = sm["name"].(string)
		s.Action, _ = sm["action"].(string)
		s.Description, _ = sm["description"].(string)
		s.Arguments, _ = sm["arguments"].(map[string]any)
		if s.Arguments == nil {
			s.Arguments = map[string]any{}
		}
		if w, ok := sm["with"].(map[string]any); ok {
			s.Hosts, _ = w["hosts"].(string)
		}
		s.When, _ = sm["when"].(string)
		if l, ok := sm["loop"].(map[string]any); ok {
			lp := &Loop{}
			lp.Iterable, _ = l["iterable"].(string)
			iv, _ := l["iter_var"].(string)
			for n := range strings.SplitSeq(iv, ",") {
				if n = strings.TrimSpace(n); n != "" {
					lp.IterVar = append(lp.IterVar, n)
				}
			}
			lp.Continue = l["on_error"] == "continue"
			s.Loop = lp
		}
		if c, ok := sm["capture"].(map[string]any); ok {
			cp := &Capture{}
			cp.As, _ = c["as"].(string)
			cp.Transform, _ = c["transform"].(string)
			cp.Key, _ = c["key"].(string)
			s.Capture = cp
		}
		switch oe := sm["on_error"].(type) {
		case string:
			s.OnErrorContinue = true
		case []any:
			sub, err := buildSteps(path, oe, mapValue(sn, "on_error"), i)
			if err != nil {
				return nil, err
			}
			s.OnError = sub
		}
		if b, ok := sm["exit_on_error"].(bool); ok {
			s.ExitOnError = b
		}
		if b, ok := sm["parallel"].(bool); ok {
			s.Parallel, s.ParallelSet = b, true
		}
		if r, ok := sm["retry"].(map[string]any); ok {
			s.Retry.Count = toInt(r["count"])
			s.Retry.Delay = parseDuration(r["delay"])
		}
		s.Timeout = parseDuration(sm["timeout"])
		s.Input, _ = sm["input"].(string)
		s.Variables, _ = sm["variables"].(map[string]any)
		out = append(out, s)
	}
	return out, nil
}

// schemaError turns a validation failure into a LoadError naming the step and
// line of the most specific failing value.
func schemaError(path string, root *yaml.Node, inst any, ve *jsonschema.ValidationError) *LoadError {
	leaf := deepest(ve)
	p := message.NewPrinter(language.English)
	msg := leaf.ErrorKind.LocalizedString(p)
	le := &LoadError{Path: path, Step: -1, Msg: "scenario validation failed: " + msg, Err: errors.Join(ErrInvalid, ve)}
	loc := leaf.InstanceLocation
	if len(loc) > 0 {
		le.Location = "/" + strings.Join(loc, "/")
	}
	if n := nodeAt(root, loc); n != nil {
		le.Line = n.Line
	}
	if len(loc) >= 2 && loc[0] == "steps" {
		if i, err := strconv.Atoi(loc[1]); err == nil {
			le.Step = i
			if steps, ok := inst.(map[string]any)["steps"].([]any); ok && i < len(steps) {
				if sm, ok := steps[i].(map[string]any); ok {
					le.StepName, _ = sm["name"].(string)
				}
			}
			if n := nodeAt(root, loc[:2]); n != nil && le.Line == 0 {
				le.Line = n.Line
			}
		}
	}
	return le
}

// deepest picks the cause with the longest instance location; among equals,
// the first (oneOf branches report in order, and the "continue" branch of
// on_error is less informative than the steps one, so prefer later ties only
// when they are deeper).
func deepest(ve *jsonschema.ValidationError) *jsonschema.ValidationError {
	best := ve
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			if len(e.InstanceLocation) > len(best.InstanceLocation) || len(best.Causes) > 0 {
				best = e
			}
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return best
}

// nodeAt follows a JSON pointer (as segments) through yaml nodes.
func nodeAt(n *yaml.Node, loc []string) *yaml.Node {
	for _, seg := range loc {
		if n == nil {
			return nil
		}
		for n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		switch n.Kind {
		case yaml.MappingNode:
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == seg {
					next = n.Content[i+1]
					if next.Kind == yaml.ScalarNode {
						next = n.Content[i] // the key's line reads better
					}
					break
				}
			}
			n = next
		case yaml.SequenceNode:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(n.Content) {
				return nil
			}
			n = n.Content[i]
		default:
			return n
		}
	}
	return n
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func keyLine(n *yaml.Node, key string) int {
	if n == nil || n.Kind != yaml.MappingNode {
		return 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i].Line
		}
	}
	return 0
}

func yamlErrLine(err error) int {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return 0
	}
	// yaml.v3 messages read "yaml: line N: ...".
	s := err.Error()
	if i := strings.Index(s, "line "); i >= 0 {
		j := i + 5
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if n, err := strconv.Atoi(s[j:k]); err == nil {
			return n
		}
	}
	return 0
}

// jsonValue converts decoded YAML into JSON-like values: maps with string
// keys, []any, numbers, strings, bools, nil. Non-string keys are stringified
// as YAML would print them; times become RFC 3339 strings.
func jsonValue(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			c, err := jsonValue(e)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			c, err := jsonValue(e)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(k)] = c
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := jsonValue(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	case nil, string, bool, int, int64, uint64, float64:
		return x, nil
	default:
		return nil, fmt.Errorf("unsupported YAML value of type %T", v)
	}
}

func toInt(v any) int {
	switch x := v.(type) {
	case int:
		return x
	case int64:
		return int(x)
	case uint64:
		return int(x)
	case float64:
		return int(x)
	}
	return 0
}

// parseDuration reads an integer number of seconds or "N[smhd]".
func parseDuration(v any) time.Duration {
	switch x := v.(type) {
	case int, int64, uint64, float64:
		return time.Duration(toInt(x)) * time.Second
	case string:
		if len(x) < 2 {
			return 0
		}
		n, err := strconv.Atoi(x[:len(x)-1])
		if err != nil {
			return 0
		}
		unit := map[byte]time.Duration{'s': time.Second, 'm': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}[x[len(x)-1]]
		return time.Duration(n) * unit
	}
	return 0
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
