package settings

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// safeUnmarshal parses YAML into a node tree, turning a panic inside the
// YAML library into an error.
func safeUnmarshal(data []byte, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	return yaml.Unmarshal(data, n)
}

// nodeValue decodes a node into plain Go values: map[string]any, []any and
// scalars. Scalar map keys are taken as written (1, true, null and ~ are
// the strings "1", "true", "null" and "~"). Unquoted timestamps stay
// strings (YAML would make them time.Time), so that a value such as
// 2024-01-01 reaches a provider as written. n is not modified.
func nodeValue(n *yaml.Node) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
		}
	}()
	c := copyNode(n, map[*yaml.Node]*yaml.Node{})
	prepareDecode(c, map[*yaml.Node]bool{})
	var out any
	if err := c.Decode(&out); err != nil {
		return nil, err
	}
	return normalize(out, 0), nil
}

// copyNode deep-copies a node tree, keeping aliases pointing at the copies
// of their anchors.
func copyNode(n *yaml.Node, seen map[*yaml.Node]*yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	if c, ok := seen[n]; ok {
		return c
	}
	c := new(yaml.Node)
	*c = *n
	seen[n] = c
	if n.Content != nil {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, x := range n.Content {
			c.Content[i] = copyNode(x, seen)
		}
	}
	c.Alias = copyNode(n.Alias, seen)
	return c
}

// prepareDecode tags timestamps and scalar map keys (but merge keys) as
// strings.
func prepareDecode(n *yaml.Node, seen map[*yaml.Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!timestamp" {
		n.Tag = "!!str"
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.ShortTag() != "!!merge" {
				k.Tag = "!!str"
			}
		}
	}
	for _, x := range n.Content {
		prepareDecode(x, seen)
	}
	prepareDecode(n.Alias, seen)
}

// maxDepth bounds recursion over values (YAML cannot make cycles, but
// callers of Redact can).
const maxDepth = 200

// normalize converts map[any]any (YAML maps with non-string keys) into
// map[string]any, recursively.
func normalize(v any, depth int) any {
	if depth > maxDepth {
		return nil
	}
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			t[k] = normalize(x, depth+1)
		}
		return t
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[fmt.Sprint(k)] = normalize(x, depth+1)
		}
		return out
	case []any:
		for i, x := range t {
			t[i] = normalize(x, depth+1)
		}
		return t
	}
	return v
}

// resolveAlias follows alias nodes to their anchors.
func resolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// mapGet returns the key and value nodes of key in a mapping node
// (case-sensitive; the last occurrence wins, as when decoding).
func mapGet(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Kind == yaml.ScalarNode && m.Content[i].Value == key {
			k, v = m.Content[i], m.Content[i+1]
		}
	}
	return k, v
}

// mapGetFold is mapGet, falling back to a case-insensitive match.
func mapGetFold(m *yaml.Node, key string) (k, v *yaml.Node) {
	if k, v = mapGet(m, key); k != nil {
		return k, v
	}
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Kind == yaml.ScalarNode && strings.EqualFold(m.Content[i].Value, key) {
			k, v = m.Content[i], m.Content[i+1]
		}
	}
	return k, v
}

// mapKeys returns the keys of a mapping node in file order, without
// duplicates.
func mapKeys(m *yaml.Node) []string {
	m = resolveAlias(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i].Value
		if m.Content[i].Kind != yaml.ScalarNode || k == "<<" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, k)
	}
	return out
}

// lineOf is the line of the deepest node found along path (the key's line
// when the key exists), or 0. A sequence is searched for a mapping item
// holding the next key (pre-0.6 list-form instances).
func lineOf(root *yaml.Node, path []string) int {
	n := root
	if n != nil && n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return 0
		}
		n = n.Content[0]
	}
	line := 0
	for _, p := range path {
		n = resolveAlias(n)
		if n == nil {
			break
		}
		var k, v *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			k, v = mapGetFold(n, p)
		case yaml.SequenceNode:
			// the last item holding the key (a duplicate is the later one)
			for _, item := range n.Content {
				if ik, iv := mapGetFold(resolveAlias(item), p); ik != nil {
					k, v = ik, iv
				}
			}
		}
		if k == nil {
			break
		}
		line = k.Line
		n = v
	}
	return line
}
