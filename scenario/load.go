package scenario

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/jsonschema-go/jsonschema"
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
	// MainInventory (config.main_inventory, beyond upstream) records the
	// scenario's checkouts in the main inventory instead of its own.
	MainInventory bool
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

// compiledSchema is the embedded schema resolved by github.com/google/jsonschema-go,
// whose package init is negligible (santhosh-tekuri/jsonschema compiles every
// draft's metaschema at init, ~5 ms per process; it is only the tests' oracle).
var compiledSchema = sync.OnceValues(func() (*schemaValidator, error) {
	rs, err := resolveSchemaAt("")
	if err != nil {
		return nil, err
	}
	return &schemaValidator{root: rs.Schema(), sub: map[string]*jsonschema.Resolved{"": rs}}, nil
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
	if f, err := sch.validate(root, inst); f != nil {
		return nil, schemaError(path, root, inst, f, err)
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
		sc.Config.MainInventory, _ = c["main_inventory"].(bool)
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
func schemaError(path string, root *yaml.Node, inst any, f *schemaFailure, err error) *LoadError {
	le := &LoadError{Path: path, Step: -1, Msg: "scenario validation failed: " + f.Msg,
		Location: f.Location(), Err: errors.Join(ErrInvalid, err)}
	loc := f.Loc
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

// lineAt is the line nodeAt finds for loc, or a large number when none.
func lineAt(root *yaml.Node, loc []string) int {
	if n := nodeAt(root, loc); n != nil && root != nil {
		return n.Line
	}
	return math.MaxInt
}

// schemaValidator validates documents against the embedded schema. The
// validator reports no instance location, so on failure locate descends
// through the document, validating values against the sub-schemas that apply
// to them, down to the deepest value that fails on its own.
type schemaValidator struct {
	root *jsonschema.Schema // the whole schema, walked by locate
	mu   sync.Mutex
	sub  map[string]*jsonschema.Resolved // by schema JSON pointer ("" = root)
}

// resolveSchemaAt resolves the embedded schema with a root that only refers
// to the sub-schema at ptr (in draft-07 a $ref's siblings are ignored), so
// references inside the sub-schema still resolve against the whole document.
func resolveSchemaAt(ptr string) (*jsonschema.Resolved, error) {
	var s jsonschema.Schema
	if err := json.Unmarshal(schemaJSON, &s); err != nil {
		return nil, err
	}
	if ptr != "" {
		s.Ref = "#" + ptr
	}
	return s.Resolve(nil)
}

// validateAt validates inst against the sub-schema at the JSON pointer ptr.
func (v *schemaValidator) validateAt(ptr string, inst any) error {
	v.mu.Lock()
	rs, ok := v.sub[ptr]
	if !ok {
		var err error
		if rs, err = resolveSchemaAt(ptr); err != nil {
			v.mu.Unlock()
			return err
		}
		v.sub[ptr] = rs
	}
	v.mu.Unlock()
	return rs.Validate(inst)
}

// schemaFailure is the most specific reason a document fails the schema.
type schemaFailure struct {
	Loc []string // instance location, as JSON pointer segments
	Msg string
	// wantTypes is set when the failure is a type mismatch alone (so that
	// oneOf can merge its branches' types into one message).
	wantTypes []string
}

// Location is the failure's instance location as a JSON pointer ("" = root).
func (f *schemaFailure) Location() string {
	if len(f.Loc) == 0 {
		return ""
	}
	return "/" + strings.Join(f.Loc, "/")
}

// validate checks a document (JSON-like values, see jsonValue). It returns
// nil when it is valid, else the deepest failing value and the validator's
// error. Among equally deep failures the first in root (the document's YAML,
// may be nil) wins.
func (v *schemaValidator) validate(root *yaml.Node, inst any) (*schemaFailure, error) {
	err := v.validateAt("", inst)
	if err == nil {
		return nil, nil
	}
	fails := v.locate("", v.root, inst, nil)
	if len(fails) == 0 {
		return &schemaFailure{Msg: libMessage(err)}, err
	}
	best := fails[0]
	bestLine := lineAt(root, best.Loc)
	for _, f := range fails[1:] {
		l := lineAt(root, f.Loc)
		if l < bestLine || l == bestLine && strings.Join(f.Loc, "/") < strings.Join(best.Loc, "/") {
			best, bestLine = f, l
		}
	}
	if best.Msg == "" {
		best.Msg = libMessage(err)
	}
	return best, err
}

// locate returns the deepest values under inst (at loc) that fail on their
// own; inst must fail s (at schema pointer ptr). Like an error tree's leaves:
// a value whose type (or enum) is wrong is not looked into, else every
// failing property, item and subschema is.
func (v *schemaValidator) locate(ptr string, s *jsonschema.Schema, inst any, loc []string) []*schemaFailure {
	here := &schemaFailure{Loc: loc}
	if s.Ref != "" { // draft-07: the other keywords beside $ref are ignored
		tptr, ok := strings.CutPrefix(s.Ref, "#")
		if t := schemaAt(v.root, tptr); ok && t != nil {
			return v.locate(tptr, t, inst, loc)
		}
		here.Msg = v.libMessageAt(ptr, inst)
		return []*schemaFailure{here}
	}
	if msg, want := localFailure(s, inst, true); msg != "" {
		here.Msg, here.wantTypes = msg, want
		return []*schemaFailure{here}
	}
	var found []*schemaFailure
	try := func(cptr string, cs *jsonschema.Schema, cv any, cloc []string) {
		if cs == nil || v.validateAt(cptr, cv) == nil {
			return
		}
		found = deeper(found, v.locate(cptr, cs, cv, cloc))
	}
	child := func(seg string) []string { return append(slices.Clip(loc), seg) }
	for i, cs := range s.AllOf {
		try(ptr+"/allOf/"+strconv.Itoa(i), cs, inst, loc)
	}
	if len(s.AnyOf) > 0 && !v.anyValid(ptr+"/anyOf/", len(s.AnyOf), inst) {
		for i, cs := range s.AnyOf {
			try(ptr+"/anyOf/"+strconv.Itoa(i), cs, inst, loc)
		}
	}
	if len(s.OneOf) > 0 && !v.anyValid(ptr+"/oneOf/", len(s.OneOf), inst) {
		var branches []*schemaFailure
		for i, cs := range s.OneOf {
			bptr := ptr + "/oneOf/" + strconv.Itoa(i)
			branches = deeper(branches, v.locate(bptr, cs, inst, loc))
		}
		found = deeper(found, oneOfFailure(branches, loc, inst))
	}
	switch x := inst.(type) {
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if ps, ok := s.Properties[k]; ok {
				try(ptr+"/properties/"+escapePointer(k), ps, x[k], child(k))
			} else if ap := s.AdditionalProperties; ap != nil && !isFalseSchema(ap) && !matchesPatternProperty(s, k) {
				try(ptr+"/additionalProperties", ap, x[k], child(k))
			}
		}
	case []any:
		if s.Items != nil {
			for i, e := range x {
				try(ptr+"/items", s.Items, e, child(strconv.Itoa(i)))
			}
		}
	}
	if msg, _ := localFailure(s, inst, false); msg != "" {
		here.Msg = msg
		found = deeper(found, []*schemaFailure{here})
	}
	if len(found) == 0 {
		here.Msg = v.libMessageAt(ptr, inst)
		return []*schemaFailure{here}
	}
	return found
}

func (v *schemaValidator) anyValid(prefix string, n int, inst any) bool {
	for i := range n {
		if v.validateAt(prefix+strconv.Itoa(i), inst) == nil {
			return true
		}
	}
	return false
}

func (v *schemaValidator) libMessageAt(ptr string, inst any) string {
	if err := v.validateAt(ptr, inst); err != nil {
		return libMessage(err)
	}
	return ""
}

// oneOfFailure sums up the branches of a oneOf that none matched: deeper
// failures stand; at the oneOf's own value, the branch whose type fits says
// what is wrong, and if no type fits the message lists them all.
func oneOfFailure(branches []*schemaFailure, loc []string, inst any) []*schemaFailure {
	if len(branches) == 0 || len(branches[0].Loc) > len(loc) {
		return branches
	}
	var want []string
	for _, b := range branches {
		if b.wantTypes == nil {
			return []*schemaFailure{b}
		}
		for _, t := range b.wantTypes {
			if !slices.Contains(want, t) {
				want = append(want, t)
			}
		}
	}
	return []*schemaFailure{{Loc: loc, Msg: typeMessage(inst, want), wantTypes: want}}
}

// deeper merges failure lists, keeping only the deepest.
func deeper(a, b []*schemaFailure) []*schemaFailure {
	switch {
	case len(b) == 0:
		return a
	case len(a) == 0 || len(b[0].Loc) > len(a[0].Loc):
		return b
	case len(b[0].Loc) < len(a[0].Loc):
		return a
	}
	return append(a, b...)
}

// localFailure explains why inst fails the keywords of s that look at inst
// alone (not into its properties or items, nor at subschemas), in a few
// words; "" when they pass. With typeOnly, only type is checked. want is set
// for a type mismatch.
func localFailure(s *jsonschema.Schema, inst any, typeOnly bool) (msg string, want []string) {
	types := s.Types
	if s.Type != "" {
		types = []string{s.Type}
	}
	if len(types) > 0 {
		got := jsonTypeOf(inst)
		if !slices.Contains(types, got) && !(got == "integer" && slices.Contains(types, "number")) {
			return typeMessage(inst, types), types
		}
	}
	if isEnumFailure(s, inst) {
		var vals []string
		for _, e := range s.Enum {
			vals = append(vals, displayValue(e))
		}
		if len(vals) == 1 {
			return "value must be " + vals[0], nil
		}
		return "value must be one of " + strings.Join(vals, ", "), nil
	}
	if typeOnly {
		return "", nil
	}
	if n, ok := toFloat(inst); ok && s.Minimum != nil && n < *s.Minimum {
		return fmt.Sprintf("value must be at least %v, got %v", *s.Minimum, inst), nil
	}
	if str, ok := inst.(string); ok {
		if s.MinLength != nil && utf8.RuneCountInString(str) < *s.MinLength {
			if *s.MinLength == 1 {
				return "value must not be empty", nil
			}
			return fmt.Sprintf("value must be at least %d characters long, got %d", *s.MinLength, utf8.RuneCountInString(str)), nil
		}
		if s.Pattern != "" {
			if re, err := regexp.Compile(s.Pattern); err == nil && !re.MatchString(str) {
				return fmt.Sprintf("%s does not match pattern '%s'", quote(str), s.Pattern), nil
			}
		}
	}
	if m, ok := inst.(map[string]any); ok {
		var missing []string
		for _, r := range s.Required {
			if _, ok := m[r]; !ok {
				missing = append(missing, quote(r))
			}
		}
		switch len(missing) {
		case 0:
		case 1:
			return "missing property " + missing[0], nil
		default:
			return "missing properties " + strings.Join(missing, ", "), nil
		}
		if s.AdditionalProperties != nil && isFalseSchema(s.AdditionalProperties) {
			var extra []string
			for _, k := range sortedKeys(m) {
				if _, ok := s.Properties[k]; !ok && !matchesPatternProperty(s, k) {
					extra = append(extra, quote(k))
				}
			}
			switch len(extra) {
			case 0:
			case 1:
				return "additional property " + extra[0] + " is not allowed", nil
			default:
				return "additional properties " + strings.Join(extra, ", ") + " are not allowed", nil
			}
		}
	}
	return "", nil
}

func isEnumFailure(s *jsonschema.Schema, inst any) bool {
	if s.Enum == nil {
		return false
	}
	for _, e := range s.Enum {
		if jsonEqual(e, inst) {
			return false
		}
	}
	return true
}

// jsonEqual compares scalars of an enum with a value (numbers by value).
func jsonEqual(a, b any) bool {
	if x, ok := toFloat(a); ok {
		y, ok := toFloat(b)
		return ok && x == y
	}
	switch a.(type) {
	case nil, string, bool:
		return a == b
	}
	return false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// jsonTypeOf names a value's JSON type; integral numbers are integers.
func jsonTypeOf(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case int, int64, uint64:
		return "integer"
	case float64:
		if _, f := math.Modf(x); f == 0 {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

func typeMessage(inst any, want []string) string {
	return fmt.Sprintf("got %s, want %s", jsonTypeOf(inst), strings.Join(want, " or "))
}

// isFalseSchema reports a schema that accepts nothing (false, which
// jsonschema-go reads as {"not": {}}).
func isFalseSchema(s *jsonschema.Schema) bool {
	return s.Not != nil && reflect.ValueOf(*s.Not).IsZero()
}

func matchesPatternProperty(s *jsonschema.Schema, key string) bool {
	for p := range s.PatternProperties {
		if re, err := regexp.Compile(p); err == nil && re.MatchString(key) {
			return true
		}
	}
	return false
}

// schemaAt follows a JSON pointer through a schema ("" is s itself); nil when
// it leads nowhere known.
func schemaAt(s *jsonschema.Schema, ptr string) *jsonschema.Schema {
	if ptr == "" {
		return s
	}
	if !strings.HasPrefix(ptr, "/") {
		return nil
	}
	segs := strings.Split(ptr[1:], "/")
	for i := 0; s != nil && i < len(segs); i++ {
		seg := unescapePointer(segs[i])
		next := func() (string, bool) {
			if i+1 >= len(segs) {
				return "", false
			}
			i++
			return unescapePointer(segs[i]), true
		}
		index := func(list []*jsonschema.Schema) *jsonschema.Schema {
			k, ok := next()
			n, err := strconv.Atoi(k)
			if !ok || err != nil || n < 0 || n >= len(list) {
				return nil
			}
			return list[n]
		}
		key := func(m map[string]*jsonschema.Schema) *jsonschema.Schema {
			k, ok := next()
			if !ok {
				return nil
			}
			return m[k]
		}
		switch seg {
		case "definitions":
			s = key(s.Definitions)
		case "$defs":
			s = key(s.Defs)
		case "properties":
			s = key(s.Properties)
		case "patternProperties":
			s = key(s.PatternProperties)
		case "items":
			s = s.Items
		case "additionalProperties":
			s = s.AdditionalProperties
		case "not":
			s = s.Not
		case "allOf":
			s = index(s.AllOf)
		case "anyOf":
			s = index(s.AnyOf)
		case "oneOf":
			s = index(s.OneOf)
		default:
			return nil
		}
	}
	return s
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

func unescapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
}

// libMessage is the validator's own message without its "validating
// <schema>: " prefixes.
func libMessage(err error) string {
	s := err.Error()
	for strings.HasPrefix(s, "validating ") {
		i := strings.Index(s, ": ")
		if i < 0 {
			break
		}
		s = s[i+2:]
	}
	return s
}

// quote single-quotes a string for messages.
func quote(s string) string {
	q := strconv.Quote(s)
	q = strings.ReplaceAll(q[1:len(q)-1], `\"`, `"`)
	return "'" + strings.ReplaceAll(q, "'", `\'`) + "'"
}

func displayValue(v any) string {
	switch x := v.(type) {
	case string:
		return quote(x)
	case []any, map[string]any:
		return "value"
	default:
		return fmt.Sprint(x)
	}
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
