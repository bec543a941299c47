package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// The functions in this file implement broker config view/set/restore/init.
// They work on the raw settings file, not on merged settings: comments are
// kept, the environment plays no part, and chunks are dotted paths of
// case-sensitive keys ("AnsibleTower.instances.my_instance").

// readDoc parses a settings file for editing. A missing or empty file is
// an empty map (missing reports exists=false).
func readDoc(file string) (doc *yaml.Node, data []byte, exists bool, err error) {
	data, err = os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return emptyDoc(), nil, false, nil
	}
	if err != nil {
		return nil, nil, false, fmt.Errorf("read settings: %w", err)
	}
	doc, err = parseDoc(file, data)
	return doc, data, true, err
}

func emptyDoc() *yaml.Node {
	return &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
}

// parseDoc parses YAML whose top level must be a map (or nothing).
func parseDoc(file string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := safeUnmarshal(data, &doc); err != nil {
		return nil, yamlError(file, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return emptyDoc(), nil
	}
	top := doc.Content[0]
	if top.Kind == yaml.ScalarNode && top.ShortTag() == "!!null" {
		doc.Content[0] = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", HeadComment: top.HeadComment, FootComment: top.FootComment}
		return &doc, nil
	}
	if top.Kind != yaml.MappingNode {
		return nil, &ValidationError{File: file, Line: top.Line, Want: "a map of settings at the top level", Got: nodeKind(top)}
	}
	return &doc, nil
}

// splitChunk splits a dotted chunk; "" is the whole file.
func splitChunk(file, chunk string) ([]string, error) {
	if chunk == "" {
		return nil, nil
	}
	parts := strings.Split(chunk, ".")
	if slicesContainEmpty(parts) {
		return nil, &NotFoundError{Kind: "chunk", Name: chunk, Scope: file, Hint: "a chunk is a dotted path of keys, such as logging.console_level"}
	}
	return parts, nil
}

// findChunk returns the node at parts (aliases followed).
func findChunk(doc *yaml.Node, file, chunk string, parts []string) (*yaml.Node, error) {
	n := doc.Content[0]
	for i, p := range parts {
		n = resolveAlias(n)
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
			return nil, &NotFoundError{Kind: "chunk", Name: chunk, Scope: file,
				Hint: fmt.Sprintf("%s is null; see broker config view", strings.Join(parts[:i], "."))}
		}
		_, v := mapGet(n, p)
		if v == nil {
			return nil, &NotFoundError{Kind: "chunk", Name: chunk, Scope: file, Hint: "see broker config view"}
		}
		n = v
	}
	return n, nil
}

// ViewChunk returns the YAML of the settings file (chunk "") or of one
// chunk of it, comments kept, with secrets Redacted (sensitive keys as
// IsSensitive decides, and URL passwords). A missing chunk is a
// *NotFoundError. Use ViewChunkRaw for the unredacted text.
func ViewChunk(file, chunk string) ([]byte, error) { return viewChunk(file, chunk, true) }

// ViewChunkRaw is ViewChunk without redaction.
func ViewChunkRaw(file, chunk string) ([]byte, error) { return viewChunk(file, chunk, false) }

func viewChunk(file, chunk string, redact bool) ([]byte, error) {
	parts, err := splitChunk(file, chunk)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &NotFoundError{Kind: "file", Name: file, Hint: "broker config init writes one"}
		}
		return nil, fmt.Errorf("read settings: %w", err)
	}
	doc, err := parseDoc(file, data)
	if err != nil {
		return nil, err
	}
	var n *yaml.Node = doc
	if len(parts) > 0 {
		if n, err = findChunk(doc, file, chunk, parts); err != nil {
			return nil, err
		}
		n = resolveAlias(n)
	}
	if redact {
		n = copyNode(n, map[*yaml.Node]*yaml.Node{})
		if len(parts) > 0 && IsSensitive(parts[len(parts)-1]) {
			redactValueNode(n)
		}
		redactNode(n, map[*yaml.Node]bool{})
	}
	out, err := encodeNode(n)
	if err != nil || n.Kind != yaml.ScalarNode {
		return out, err
	}
	// yaml.v3 writes some lone strings (line breaks only) wrongly; JSON is
	// YAML too.
	want, werr := nodeValue(n)
	got, gerr := decodeYAMLValue(out)
	if str, ok := want.(string); ok && werr == nil && (gerr != nil || got != want) {
		j, _ := json.Marshal(str)
		return append(j, '\n'), nil
	}
	return out, nil
}

// redactNode hides secret values in a node tree (in place).
func redactNode(n *yaml.Node, seen map[*yaml.Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && IsSensitive(k.Value) {
				redactValueNode(v)
				continue
			}
			redactNode(v, seen)
		}
	case yaml.ScalarNode:
		if n.ShortTag() == "!!str" {
			n.Value = redactURL(n.Value)
		}
	default:
		for _, c := range n.Content {
			redactNode(c, seen)
		}
	}
}

// redactValueNode replaces a secret value (unless it is null or empty).
func redactValueNode(v *yaml.Node) {
	if v.Kind == yaml.ScalarNode && (v.ShortTag() == "!!null" || v.Value == "") {
		return
	}
	*v = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: Redacted,
		HeadComment: v.HeadComment, LineComment: v.LineComment, FootComment: v.FootComment,
		Line: v.Line, Column: v.Column}
}

// encodeNode writes a node tree as YAML (indent 2). It may adjust n (see
// fixFlowNulls).
func encodeNode(n *yaml.Node) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("encode settings: %v", r)
		}
	}()
	fixFlowNulls(n, false, map[*yaml.Node]bool{})
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("encode settings: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode settings: %w", err)
	}
	return buf.Bytes(), nil
}

// valueNode builds the node for a value given to SetChunk. A string is read
// with ParseScalar (so "5" stores the integer 5), except under a sensitive
// key, where it stays a string; a Secret is stored revealed.
func valueNode(value any, key string) (n *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("encode value: %v", r)
		}
	}()
	switch t := value.(type) {
	case string:
		if !IsSensitive(key) {
			value = ParseScalar(t)
			if _, isFloat := value.(float64); isFloat {
				// as written: 9.10 stays 9.10 in the file, and 5.0 a float
				return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: t}, nil
			}
		}
	case Secret:
		value = t.Reveal()
	case *yaml.Node:
		return copyNode(t, map[*yaml.Node]*yaml.Node{}), nil
	}
	return toNode(normalize(deepCopy(value), 0), 0)
}

// toNode builds the node of a plain value. yaml.v3's Node.Encode loses
// strings made of line breaks only, so strings, maps and lists are built
// here; other types go through Node.Encode.
func toNode(v any, depth int) (*yaml.Node, error) {
	if depth > maxDepth {
		return nil, errors.New("encode value: nested too deeply")
	}
	scalar := func(tag, val string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: val} }
	switch t := v.(type) {
	case nil:
		return scalar("!!null", "null"), nil
	case string:
		n := scalar("!!str", t)
		if strings.HasPrefix(t, "\n") || strings.HasPrefix(t, "\r") {
			// the emitter's block styles lose leading line breaks
			n.Style = yaml.DoubleQuotedStyle
		}
		return n, nil
	case bool:
		return scalar("!!bool", strconv.FormatBool(t)), nil
	case int:
		return scalar("!!int", strconv.Itoa(t)), nil
	case int64:
		return scalar("!!int", strconv.FormatInt(t, 10)), nil
	case float64:
		switch {
		case math.IsNaN(t):
			return scalar("!!float", ".nan"), nil
		case math.IsInf(t, 1):
			return scalar("!!float", ".inf"), nil
		case math.IsInf(t, -1):
			return scalar("!!float", "-.inf"), nil
		}
		f := strconv.FormatFloat(t, 'g', -1, 64)
		if !strings.ContainsAny(f, ".e") {
			f += ".0"
		}
		return scalar("!!float", f), nil
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, k := range sortedKeys(t) {
			c, err := toNode(t[k], depth+1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, scalar("!!str", k), c)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, x := range t {
			c, err := toNode(x, depth+1)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		return n, nil
	}
	n := new(yaml.Node)
	if err := n.Encode(v); err != nil {
		return nil, fmt.Errorf("encode value: %w", err)
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	return n, nil
}

// setNode puts v at parts under the document's top map, creating missing
// (or null) intermediate maps.
func setNode(doc *yaml.Node, file string, parts []string, v *yaml.Node) error {
	n := doc.Content[0]
	for i, p := range parts {
		if n.Kind == yaml.AliasNode {
			return &ValidationError{File: file, Line: n.Line, Key: strings.Join(parts[:i], "."),
				Want: "a map written out (not a YAML alias) to set a key inside", Got: "an alias to &" + n.Value}
		}
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
			*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", HeadComment: n.HeadComment,
				LineComment: n.LineComment, FootComment: n.FootComment, Line: n.Line, Column: n.Column}
		}
		if n.Kind != yaml.MappingNode {
			got := "a list"
			if n.Kind == yaml.ScalarNode {
				got = strconvQuote(n.Value)
			}
			return &ValidationError{File: file, Line: n.Line, Key: strings.Join(parts[:i], "."),
				Want: "a map to set " + p + " in", Got: got}
		}
		k, old := mapGet(n, p)
		last := i == len(parts)-1
		switch {
		case k == nil && last:
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: p}, v)
		case k == nil:
			m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: p}, m)
			n = m
		case last:
			if old.Kind == yaml.ScalarNode && v.Kind == yaml.ScalarNode && v.LineComment == "" {
				v.LineComment = old.LineComment
			}
			replaceValue(n, k, v)
		default:
			n = old
		}
	}
	return nil
}

// fixFlowNulls spells out empty nulls inside flow collections: yaml.v3
// writes the null of "{a}" or "{a: }" as an empty quoted string, which
// would change the value on the way back.
func fixFlowNulls(n *yaml.Node, inFlow bool, seen map[*yaml.Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	if n.Kind == yaml.ScalarNode && inFlow && n.Value == "" && n.ShortTag() == "!!null" {
		n.Value = "null"
	}
	inFlow = inFlow || n.Style&yaml.FlowStyle != 0
	for i, c := range n.Content {
		if n.Kind == yaml.MappingNode && i%2 == 0 {
			continue // keys: an empty null key reads back as "" either way
		}
		fixFlowNulls(c, inFlow, seen)
	}
}

func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }

// replaceValue swaps the value node that follows key k in mapping m.
func replaceValue(m, k, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i] == k {
			m.Content[i+1] = v
		}
	}
}

// checkContent refuses settings file content that Load would reject.
func checkContent(file string, data []byte) error {
	m, _, err := parseFile(file, data)
	if err != nil {
		return err
	}
	merged := defaults(m["inventory_fields"] == nil)
	mergeInto(merged, m)
	if verr := normalizeInstances(merged); verr != nil {
		verr.File = file
		return verr
	}
	if verr := validate(merged); verr != nil {
		verr.File = file
		return verr
	}
	return nil
}

// SetChunk sets a dotted chunk of the settings file to value and writes the
// file back, comments kept. Missing intermediate maps are created (upstream
// requires them to exist). A string value is read with ParseScalar, so
// "set thread_limit 5" stores the integer 5 where upstream stores "5";
// quote it ('"5"') for a string. Under a sensitive key (IsSensitive) a
// string is stored as given. A map or list (read from a file by the caller)
// is stored as a YAML block.
//
// The chunk must be printable UTF-8, and a string value UTF-8. The result
// is checked first: if Load would reject it, or the value would not read
// back unchanged (yaml.v3 cannot write every string), the file is left
// untouched and a *ValidationError is returned. Otherwise the current
// file is copied to BackupFile(file) (one backup, replaced each time) and
// the new content is written atomically. All of this happens under the
// file lock.
func SetChunk(file, chunk string, value any) error {
	parts, err := splitChunk(file, chunk)
	if err != nil {
		return err
	}
	if len(parts) == 0 {
		return &ValidationError{File: file, Want: "a chunk such as logging.console_level (use broker config init to replace the whole file)", Got: `""`}
	}
	if !utf8.ValidString(chunk) || strings.IndexFunc(chunk, unicode.IsControl) >= 0 {
		return &ValidationError{File: file, Want: "a chunk of printable UTF-8 text", Got: strconvQuote(chunk)}
	}
	if str, ok := value.(string); ok && !utf8.ValidString(str) {
		return &ValidationError{File: file, Key: chunk, Want: "a value in UTF-8 text", Got: strconvQuote(str)}
	}
	v, err := valueNode(value, parts[len(parts)-1])
	if err != nil {
		return err
	}
	return edit(file, chunk, parts, v)
}

// edit puts v at parts in the file's document under the lock, checks that
// the written YAML reads back as v, validates, backs up and writes.
func edit(file, chunk string, parts []string, v *yaml.Node) error {
	want, err := nodeValue(v)
	if err != nil {
		return &ValidationError{File: file, Key: chunk, Got: "invalid value: " + err.Error()}
	}
	unlock, err := lock(LockFile(file), lockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	doc, old, exists, err := readDoc(file)
	if err != nil {
		return err
	}
	if err := setNode(doc, file, parts, v); err != nil {
		return err
	}
	out, err := encodeNode(doc)
	if err != nil {
		return err
	}
	// yaml.v3 cannot write every string back faithfully (one made of line
	// breaks only, for one): refuse rather than store something else.
	back, err := parseDoc(file, out)
	if err == nil {
		var n *yaml.Node
		if n, err = findChunk(back, file, chunk, parts); err == nil {
			var got any
			if got, err = nodeValue(n); err == nil && !reflect.DeepEqual(got, want) {
				err = errors.New("differs")
			}
		}
	}
	if err != nil {
		return &ValidationError{File: file, Key: chunk, Want: "a value YAML can write down and read back unchanged", Got: describe(want)}
	}
	return replaceFile(file, old, exists, out)
}

// replaceFile validates out, backs up old (when the file exists) and
// writes out. The lock must be held.
func replaceFile(file string, old []byte, exists bool, out []byte) error {
	if err := checkContent(file, out); err != nil {
		return fmt.Errorf("settings not changed: %w", err)
	}
	if exists {
		if err := writeAtomic(BackupFile(file), old, 0o600); err != nil {
			return fmt.Errorf("back up settings: %w", err)
		}
	}
	return writeAtomic(file, out, 0o600)
}

// Restore puts the backup (BackupFile(file)) back in place of the settings
// file: a single-level undo of the last SetChunk or Init. The backup stays.
// No backup is a *NotFoundError.
func Restore(file string) error {
	unlock, err := lock(LockFile(file), lockTimeout)
	if err != nil {
		return err
	}
	defer unlock()
	bak := BackupFile(file)
	data, err := os.ReadFile(bak)
	if errors.Is(err, fs.ErrNotExist) {
		return &NotFoundError{Kind: "backup", Name: bak, Hint: "broker config set and broker config init make one"}
	}
	if err != nil {
		return fmt.Errorf("read backup: %w", err)
	}
	return writeAtomic(file, data, 0o600)
}

// Init writes the settings file from source (the example file, or one the
// user names). With chunk "" the whole file is replaced by source, byte for
// byte; otherwise only that chunk is replaced by the same chunk of source
// (a *NotFoundError if source lacks it), the rest of the file kept. The
// result must load (else the file is left untouched); the previous file is
// backed up first, under the lock, as for SetChunk.
func Init(file, chunk string, source []byte) error {
	parts, err := splitChunk(file, chunk)
	if err != nil {
		return err
	}
	if len(parts) == 0 {
		unlock, err := lock(LockFile(file), lockTimeout)
		if err != nil {
			return err
		}
		defer unlock()
		old, err := os.ReadFile(file)
		exists := err == nil
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("read settings: %w", err)
		}
		return replaceFile(file, old, exists, source)
	}
	src, err := parseDoc("the source", source)
	if err != nil {
		return err
	}
	n, err := findChunk(src, "the source", chunk, parts)
	if err != nil {
		return err
	}
	v := copyNode(resolveAlias(n), map[*yaml.Node]*yaml.Node{})
	if err := noAliases(v); err != nil {
		return err
	}
	return edit(file, chunk, parts, v)
}

// noAliases refuses a chunk with aliases whose anchors lie outside it
// (they would dangle once the chunk is copied into another file).
func noAliases(chunk *yaml.Node) error {
	inside := map[*yaml.Node]bool{}
	var mark func(n *yaml.Node)
	mark = func(n *yaml.Node) {
		if n == nil || inside[n] {
			return
		}
		inside[n] = true
		for _, c := range n.Content {
			mark(c)
		}
	}
	mark(chunk)
	for n := range inside {
		if n.Kind == yaml.AliasNode && !inside[n.Alias] {
			return &ValidationError{File: "the source", Line: n.Line, Want: "a chunk whose YAML aliases point inside it", Got: "*" + n.Value}
		}
	}
	return nil
}
