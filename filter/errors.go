package filter

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// SyntaxError reports a filter that cannot be compiled. Pos is the 0-based
// byte offset of the problem in Filter (len(Filter) for "unexpected end").
type SyntaxError struct {
	Filter string
	Pos    int
	Msg    string
}

// Error shows the filter with a caret line under the position:
//
//	filter "@inv.hostname ==": unexpected end of expression at column 17
//	  @inv.hostname ==
//	                  ^
func (e *SyntaxError) Error() string {
	return formatAt(e.Filter, "", e.Msg, e.Pos)
}

// EvalError reports a filter that compiled but failed while running, such
// as an index out of range or a comparison between a string and a number.
// Item is the index (into the items given to Apply) of the item being
// tested, or -1 for a list-level segment. Err is the underlying error.
type EvalError struct {
	Filter string
	Pos    int
	Item   int
	Err    error
}

func (e *EvalError) Error() string {
	where := ""
	if e.Item >= 0 {
		where = fmt.Sprintf(" (item %d)", e.Item)
	}
	return formatAt(e.Filter, where, e.Err.Error(), e.Pos)
}

func (e *EvalError) Unwrap() error { return e.Err }

func synErr(src string, pos int, msg string) *SyntaxError {
	return &SyntaxError{Filter: src, Pos: pos, Msg: msg}
}

// formatAt renders `filter "<src>"<where>: <msg> at column N` followed by
// the filter and a caret under the column. Columns count runes, and control
// characters are shown as spaces so the caret stays aligned.
func formatAt(src, where, msg string, pos int) string {
	pos = min(max(pos, 0), len(src))
	col := utf8.RuneCountInString(src[:pos])
	line := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, src)
	// the message counts columns from 1, as editors do; the caret is exact
	return fmt.Sprintf("filter %q%s: %s at column %d\n  %s\n  %s^", src, where, msg, col+1, line, strings.Repeat(" ", col))
}
