package settings

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/v2"
	"gopkg.in/yaml.v3"
)

// LoadOptions say where the settings come from.
type LoadOptions struct {
	// Dir is the broker directory (see Dir). Required.
	Dir string
	// Example is written to Dir/broker_settings.yaml when that file does
	// not exist (first run). Empty: no file is written and the built-in
	// defaults are used.
	Example []byte
	// Environ is the environment in os.Environ form ("K=V"). Variables
	// named BROKER_… override settings (see the package doc).
	Environ []string
	// Overrides is the command-line layer, highest precedence, with dotted
	// keys: {"logging.console_level": "debug"}. Values are used as given.
	Overrides map[string]any
	// NoFile (BROKER_NO_GLOBAL_CONFIG) reads and writes no file: built-in
	// defaults, environment and overrides only.
	NoFile bool
}

// Settings are loaded settings: defaults < file < environment < overrides,
// merged once by Load. A Settings value is read-only and safe for
// concurrent use; every accessor returns copies.
type Settings struct {
	// Dir is the broker directory.
	Dir string
	// File is the settings file path (set even with NoFile, where it would
	// be; the config commands work on it).
	File string
	// Created is set when Load wrote the example file (first run), so the
	// caller can tell the user where it is.
	Created bool
	// FromFile is set when File was read.
	FromFile bool

	k     *koanf.Koanf
	m     map[string]any // merged; never modified after Load
	env   []entry        // resolved BROKER_ variables, in name order
	over  []entry        // resolved overrides, in key order
	order map[string][]string
}

// entry is one environment variable or override, with its path resolved
// against the keys loaded before it.
type entry struct {
	source string
	path   []string
	value  any
}

// excludedEnv are BROKER_ variables that steer broker itself rather than
// set a setting.
var excludedEnv = map[string]bool{
	"BROKER_DIRECTORY":        true,
	"BROKER_NO_GLOBAL_CONFIG": true,
	"BROKER_NON_INTERACTIVE":  true,
}

// Load reads the settings. A missing file is created from opts.Example
// first (under the file lock) unless opts.NoFile. An invalid file or value
// is a *ValidationError.
func Load(opts LoadOptions) (*Settings, error) {
	if opts.Dir == "" {
		return nil, errors.New("settings: no broker directory given")
	}
	s := &Settings{Dir: opts.Dir, File: filepath.Join(opts.Dir, FileName), order: map[string][]string{}}

	var (
		fileMap map[string]any
		root    *yaml.Node
	)
	if !opts.NoFile {
		data, err := os.ReadFile(s.File)
		if errors.Is(err, fs.ErrNotExist) && len(bytes.TrimSpace(opts.Example)) > 0 {
			data, s.Created, err = firstRun(s.File, opts.Example)
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// no file and no example: defaults only
		case err != nil:
			return nil, fmt.Errorf("read settings: %w", err)
		default:
			s.FromFile = true
			if fileMap, root, err = parseFile(s.File, data); err != nil {
				return nil, err
			}
			s.recordOrder(root, fileMap)
		}
	}

	s.k = koanf.New(".")
	if err := s.load(defaults(fileMap == nil || fileMap["inventory_fields"] == nil)); err != nil {
		return nil, err
	}
	if fileMap != nil {
		if err := s.load(fileMap); err != nil {
			return nil, err
		}
	}

	s.env = resolveEnv(opts.Environ, s.k.Raw())
	if err := s.loadEntries(s.env); err != nil {
		return nil, err
	}
	s.over = resolveOverrides(opts.Overrides, s.k.Raw())
	if err := s.loadEntries(s.over); err != nil {
		return nil, err
	}

	s.m = s.k.Raw()
	if verr := normalizeInstances(s.m); verr != nil {
		return nil, s.blame(verr, root)
	}
	if verr := validate(s.m); verr != nil {
		return nil, s.blame(verr, root)
	}
	return s, nil
}

func (s *Settings) load(m map[string]any) error {
	if err := s.k.Load(confmap.Provider(m, ""), nil); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	return nil
}

// loadEntries merges environment variables or overrides as one layer.
func (s *Settings) loadEntries(es []entry) error {
	if len(es) == 0 {
		return nil
	}
	m := map[string]any{}
	for _, e := range es {
		setPath(m, e.path, deepCopy(e.value))
	}
	pruneNulls(m, defaults(true))
	return s.load(m)
}

// blame sets where an invalid value came from: the last layer that set the
// key (command line, then environment), else the file.
func (s *Settings) blame(verr *ValidationError, root *yaml.Node) *ValidationError {
	for _, layer := range [][]entry{s.over, s.env} {
		for i := len(layer) - 1; i >= 0; i-- {
			if pathsOverlap(layer[i].path, verr.path) {
				verr.File = layer[i].source
				return verr
			}
		}
	}
	if s.FromFile {
		verr.File = s.File
		verr.Line = lineOf(root, verr.path)
	} else {
		verr.File = "built-in defaults"
	}
	return verr
}

func pathsOverlap(a, b []string) bool {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if !strings.EqualFold(a[i], b[i]) {
			return false
		}
	}
	return true
}

// firstRun writes the example file under the lock, unless another broker
// wrote one meanwhile, and returns the file's content.
func firstRun(file string, example []byte) (data []byte, created bool, err error) {
	unlock, err := lock(LockFile(file), lockTimeout)
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	if data, err := os.ReadFile(file); !errors.Is(err, fs.ErrNotExist) {
		return data, false, err
	}
	if err := writeAtomic(file, example, 0o600); err != nil {
		return nil, false, fmt.Errorf("first run: %w", err)
	}
	return example, true, nil
}

var reYAMLLine = regexp.MustCompile(`line (\d+): `)

// parseFile parses a settings file into the file layer: top-level base keys
// get their canonical spelling, nulls where a default exists are dropped,
// and list-form instances become maps.
func parseFile(file string, data []byte) (map[string]any, *yaml.Node, error) {
	var doc yaml.Node
	if err := safeUnmarshal(data, &doc); err != nil {
		return nil, nil, yamlError(file, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return map[string]any{}, nil, nil
	}
	top := resolveAlias(doc.Content[0])
	if top == nil || top.Kind == yaml.ScalarNode && top.ShortTag() == "!!null" {
		return map[string]any{}, &doc, nil
	}
	if top.Kind != yaml.MappingNode {
		return nil, nil, &ValidationError{File: file, Line: top.Line, Want: "a map of settings at the top level", Got: nodeKind(top)}
	}
	v, err := nodeValue(top)
	if err != nil {
		return nil, nil, yamlError(file, err)
	}
	m, _ := v.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	canonicalBaseKeys(m)
	pruneNulls(m, defaults(true))
	if verr := normalizeInstances(m); verr != nil {
		verr.File, verr.Line = file, lineOf(&doc, verr.path)
		return nil, nil, verr
	}
	return m, &doc, nil
}

func yamlError(file string, err error) *ValidationError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	msg = strings.TrimSpace(msg)
	line := 0
	if m := reYAMLLine.FindStringSubmatchIndex(msg); m != nil && m[0] == 0 {
		line, _ = strconv.Atoi(msg[m[2]:m[3]])
		msg = msg[m[1]:]
	}
	return &ValidationError{File: file, Line: line, Got: "invalid YAML: " + msg}
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a map"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "something else"
}

// canonicalBaseKeys renames top-level keys that match a base key
// case-insensitively (SCENARIO_IMPORT → scenario_import), and, inside
// logging, ssh and scenario_import, keys that match a default key. An exact
// spelling already present wins over a folded one.
func canonicalBaseKeys(m map[string]any) {
	canonicalize(m, func(k string) string { return baseKey(k) })
	d := defaults(false)
	for _, sec := range []string{"logging", "ssh", "scenario_import"} {
		sub, ok := m[sec].(map[string]any)
		dm, _ := d[sec].(map[string]any)
		if !ok {
			continue
		}
		canonicalize(sub, func(k string) string {
			for dk := range dm {
				if strings.EqualFold(dk, k) {
					return dk
				}
			}
			return ""
		})
	}
}

func canonicalize(m map[string]any, canon func(string) string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c := canon(k)
		if c == "" || c == k {
			continue
		}
		if _, exists := m[c]; exists {
			continue
		}
		m[c] = m[k]
		delete(m, k)
	}
}

// pruneNulls drops keys whose value is null where the defaults have a
// value: an explicit null means "use the default".
func pruneNulls(m, def map[string]any) {
	for k, v := range m {
		dv, ok := def[k]
		if !ok || dv == nil {
			continue
		}
		if v == nil {
			delete(m, k)
			continue
		}
		sub, ok1 := v.(map[string]any)
		dsub, ok2 := dv.(map[string]any)
		if ok1 && ok2 {
			pruneNulls(sub, dsub)
		}
	}
}

// normalizeInstances rewrites every provider section's pre-0.6 list of
// instances ([{name: {...}}, …]) as a map ({name: {...}}), and a null
// instance as an empty map. It reports instances that are neither.
func normalizeInstances(m map[string]any) *ValidationError {
	keys := sortedKeys(m)
	for _, p := range keys {
		sec, ok := m[p].(map[string]any)
		if !ok || baseKey(p) != "" {
			continue
		}
		raw, ok := sec["instances"]
		if !ok {
			continue
		}
		path := []string{p, "instances"}
		switch t := raw.(type) {
		case nil:
			delete(sec, "instances")
		case map[string]any:
			for _, name := range sortedKeys(t) {
				switch t[name].(type) {
				case nil:
					t[name] = map[string]any{}
				case map[string]any:
				default:
					return newVErr(append(path, name), "a map of instance settings", t[name])
				}
			}
		case []any:
			out := make(map[string]any, len(t))
			for _, item := range t {
				im, ok := item.(map[string]any)
				if !ok || len(im) == 0 {
					return newVErr(path, "a map of instance name to settings, or a list of single-key maps", item)
				}
				for _, name := range sortedKeys(im) {
					if _, dup := out[name]; dup {
						return newVErrText(append(path, name), "each instance defined once", fmt.Sprintf("%q twice", name))
					}
					switch v := im[name].(type) {
					case nil:
						out[name] = map[string]any{}
					case map[string]any:
						out[name] = v
					default:
						return newVErr(append(path, name), "a map of instance settings", v)
					}
				}
			}
			sec["instances"] = out
		default:
			return newVErr(path, "a map of instance name to settings, or a list of single-key maps", raw)
		}
	}
	return nil
}

// recordOrder keeps the file's order of inventory_fields, nicks and each
// provider's instances (maps lose it).
func (s *Settings) recordOrder(root *yaml.Node, m map[string]any) {
	if root == nil || len(root.Content) == 0 {
		return
	}
	top := resolveAlias(root.Content[0])
	for _, k := range []string{"inventory_fields", "nicks"} {
		if _, v := mapGetFold(top, k); v != nil {
			s.order[k] = mapKeys(v)
		}
	}
	for p, v := range m {
		sec, ok := v.(map[string]any)
		if !ok || baseKey(p) != "" || sec["instances"] == nil {
			continue
		}
		_, pn := mapGet(top, p)
		_, in := mapGet(resolveAlias(pn), "instances")
		in = resolveAlias(in)
		if in == nil {
			continue
		}
		var names []string
		switch in.Kind {
		case yaml.MappingNode:
			names = mapKeys(in)
		case yaml.SequenceNode:
			for _, item := range in.Content {
				names = append(names, mapKeys(item)...)
			}
		}
		s.order["instances\x00"+p] = names
	}
}

// resolveEnv picks the BROKER_ variables that set settings, resolving each
// name against the keys loaded so far (see the package doc).
func resolveEnv(environ []string, loaded map[string]any) []entry {
	type kv struct{ k, v string }
	var vars []kv
	for _, e := range environ {
		k, v, ok := strings.Cut(e, "=")
		if !ok || v == "" || !strings.HasPrefix(k, "BROKER_") || excludedEnv[strings.ToUpper(k)] ||
			strings.Contains(strings.ToUpper(k), "VAULT_") {
			continue
		}
		vars = append(vars, kv{k, v})
	}
	sort.SliceStable(vars, func(i, j int) bool { return vars[i].k < vars[j].k })
	var out []entry
	for _, x := range vars {
		parts := strings.Split(strings.TrimPrefix(x.k, "BROKER_"), "__")
		if slicesContainEmpty(parts) {
			continue
		}
		path := canonicalPath(loaded, parts, true)
		var val any = x.v
		if !IsSensitive(path[len(path)-1]) {
			val = ParseScalar(x.v)
		}
		out = append(out, entry{source: "environment variable " + x.k, path: path, value: val})
	}
	return out
}

// resolveOverrides turns dotted override keys into entries.
func resolveOverrides(over map[string]any, loaded map[string]any) []entry {
	var out []entry
	for _, k := range sortedKeys(over) {
		parts := strings.Split(k, ".")
		if slicesContainEmpty(parts) {
			continue
		}
		out = append(out, entry{
			source: "command line",
			path:   canonicalPath(loaded, parts, false),
			value:  normalize(deepCopy(over[k]), 0),
		})
	}
	return out
}

func slicesContainEmpty(parts []string) bool {
	for _, p := range parts {
		if p == "" {
			return true
		}
	}
	return len(parts) == 0
}

// canonicalPath maps each part onto an existing key: the exact spelling,
// else a case-insensitive match. From the first part with no match on, the
// parts are lower-cased (lower) or kept.
func canonicalPath(m map[string]any, parts []string, lower bool) []string {
	out := make([]string, len(parts))
	cur := m
	for i, p := range parts {
		key := ""
		if cur != nil {
			if _, ok := cur[p]; ok {
				key = p
			} else {
				key = foldKey(cur, p)
			}
		}
		if key == "" {
			cur = nil
			key = p
			if lower {
				key = strings.ToLower(p)
			}
		} else {
			next, _ := cur[key].(map[string]any)
			cur = next
		}
		out[i] = key
	}
	return out
}

// foldKey returns the key of m equal to k under case folding (the first in
// sorted order when several are), or "".
func foldKey(m map[string]any, k string) string {
	best := ""
	for mk := range m {
		if strings.EqualFold(mk, k) && (best == "" || mk < best) {
			best = mk
		}
	}
	return best
}

// setPath sets path in m to v, creating (or replacing non-map) intermediate
// values with maps.
func setPath(m map[string]any, path []string, v any) {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// deepCopy copies maps and lists recursively; other values are shared.
func deepCopy(v any) any {
	return deepCopyDepth(v, 0)
}

func deepCopyDepth(v any, depth int) any {
	if depth > maxDepth {
		return nil
	}
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = deepCopyDepth(x, depth+1)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = deepCopyDepth(x, depth+1)
		}
		return out
	}
	return v
}

// mergeInto merges src into dst recursively (src wins; maps merge).
func mergeInto(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeInto(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// With returns a copy of s with overlay deep-merged over it as the
// highest layer (a scenario's config.settings). Keys match the loaded ones
// case-insensitively, as command-line overrides do. s is not changed.
func (s *Settings) With(overlay map[string]any) (*Settings, error) {
	if len(overlay) == 0 {
		return s, nil
	}
	n := &Settings{Dir: s.Dir, File: s.File, FromFile: s.FromFile, env: s.env, order: s.order}
	n.k = koanf.New(".")
	if err := n.load(deepCopy(s.m).(map[string]any)); err != nil {
		return nil, err
	}
	flat := map[string]any{}
	flatten("", overlay, flat)
	n.over = append(append([]entry(nil), s.over...), resolveOverrides(flat, n.k.Raw())...)
	if err := n.loadEntries(resolveOverrides(flat, n.k.Raw())); err != nil {
		return nil, err
	}
	n.m = n.k.Raw()
	if verr := normalizeInstances(n.m); verr != nil {
		return nil, verr
	}
	if verr := validate(n.m); verr != nil {
		return nil, verr
	}
	return n, nil
}

func flatten(prefix string, m map[string]any, out map[string]any) {
	for k, v := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			flatten(key, sub, out)
			continue
		}
		out[key] = v
	}
}
