package filter

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
)

// pyPatcher rewrites the parsed expr tree so every operation follows the
// Python rules in pyvalue.go instead of expr's own: field access, indexes,
// slices, comparisons, in, not, method calls, and the Python meaning of
// and/or (the result is an operand, chosen by truthiness, short-circuited).
type pyPatcher struct {
	vars int // variables created for and/or
}

// boolOp builds `let t = left; py_truth(t) ? right : t` for and, and
// `let t = left; py_truth(t) ? t : right` for or. Binding left to a
// variable keeps the tree linear: reusing the left node in two places would
// double the tree at every level of a chain like a and b and c ...
func (p *pyPatcher) boolOp(loc file.Location, left, right ast.Node, and bool) ast.Node {
	p.vars++
	name := "py_t" + strconv.Itoa(p.vars)
	ref := func() ast.Node {
		id := &ast.IdentifierNode{Value: name}
		id.SetLocation(loc)
		return id
	}
	cond := &ast.ConditionalNode{Cond: call("py_truth", loc, ref())}
	if and {
		cond.Exp1, cond.Exp2 = right, ref()
	} else {
		cond.Exp1, cond.Exp2 = ref(), right
	}
	cond.SetLocation(loc)
	return &ast.VariableDeclaratorNode{Name: name, Value: left, Expr: cond}
}

func call(name string, loc file.Location, args ...ast.Node) *ast.CallNode {
	callee := &ast.IdentifierNode{Value: name}
	callee.SetLocation(loc)
	n := &ast.CallNode{Callee: callee, Arguments: args}
	n.SetLocation(loc)
	return n
}

func nilIfAbsent(n ast.Node, loc file.Location) ast.Node {
	if n != nil {
		return n
	}
	nn := &ast.NilNode{}
	nn.SetLocation(loc)
	return nn
}

var binaryFuncs = map[string]string{
	"==": "py_eq",
	"!=": "py_ne",
	"<":  "py_lt",
	"<=": "py_le",
	">":  "py_gt",
	">=": "py_ge",
	"in": "py_in",
}

// Visit is called after the node's children have been visited (ast.Walk is
// post-order), so a method call's callee is still a MemberNode when the
// CallNode itself is visited.
func (p *pyPatcher) Visit(node *ast.Node) {
	loc := (*node).Location()
	switch n := (*node).(type) {
	case *ast.MemberNode:
		if n.Method {
			return // rewritten with its CallNode
		}
		if c, ok := n.Property.(*ast.CallNode); ok && len(c.Arguments) == 1 {
			if id, ok := c.Callee.(*ast.IdentifierNode); ok && id.Value == "py_index" {
				ast.Patch(node, call("py_item", loc, n.Node, c.Arguments[0]))
				return
			}
		}
		if _, ok := n.Property.(*ast.StringNode); ok {
			ast.Patch(node, call("py_attr", loc, n.Node, n.Property))
			return
		}
		ast.Patch(node, call("py_item", loc, n.Node, n.Property))
	case *ast.CallNode:
		m, ok := n.Callee.(*ast.MemberNode)
		if !ok || !m.Method {
			return
		}
		name, ok := m.Property.(*ast.StringNode)
		if !ok {
			return
		}
		args := append([]ast.Node{m.Node}, n.Arguments...)
		ast.Patch(node, call(name.Value, loc, args...))
	case *ast.SliceNode:
		ast.Patch(node, call("py_slice", loc, n.Node, nilIfAbsent(n.From, loc), nilIfAbsent(n.To, loc)))
	case *ast.UnaryNode:
		if n.Operator == "not" || n.Operator == "!" {
			ast.Patch(node, call("py_not", loc, n.Node))
		}
	case *ast.BinaryNode:
		switch n.Operator {
		case "and", "&&":
			// Python: a and b == (b if a else a), with a evaluated once.
			ast.Patch(node, p.boolOp(loc, n.Left, n.Right, true))
		case "or", "||":
			// Python: a or b == (a if a else b), with a evaluated once.
			ast.Patch(node, p.boolOp(loc, n.Left, n.Right, false))
		default:
			if fn, ok := binaryFuncs[n.Operator]; ok {
				ast.Patch(node, call(fn, loc, n.Left, n.Right))
			}
		}
	}
}

// fn1 and fn2 adapt fixed-arity Go functions to expr.Function. Arity is checked
// by the translator and by expr's type check, so args has the right length.
func fn1(f func(a any) (any, error)) func(...any) (any, error) {
	return func(args ...any) (any, error) { return f(args[0]) }
}

func fn2(f func(a, b any) (any, error)) func(...any) (any, error) {
	return func(args ...any) (any, error) { return f(args[0], args[1]) }
}

func boolFn2(f func(a, b any) bool) func(...any) (any, error) {
	return func(args ...any) (any, error) { return f(args[0], args[1]), nil }
}

func cmpFn(op string) func(...any) (any, error) {
	return func(args ...any) (any, error) { return pyCompare(op, args[0], args[1]) }
}

// strMethod builds a string method: None yields None (a missing field),
// other non-strings are an AttributeError.
func strMethod(name string, f func(s string, args []any) (any, error)) func(...any) (any, error) {
	return func(args ...any) (any, error) {
		recv := unref(args[0])
		if recv == nil {
			return nil, nil
		}
		s, ok := asString(recv)
		if !ok {
			return nil, errNotString(name, recv)
		}
		return f(s, args[1:])
	}
}

func affix(name string, test func(s, p string) bool) func(...any) (any, error) {
	return strMethod(name, func(s string, args []any) (any, error) {
		ps, err := prefixes(name, args[0])
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if test(s, p) {
				return true, nil
			}
		}
		return false, nil
	})
}

func stripper(name string, cut func(s string, f func(rune) bool) string) func(...any) (any, error) {
	return strMethod(name, func(s string, args []any) (any, error) {
		if len(args) == 0 || unref(args[0]) == nil {
			return cut(s, unicode.IsSpace), nil
		}
		chars, ok := asString(unref(args[0]))
		if !ok {
			return nil, errorf("%s arg must be None or str, not %s", name, typeName(args[0]))
		}
		return cut(s, func(r rune) bool { return strings.ContainsRune(chars, r) }), nil
	})
}

// Types used only for expr's compile-time checks.
var (
	anyToAny     = new(func(any) any)
	anyToBool    = new(func(any) bool)
	anyAnyToAny  = new(func(any, any) any)
	anyAnyToBool = new(func(any, any) bool)
)

// exprOptions returns the expr configuration shared by every segment.
func exprOptions() []expr.Option {
	return []expr.Option{
		expr.Env(map[string]any{}),
		expr.AllowUndefinedVariables(),
		expr.DisableAllBuiltins(),
		expr.Patch(&pyPatcher{}),
		expr.Function("py_index", fn1(func(a any) (any, error) { return a, nil }), anyToAny),
		expr.Function("py_attr", fn2(func(a, b any) (any, error) {
			name, _ := b.(string)
			return getAttr(a, name), nil
		}), anyAnyToAny),
		expr.Function("py_item", fn2(getItem), anyAnyToAny),
		expr.Function("py_slice", func(args ...any) (any, error) { return getSlice(args[0], args[1], args[2]) },
			new(func(any, any, any) any)),
		expr.Function("py_eq", boolFn2(pyEqual), anyAnyToBool),
		expr.Function("py_ne", boolFn2(func(a, b any) bool { return !pyEqual(a, b) }), anyAnyToBool),
		expr.Function("py_lt", cmpFn("<"), anyAnyToBool),
		expr.Function("py_le", cmpFn("<="), anyAnyToBool),
		expr.Function("py_gt", cmpFn(">"), anyAnyToBool),
		expr.Function("py_ge", cmpFn(">="), anyAnyToBool),
		expr.Function("py_in", fn2(func(a, b any) (any, error) { return pyIn(a, b) }), anyAnyToBool),
		expr.Function("py_not", fn1(func(a any) (any, error) { return !truthy(a), nil }), anyToBool),
		expr.Function("py_truth", fn1(func(a any) (any, error) { return truthy(a), nil }), anyToBool),
		expr.Function("len", fn1(pyLen), anyToAny),
		expr.Function("startswith", affix("startswith", strings.HasPrefix), anyAnyToAny),
		expr.Function("endswith", affix("endswith", strings.HasSuffix), anyAnyToAny),
		expr.Function("lower", strMethod("lower", func(s string, _ []any) (any, error) { return strings.ToLower(s), nil }), anyToAny),
		expr.Function("upper", strMethod("upper", func(s string, _ []any) (any, error) { return strings.ToUpper(s), nil }), anyToAny),
		expr.Function("strip", stripper("strip", strings.TrimFunc), anyToAny, anyAnyToAny),
		expr.Function("lstrip", stripper("lstrip", strings.TrimLeftFunc), anyToAny, anyAnyToAny),
		expr.Function("rstrip", stripper("rstrip", strings.TrimRightFunc), anyToAny, anyAnyToAny),
	}
}
