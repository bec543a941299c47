package filter

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file translates one segment of Python-flavoured tokens into expr
// source. The translation is token by token; what expr's grammar cannot
// express the Python way is spelled out here:
//
//   - @inv becomes the expr variable inv (res, scenario_inv likewise);
//   - a.b becomes a["b"] and a[i] becomes a[py_index(i)], so the patcher
//     (patch.go) can tell attribute access from subscripts;
//   - (x, y) becomes the list [x, y] (tuples and lists behave alike here);
//   - True/False/None become true/false/nil, is/is not become ==/!=;
//   - not X becomes not (X ...) up to the next and/or, because Python's not
//     binds looser than comparisons while expr's binds tighter.
//
// Each emitted piece remembers the byte offset of the user's token it came
// from, so expr's error positions can be reported against the original text.

// maxDepth bounds bracket nesting, keeping expr's recursive parser shallow.
const maxDepth = 100

// methods lists the supported string methods with their argument counts.
var methods = map[string][2]int{
	"startswith": {1, 1},
	"endswith":   {1, 1},
	"lower":      {0, 0},
	"upper":      {0, 0},
	"strip":      {0, 1},
	"lstrip":     {0, 1},
	"rstrip":     {0, 1},
}

const methodList = ".startswith(), .endswith(), .lower(), .upper(), .strip(), .lstrip(), .rstrip()"

// piece maps a span of the expr source back to the user's text.
type piece struct{ from, to, orig int }

type emitter struct {
	b      strings.Builder
	pieces []piece
}

func (e *emitter) emit(s string, orig int) {
	if e.b.Len() > 0 {
		e.b.WriteByte(' ')
	}
	from := e.b.Len()
	e.b.WriteString(s)
	e.pieces = append(e.pieces, piece{from: from, to: e.b.Len(), orig: orig})
}

// group describes a bracket pair found by matchBrackets.
type group struct {
	close  int // token index of the closing bracket
	commas int // commas directly inside
	colons int // colons directly inside
	args   int // number of comma-separated items (a trailing comma adds none)
}

// matchBrackets pairs brackets and counts what sits directly inside each.
func matchBrackets(src string, ts []token) (map[int]*group, error) {
	groups := map[int]*group{}
	var stack []int
	for i, t := range ts {
		if t.kind != tPunct {
			continue
		}
		switch t.text {
		case "(", "[":
			if len(stack) >= maxDepth {
				return nil, synErr(src, t.pos, "brackets nested too deeply")
			}
			stack = append(stack, i)
			groups[i] = &group{}
		case ")", "]":
			if len(stack) == 0 {
				return nil, synErr(src, t.pos, "unmatched '"+t.text+"'")
			}
			open := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if want := map[string]string{"(": ")", "[": "]"}[ts[open].text]; want != t.text {
				return nil, synErr(src, t.pos, "closing '"+t.text+"' does not match '"+ts[open].text+"'")
			}
			g := groups[open]
			g.close = i
			if i > open+1 {
				g.args = g.commas + 1
				if ts[i-1].kind == tPunct && ts[i-1].text == "," {
					g.args--
				}
			}
		case ",", ":":
			if len(stack) == 0 {
				if t.text == "," {
					return nil, synErr(src, t.pos, "unexpected ',' (write tuples in parentheses)")
				}
				return nil, synErr(src, t.pos, "unexpected ':'")
			}
			g := groups[stack[len(stack)-1]]
			if t.text == "," {
				g.commas++
			} else {
				g.colons++
			}
		}
	}
	if len(stack) > 0 {
		open := ts[stack[len(stack)-1]]
		return nil, synErr(src, open.pos, "'"+open.text+"' was never closed")
	}
	return groups, nil
}

// frame is an open bracket during translation.
type frame struct {
	kind byte // 'G' grouping, 'T' tuple, 'C' call, 'L' list, 'I' index, 'S' slice
}

// cmpState tracks the comparisons in one run of a comparison chain.
type cmpState struct {
	count  int
	strict bool // an operator other than < <= > >= appeared
}

// translation is the result of translating one segment.
type translation struct {
	src       string
	pieces    []piece
	listLevel bool
}

// translate turns the tokens of one segment into expr source.
func translate(src, key string, ts []token, end int) (*translation, error) {
	groups, err := matchBrackets(src, ts)
	if err != nil {
		return nil, err
	}
	var (
		e          emitter
		frames     []frame
		nots       []int // depth of each open `not (`
		cmps       = []cmpState{{}}
		operand    bool   // the last token ends an operand
		callable   string // "len" or a method name when a call may follow
		hasSubject bool
		listLevel  bool
		depth      = func() int { return len(frames) }
		closeNots  = func(orig int) {
			for len(nots) > 0 && nots[len(nots)-1] == depth() {
				e.emit(")", orig)
				nots = nots[:len(nots)-1]
			}
		}
	)
	next := func(i int) *token {
		if i+1 < len(ts) {
			return &ts[i+1]
		}
		return nil
	}
	isPunct := func(t *token, p string) bool { return t != nil && t.kind == tPunct && t.text == p }
	isName := func(t *token, n string) bool { return t != nil && t.kind == tName && t.text == n }
	comparison := func(t token, strict bool) error {
		if !operand {
			return nil // a misplaced operator: expr reports it
		}
		st := &cmps[len(cmps)-1]
		st.count++
		st.strict = st.strict || strict
		if st.count > 1 && st.strict {
			return synErr(src, t.pos, "chained comparisons are only supported with <, <=, > and >=; join the tests with and")
		}
		return nil
	}

	for i := 0; i < len(ts); i++ {
		t := ts[i]
		wasCallable := callable
		callable = ""
		switch t.kind {
		case tSubject:
			hasSubject = true
			if n := next(i); isPunct(n, "[") {
				listLevel = true
				if i+3 < len(ts) && ts[i+2].kind == tString && isPunct(&ts[i+3], "]") {
					field := ts[i+2].str
					if !isIdentifier(field) {
						field = "<field>"
					}
					return nil, synErr(src, n.pos, t.text+"[...] selects items by position; to read a field of each item write "+
						t.text+"."+field)
				}
			}
			e.emit(key, t.pos)
			operand = true

		case tNumber:
			switch n := t.num.(type) {
			case int64:
				e.emit(strconv.FormatInt(n, 10), t.pos)
			case float64:
				// The 'e' form always reads back as a float in expr.
				e.emit(strconv.FormatFloat(n, 'e', -1, 64), t.pos)
			}
			operand = true

		case tString:
			e.emit(strconv.Quote(t.str), t.pos)
			operand = true

		case tName:
			switch t.text {
			case "True", "False", "None":
				e.emit(map[string]string{"True": "true", "False": "false", "None": "nil"}[t.text], t.pos)
				operand = true
			case "and", "or":
				closeNots(t.pos)
				cmps[len(cmps)-1] = cmpState{}
				e.emit(t.text, t.pos)
				operand = false
			case "not":
				if operand {
					n := next(i)
					if !isName(n, "in") {
						return nil, synErr(src, t.pos, "unexpected 'not' after a value (did you mean 'not in'?)")
					}
					if err := comparison(t, true); err != nil {
						return nil, err
					}
					e.emit("not", t.pos)
					e.emit("in", n.pos)
					i++
					operand = false
					break
				}
				cmps[len(cmps)-1] = cmpState{}
				e.emit("not", t.pos)
				e.emit("(", t.pos)
				nots = append(nots, depth())
			case "in":
				if err := comparison(t, true); err != nil {
					return nil, err
				}
				e.emit("in", t.pos)
				operand = false
			case "is":
				if err := comparison(t, true); err != nil {
					return nil, err
				}
				if n := next(i); isName(n, "not") {
					e.emit("!=", t.pos)
					i++
				} else {
					e.emit("==", t.pos)
				}
				operand = false
			case "len":
				if !isPunct(next(i), "(") {
					return nil, synErr(src, t.pos, "len must be called: len(...)")
				}
				e.emit("len", t.pos)
				callable = "len"
				operand = false
			default:
				return nil, synErr(src, t.pos, unknownName(t.text, key))
			}

		case tOp:
			switch t.text {
			case "+", "-":
				if operand {
					return nil, synErr(src, t.pos, "arithmetic is not supported in filters")
				}
				e.emit(t.text, t.pos)
			default:
				strict := t.text == "==" || t.text == "!="
				if err := comparison(t, strict); err != nil {
					return nil, err
				}
				e.emit(t.text, t.pos)
			}
			operand = false

		case tPunct:
			switch t.text {
			case ".":
				n := next(i)
				if n == nil || n.kind != tName {
					return nil, synErr(src, t.pos, "expected a field name after '.'")
				}
				if !operand {
					return nil, synErr(src, t.pos, "unexpected '.'")
				}
				if open := i + 2; open < len(ts) && isPunct(&ts[open], "(") {
					arity, ok := methods[n.text]
					if !ok {
						return nil, synErr(src, n.pos, "unsupported method ."+n.text+"(); filters support "+methodList)
					}
					if g := groups[open]; g.args < arity[0] || g.args > arity[1] {
						return nil, synErr(src, ts[open].pos, "."+n.text+"() "+takes(arity, g.args))
					}
					e.emit(".", t.pos)
					e.emit(n.text, n.pos)
					callable = n.text
					operand = false
				} else {
					e.emit("[", t.pos)
					e.emit(strconv.Quote(n.text), n.pos)
					e.emit("]", n.pos)
					operand = true
				}
				i++

			case "(":
				g := groups[i]
				switch {
				case wasCallable != "":
					if wasCallable == "len" && g.args != 1 {
						return nil, synErr(src, t.pos, "len() "+takes([2]int{1, 1}, g.args))
					}
					frames = append(frames, frame{kind: 'C'})
					e.emit("(", t.pos)
				case operand:
					return nil, synErr(src, t.pos, "only len() and the string methods "+methodList+" can be called")
				case g.commas > 0 || g.close == i+1:
					frames = append(frames, frame{kind: 'T'})
					e.emit("[", t.pos)
				default:
					frames = append(frames, frame{kind: 'G'})
					e.emit("(", t.pos)
				}
				cmps = append(cmps, cmpState{})
				operand = false

			case "[":
				g := groups[i]
				switch {
				case !operand:
					frames = append(frames, frame{kind: 'L'})
					e.emit("[", t.pos)
				case g.close == i+1:
					return nil, synErr(src, t.pos, "empty subscript")
				case g.colons > 1:
					return nil, synErr(src, t.pos, "slice steps are not supported")
				case g.commas > 0:
					return nil, synErr(src, t.pos, "only one index or slice may be given in a subscript")
				case g.colons == 1:
					frames = append(frames, frame{kind: 'S'})
					e.emit("[", t.pos)
				default:
					frames = append(frames, frame{kind: 'I'})
					e.emit("[", t.pos)
					e.emit("py_index", t.pos)
					e.emit("(", t.pos)
				}
				cmps = append(cmps, cmpState{})
				operand = false

			case ")", "]":
				closeNots(t.pos)
				cmps = cmps[:len(cmps)-1]
				f := frames[len(frames)-1]
				frames = frames[:len(frames)-1]
				switch f.kind {
				case 'G', 'C':
					e.emit(")", t.pos)
				case 'I':
					e.emit(")", t.pos)
					e.emit("]", t.pos)
				default:
					e.emit("]", t.pos)
				}
				operand = true

			case ",":
				closeNots(t.pos)
				cmps[len(cmps)-1] = cmpState{}
				e.emit(",", t.pos)
				operand = false

			case ":":
				if len(frames) == 0 || frames[len(frames)-1].kind != 'S' {
					return nil, synErr(src, t.pos, "unexpected ':'")
				}
				closeNots(t.pos)
				cmps[len(cmps)-1] = cmpState{}
				e.emit(":", t.pos)
				operand = false
			}
		}
	}
	closeNots(end)
	if !hasSubject {
		return nil, synErr(src, ts[0].pos, "this segment does not use @"+key+" (every segment of an expression filter must)")
	}
	return &translation{src: e.b.String(), pieces: e.pieces, listLevel: listLevel}, nil
}

func takes(arity [2]int, got int) string {
	want := strconv.Itoa(arity[0])
	switch {
	case arity[0] != arity[1]:
		want = "from " + strconv.Itoa(arity[0]) + " to " + strconv.Itoa(arity[1]) + " arguments"
	case arity[0] == 1:
		want = "exactly one argument"
	case arity[0] == 0:
		want = "no arguments"
	}
	return "takes " + want + " (" + strconv.Itoa(got) + " given)"
}

func unknownName(name, key string) string {
	switch strings.ToLower(name) {
	case "true", "false", "none", "null", "nil":
		return "unknown name " + name + " (Python spells the constants True, False and None)"
	}
	switch name {
	case "if", "else", "lambda", "for", "while", "def", "class", "import", "from", "return", "yield",
		"async", "await", "with", "as", "try", "except", "finally", "raise", "del", "global",
		"nonlocal", "pass", "break", "continue", "assert":
		return "'" + name + "' is not supported in filters"
	}
	return "unknown name " + name + " (record fields are written @" + key + "." + name + ")"
}

// origPos maps a rune offset in the expr source back to a byte offset in
// the filter text. Offsets past the last piece map to end.
func (t *translation) origPos(runeOffset, end int) (pos int, atEnd bool) {
	b := 0
	for n := 0; n < runeOffset && b < len(t.src); n++ {
		_, size := utf8.DecodeRuneInString(t.src[b:])
		b += size
	}
	for _, p := range t.pieces {
		if b < p.to {
			return p.orig, false
		}
	}
	return end, true
}

// isIdentifier reports whether s can be written after a dot.
func isIdentifier(s string) bool {
	for i, r := range s {
		if r != '_' && !unicode.IsLetter(r) && (i == 0 || !unicode.IsDigit(r)) {
			return false
		}
	}
	return s != ""
}
