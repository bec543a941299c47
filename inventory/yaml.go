package inventory

import (
	"errors"
	"fmt"
	"io"
	"math"

	"gopkg.in/yaml.v3"
)

// ReadYAML parses an upstream broker inventory (BD/inventory.yaml): one
// YAML document holding a list of host maps. An empty input, or a document
// that is only null, is an empty inventory. Anything else (a map or string
// at the top, a list item that is not a map, a repeated key, a second
// document) is an error naming the problem and its line.
//
// Values come back as JSON types, the ones the inventory stores: maps are
// map[string]any (non-string keys such as 22 become "22"), lists []any,
// integers int64, other numbers float64, plus string, bool and nil.
// Timestamps, binary values, locally tagged values and non-finite numbers
// (.inf, .nan) keep their text as a string. Anchors, aliases and merge keys
// (<<) are expanded.
func ReadYAML(r io.Reader) (hosts []Host, err error) {
	dec := yaml.NewDecoder(r)
	var doc yaml.Node
	if err := decodeNode(dec, &doc); err != nil {
		if errors.Is(err, io.EOF) {
			return []Host{}, nil
		}
		return nil, fmt.Errorf("read inventory YAML: %w", err)
	}
	var next yaml.Node
	switch err := decodeNode(dec, &next); {
	case err == nil:
		return nil, fmt.Errorf("read inventory YAML: line %d: a second YAML document; the inventory is one list of hosts", max(next.Line, 1))
	case !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("read inventory YAML: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return []Host{}, nil
	}
	c := &converter{}
	root := doc.Content[0]
	switch {
	case root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null":
		return []Host{}, nil
	case root.Kind != yaml.SequenceNode:
		return nil, fmt.Errorf("read inventory YAML: line %d: the inventory is %s; want a list of hosts", root.Line, describe(root))
	}
	hosts = make([]Host, 0, len(root.Content))
	for i, item := range root.Content {
		target, err := c.deref(item)
		if err != nil {
			return nil, fmt.Errorf("read inventory YAML: line %d: host %d: %w", item.Line, i, err)
		}
		if target.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("read inventory YAML: line %d: host %d is %s; want a map of host fields", item.Line, i, describe(target))
		}
		m, err := c.mapping(target, 1)
		if err != nil {
			return nil, fmt.Errorf("read inventory YAML: host %d: %w", i, err)
		}
		hosts = append(hosts, Host(m))
	}
	return hosts, nil
}

// decodeNode parses the next document. yaml.v3 has panicked on some
// malformed inputs; a bad file must not crash the program.
func decodeNode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the YAML parser failed: %v", p)
		}
	}()
	return dec.Decode(n)
}

const (
	yamlMaxDepth = 1000      // nesting, counting expanded aliases
	yamlMaxNodes = 1_000_000 // values produced, against alias bombs
)

// converter turns yaml.v3 nodes into JSON values.
type converter struct {
	nodes  int
	active map[*yaml.Node]bool // aliases being expanded (cycle check)
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "null"
		case "!!int", "!!float":
			return fmt.Sprintf("a number (%s)", n.Value)
		case "!!bool":
			return fmt.Sprintf("a boolean (%s)", n.Value)
		}
		return fmt.Sprintf("a string (%q)", n.Value)
	}
	return "empty"
}

// deref follows aliases to the node they name.
func (c *converter) deref(n *yaml.Node) (*yaml.Node, error) {
	for i := 0; n.Kind == yaml.AliasNode; i++ {
		if n.Alias == nil || i > yamlMaxDepth {
			return nil, fmt.Errorf("line %d: unresolvable alias *%s", n.Line, n.Value)
		}
		n = n.Alias
	}
	return n, nil
}

func (c *converter) value(n *yaml.Node, depth int) (any, error) {
	if depth > yamlMaxDepth {
		return nil, fmt.Errorf("line %d: nested too deeply", n.Line)
	}
	if c.nodes++; c.nodes > yamlMaxNodes {
		return nil, fmt.Errorf("line %d: more than %d values (aliases expanded)", n.Line, yamlMaxNodes)
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil, fmt.Errorf("line %d: unresolvable alias *%s", n.Line, n.Value)
		}
		if c.active[n] {
			return nil, fmt.Errorf("line %d: alias *%s refers to a value that contains it", n.Line, n.Value)
		}
		if c.active == nil {
			c.active = map[*yaml.Node]bool{}
		}
		c.active[n] = true
		defer delete(c.active, n)
		return c.value(n.Alias, depth+1)
	case yaml.MappingNode:
		return c.mapping(n, depth)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			v, err := c.value(e, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.ScalarNode:
		return scalar(n), nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// scalar converts a scalar by its resolved tag.
func scalar(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if n.Decode(&b) == nil {
			return b
		}
	case "!!int":
		var v any
		if n.Decode(&v) == nil {
			switch x := v.(type) {
			case int:
				return int64(x)
			case int64:
				return x
			case uint64:
				if x <= math.MaxInt64 {
					return int64(x)
				}
				return float64(x)
			case float64:
				return x
			}
		}
	case "!!float":
		var f float64
		if n.Decode(&f) == nil && !math.IsInf(f, 0) && !math.IsNaN(f) {
			return f
		}
	}
	// !!str, !!timestamp, !!binary, local tags, and anything that did not
	// decode as its tag says: the text as written.
	return n.Value
}

// mapping converts a map node, expanding merge keys (<<): explicit keys win
// over merged ones, and earlier merged maps over later ones.
func (c *converter) mapping(n *yaml.Node, depth int) (map[string]any, error) {
	if depth > yamlMaxDepth {
		return nil, fmt.Errorf("line %d: nested too deeply", n.Line)
	}
	out := make(map[string]any, len(n.Content)/2)
	var merges []*yaml.Node
	seen := map[string]int{} // key → line, for repeated keys
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		if kn.Kind == yaml.ScalarNode && kn.ShortTag() == "!!merge" {
			merges = append(merges, vn)
			continue
		}
		kt, err := c.deref(kn)
		if err != nil {
			return nil, err
		}
		if kt.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("line %d: a key is %s; keys must be plain values", kn.Line, describe(kt))
		}
		k := kt.Value
		if line, dup := seen[k]; dup {
			return nil, fmt.Errorf("line %d: key %q repeated (first at line %d)", kn.Line, k, line)
		}
		seen[k] = kn.Line
		v, err := c.value(vn, depth+1)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = v
	}
	for _, mn := range merges {
		t, err := c.deref(mn)
		if err != nil {
			return nil, err
		}
		var sources []*yaml.Node
		switch t.Kind {
		case yaml.MappingNode:
			sources = []*yaml.Node{mn}
		case yaml.SequenceNode:
			sources = t.Content
		default:
			return nil, fmt.Errorf("line %d: merge key << wants a map or a list of maps, not %s", mn.Line, describe(t))
		}
		for _, src := range sources {
			v, err := c.value(src, depth+1)
			if err != nil {
				return nil, err
			}
			m, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("line %d: merge key << wants maps, not %s", src.Line, describe(src))
			}
			for k, e := range m {
				if _, taken := out[k]; !taken {
					out[k] = e
				}
			}
		}
	}
	return out, nil
}
