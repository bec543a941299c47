package broker

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/broker-go/broker/providers"
)

// Args is the flat map of broker arguments that drives a provider action.
type Args = providers.Args

// ParseArgs turns pass-through command-line tokens into broker arguments,
// with upstream's rules: "--key value" (the next token is always the value,
// even if it starts with "-" or holds "="), "--key=value" (split at the first
// "="), "key=value". Keys keep their spelling ("--deploy-rhel-version" gives
// "deploy-rhel-version"). Unlike upstream, a trailing "--flag" with no value
// and a bare word are errors, not silently dropped.
func ParseArgs(tokens []string) (Args, error) {
	args := Args{}
	for i := 0; i < len(tokens); i++ {
		tok := tokens[i]
		switch {
		case strings.HasPrefix(tok, "--") && len(tok) > 2:
			key := tok[2:]
			if k, v, ok := strings.Cut(key, "="); ok {
				if k == "" {
					return nil, providers.UserErrorf("argument %q has no name before '='", tok)
				}
				args[k] = v
				continue
			}
			if i+1 >= len(tokens) {
				return nil, providers.UserErrorf("argument %q has no value: give it as --%s VALUE or --%s=VALUE", tok, key, key)
			}
			args[key] = tokens[i+1]
			i++
		case strings.HasPrefix(tok, "-"):
			return nil, providers.UserErrorf("unknown option %q: provider arguments are written --key value", tok)
		default:
			k, v, ok := strings.Cut(tok, "=")
			if !ok || k == "" {
				return nil, providers.UserErrorf("unexpected argument %q: provider arguments are written --key value or key=value", tok)
			}
			args[k] = v
		}
	}
	return args, nil
}

// ParseLabels parses "-l k1=v1,k2=v2,k3=v3=z" into a map, as upstream: split
// on ",", then on the first "="; a pair without "=" gets the value "".
func ParseLabels(s string) map[string]string {
	out := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		out[strings.TrimSpace(k)] = v
	}
	return out
}

// ArgsRequest is what a caller gives to build the broker arguments of an
// action: explicit arguments beat the args file, which beats the nick.
type ArgsRequest struct {
	Args     Args   // explicit arguments (command line or Go code)
	Nick     string // a nick from the settings (optional)
	ArgsFile string // a JSON or YAML file of arguments (optional)
}

// ResolveArgs merges a request's sources into one argument map: nick <
// args file < explicit arguments (a nick inside the args file counts too).
// String values naming a readable .json/.yaml/.yml file are replaced by its
// content, as upstream.
func (b *Broker) ResolveArgs(req ArgsRequest) (Args, error) {
	explicit := Args{}
	for k, v := range req.Args {
		explicit[k] = v
	}
	var fileArgs Args
	if req.ArgsFile != "" {
		var err error
		if fileArgs, err = readArgsFile(req.ArgsFile); err != nil {
			return nil, err
		}
	}
	nick := req.Nick
	if v, ok := explicit["nick"].(string); ok && nick == "" {
		nick = v
	}
	if v, ok := fileArgs["nick"].(string); ok && nick == "" {
		nick = v
	}
	delete(explicit, "nick")
	delete(fileArgs, "nick")
	out := Args{}
	if nick != "" {
		n, err := b.set.Nick(nick)
		if err != nil {
			return nil, &providers.UserError{Err: err}
		}
		out = deepMerge(out, n)
	}
	out = deepMerge(out, fileArgs)
	out = deepMerge(out, explicit)
	for k, v := range out {
		s, ok := v.(string)
		if !ok || !looksLikeDataFile(s) {
			continue
		}
		data, err := loadDataFile(s)
		if err != nil || isEmpty(data) {
			b.log.Warn("argument value looks like a file name but is not a readable JSON/YAML file; keeping it as text", "key", k, "value", s)
			continue
		}
		out[k] = data
	}
	return out, nil
}

func looksLikeDataFile(s string) bool {
	return strings.HasSuffix(s, ".json") || strings.HasSuffix(s, ".yaml") || strings.HasSuffix(s, ".yml")
}

func readArgsFile(path string) (Args, error) {
	data, err := loadDataFile(path)
	if err != nil {
		return nil, providers.UserErrorf("args file %s: %w (give a readable .json, .yaml or .yml file of key: value pairs)", path, err)
	}
	out := Args{}
	switch d := data.(type) {
	case map[string]any:
		out = d
	case []any:
		for i, item := range d {
			m, ok := item.(map[string]any)
			if !ok {
				return nil, providers.UserErrorf("args file %s: item %d is not a mapping of key: value pairs", path, i)
			}
			out = deepMerge(out, m)
		}
	default:
		if !isEmpty(data) {
			return nil, providers.UserErrorf("args file %s: want a mapping of key: value pairs at the top level, got %T", path, data)
		}
	}
	if len(out) == 0 {
		return nil, providers.UserErrorf("args file %s: no arguments loaded from it (it is empty); write key: value pairs in it", path)
	}
	return out, nil
}

// loadDataFile reads a JSON or YAML file into JSON-compatible values.
func loadDataFile(path string) (any, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, pe.Err
		}
		return nil, err
	}
	var v any
	if strings.EqualFold(filepath.Ext(path), ".json") {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("invalid JSON: %w", err)
		}
		return normalize(v), nil
	}
	if err := yaml.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	return normalize(v), nil
}

// normalize turns decoded YAML/JSON into JSON-compatible Go values.
func normalize(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = normalize(x)
		}
		return t
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			m[fmt.Sprint(k)] = normalize(x)
		}
		return m
	case []any:
		for i, x := range t {
			t[i] = normalize(x)
		}
		return t
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	}
	return v
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(t) == 0
	case []any:
		return len(t) == 0
	case string:
		return t == ""
	}
	return false
}

// deepMerge returns base with over merged in: nested maps are merged key by
// key, other values replaced; null values in over are dropped (as upstream's
// nick merge).
func deepMerge(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		if v == nil {
			continue
		}
		if om, ok := v.(map[string]any); ok {
			if bm, ok := out[k].(map[string]any); ok {
				out[k] = deepMerge(bm, om)
				continue
			}
		}
		out[k] = v
	}
	return out
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
