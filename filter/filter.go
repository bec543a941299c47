package filter

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// Filter is a compiled filter. It is immutable and safe for concurrent use.
// A nil *Filter keeps every item.
type Filter struct {
	src    string
	key    string
	legacy bool
	tests  []legacyTest // legacy syntax
	segs   []*segment   // expression syntax, applied in order
}

// segment is one |-separated part of an expression filter.
type segment struct {
	*translation
	key   string
	prog  *vm.Program
	start int // byte offset of the segment's first token
	end   int // byte offset just past its last token
}

// otherSubject finds an @key for a known key in the text.
var otherSubject = regexp.MustCompile(`@(inv|res|scenario_inv)\b`)

// Compile parses a filter for subject key "inv" (--filter over inventory
// records, written @inv), "res" (--results-filter over provider listings,
// written @res) or "scenario_inv" (scenario hosts, written @scenario_inv).
//
// The syntax is chosen from the text: the expression syntax when it contains
// "@<key>", the legacy syntax otherwise when it contains a legacy operator
// (<, =, {, }). Anything else is a *SyntaxError (upstream silently ignored
// such filters and matched everything). Every problem found before running
// is reported as a *SyntaxError with the position in src.
func Compile(src, key string) (f *Filter, err error) {
	if !isKnownKey(key) {
		return nil, fmt.Errorf("filter: unknown subject key %q (want inv, res or scenario_inv)", key)
	}
	defer func() {
		// expr's compiler is not expected to panic, but a filter comes from
		// the user: never let one crash the program.
		if r := recover(); r != nil {
			f, err = nil, synErr(src, 0, fmt.Sprintf("internal error compiling filter: %v", r))
		}
	}()
	if strings.TrimSpace(src) == "" {
		return nil, synErr(src, 0, "empty filter")
	}
	f = &Filter{src: src, key: key}
	if strings.Contains(src, "@"+key) {
		if f.segs, err = compileExpression(src, key); err != nil {
			return nil, err
		}
		return f, nil
	}
	if m := otherSubject.FindStringSubmatchIndex(src); m != nil {
		word := src[m[2]:m[3]]
		return nil, synErr(src, m[0], "@"+word+" is not available in this filter; the subject is @"+key)
	}
	if isLegacy(src) {
		f.legacy = true
		f.tests, err = parseLegacy(src, key)
		if err != nil {
			return nil, err
		}
		return f, nil
	}
	return nil, synErr(src, 0, "not a filter: an expression must use @"+key+
		" (e.g. '\"rhel\" in @"+key+".name') and a legacy filter needs an operator (<, =, {, })")
}

// compileExpression splits the token stream on | and compiles each segment.
func compileExpression(src, key string) ([]*segment, error) {
	toks, err := lex(src, key)
	if err != nil {
		return nil, err
	}
	var segs []*segment
	start := 0
	for i := 0; i <= len(toks); i++ {
		if i < len(toks) && toks[i].kind != tPipe {
			continue
		}
		ts := toks[start:i]
		if len(ts) == 0 {
			pos := len(src)
			if i < len(toks) {
				pos = toks[i].pos
			}
			return nil, synErr(src, pos, "empty filter segment")
		}
		seg, err := compileSegment(src, key, ts)
		if err != nil {
			return nil, err
		}
		segs = append(segs, seg)
		start = i + 1
	}
	return segs, nil
}

func compileSegment(src, key string, ts []token) (*segment, error) {
	end := ts[len(ts)-1].end
	tr, err := translate(src, key, ts, end)
	if err != nil {
		return nil, err
	}
	seg := &segment{translation: tr, key: key, start: ts[0].pos, end: end}
	seg.prog, err = expr.Compile(tr.src, exprOptions()...)
	if err != nil {
		return nil, seg.syntaxError(src, err)
	}
	return seg, nil
}

// syntaxError converts an expr compile error into a *SyntaxError against
// the user's text.
func (s *segment) syntaxError(src string, err error) error {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return synErr(src, s.start, err.Error())
	}
	pos, atEnd := s.origPos(fe.From, s.end)
	msg := fe.Message
	switch {
	case atEnd || pos >= s.end || strings.HasPrefix(msg, "unexpected token EOF"):
		return synErr(src, s.end, "unexpected end of expression")
	case strings.HasPrefix(msg, "unexpected token"):
		msg = "unexpected " + tokenText(src, s.key, pos)
	}
	return synErr(src, pos, msg)
}

// tokenText quotes the user's token starting at pos.
func tokenText(src, key string, pos int) string {
	toks, _ := lex(src, key)
	for _, t := range toks {
		if t.pos == pos {
			return "'" + src[t.pos:t.end] + "'"
		}
	}
	return "token"
}

// String returns the filter text as given to Compile.
func (f *Filter) String() string {
	if f == nil {
		return ""
	}
	return f.src
}

// Legacy reports whether the filter uses the legacy property<op>value syntax.
func (f *Filter) Legacy() bool { return f != nil && f.legacy }

// Apply runs the filter over items and returns the indexes (into items) of
// the items kept, in result order (a list-level segment such as @inv[-1]
// or @inv[1:3] may reorder; an index is never returned twice). Items are
// JSON-like records (map[string]any) or scalars such as strings. Runtime
// problems (an index out of range, '<' between a string and a number) are
// returned as an *EvalError; Apply never panics.
func (f *Filter) Apply(items []any) (kept []int, err error) {
	if f == nil {
		return seq(len(items)), nil
	}
	defer func() {
		// The filter functions return errors rather than panic and expr
		// recovers panics inside a run; this is the last line of defence.
		if r := recover(); r != nil {
			kept, err = nil, &EvalError{Filter: f.src, Item: -1, Err: fmt.Errorf("internal error: %v", r)}
		}
	}()
	items = plainItems(items)
	if f.legacy {
		return applyLegacy(f.tests, f.key, items), nil
	}
	cur := seq(len(items))
	env := map[string]any{}
	var machine vm.VM
	for _, s := range f.segs {
		if s.listLevel {
			refs := make([]any, len(cur))
			for j, idx := range cur {
				refs[j] = &ref{i: idx, v: items[idx]}
			}
			env[f.key] = refs
			out, err := machine.Run(s.prog, env)
			if err != nil {
				return nil, f.evalError(s, err, -1)
			}
			if cur, err = selection(out, f.key); err != nil {
				return nil, &EvalError{Filter: f.src, Pos: s.start, Item: -1, Err: err}
			}
			continue
		}
		next := make([]int, 0, len(cur))
		for _, idx := range cur {
			env[f.key] = items[idx]
			out, err := machine.Run(s.prog, env)
			if err != nil {
				return nil, f.evalError(s, err, idx)
			}
			if truthy(out) {
				next = append(next, idx)
			}
		}
		cur = next
	}
	return cur, nil
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// selection maps the result of a list-level segment back to item indexes.
// A single item is wrapped as a one-element list.
func selection(out any, key string) ([]int, error) {
	if r, ok := out.(*ref); ok {
		return []int{r.i}, nil
	}
	l, ok := out.([]any)
	if !ok {
		return nil, errorf("a segment indexing @%s must select items of @%s (like @%s[0] or @%s[1:3]), got a %s",
			key, key, key, key, typeName(out))
	}
	kept := make([]int, 0, len(l))
	seen := map[int]bool{}
	for _, x := range l {
		r, ok := x.(*ref)
		if !ok {
			return nil, errorf("a segment indexing @%s must select items of @%s (like @%s[0] or @%s[1:3]), got a list holding a %s",
				key, key, key, key, typeName(x))
		}
		if !seen[r.i] {
			seen[r.i] = true
			kept = append(kept, r.i)
		}
	}
	return kept, nil
}

// evalError converts an expr runtime error into an *EvalError.
func (f *Filter) evalError(s *segment, err error, item int) error {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return &EvalError{Filter: f.src, Pos: s.start, Item: item, Err: err}
	}
	pos, _ := s.origPos(fe.From, s.end)
	var ve *valueError
	if errors.As(fe.Prev, &ve) {
		return &EvalError{Filter: f.src, Pos: pos, Item: item, Err: ve}
	}
	return &EvalError{Filter: f.src, Pos: pos, Item: item, Err: errors.New(fe.Message)}
}

// Select applies f to items of any type (inventory.Host, map[string]any,
// string...) and returns the kept items in result order. A nil f keeps all.
func Select[T any](f *Filter, items []T) ([]T, error) {
	in := make([]any, len(items))
	for i, x := range items {
		in[i] = x
	}
	idx, err := f.Apply(in)
	if err != nil {
		return nil, err
	}
	out := make([]T, len(idx))
	for i, j := range idx {
		out[i] = items[j]
	}
	return out, nil
}

// plainItems converts items of a named map or slice type (inventory.Host)
// to map[string]any or []any once, so the filter functions take their fast
// paths. items is copied only if some item needs converting.
func plainItems(items []any) []any {
	out, copied := items, false
	for i, x := range items {
		switch x.(type) {
		case map[string]any, []any, string, nil:
			continue
		}
		var conv any
		if m, ok := asMap(x); ok {
			conv = m
		} else if l, ok := asList(x); ok {
			conv = l
		} else {
			continue
		}
		if !copied {
			out, copied = slices.Clone(items), true
		}
		out[i] = conv
	}
	return out
}
