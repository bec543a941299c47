package filter

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file tokenises the Python-flavoured expression syntax. Every token
// keeps its byte span in the original filter text, so errors found later
// (here, in the translation, or by expr) point at what the user wrote.

type tokKind int

const (
	tSubject tokKind = iota + 1 // @inv, @res, @scenario_inv
	tName                       // identifiers and keywords
	tNumber                     // int64 or float64 in num
	tString                     // decoded value in str
	tOp                         // == != < <= > >= + -
	tPunct                      // ( ) [ ] , : .
	tPipe                       // |
)

type token struct {
	kind     tokKind
	pos, end int    // byte span in the filter text
	text     string // source text (names, operators, punctuation)
	str      string // decoded value of a string literal
	num      any    // int64 or float64 for numbers
}

// knownKeys are the subject keys Compile accepts.
var knownKeys = []string{"inv", "res", "scenario_inv"}

// lex splits src into tokens. String literals are decoded here, so their
// contents are never mistaken for operators or separators.
func lex(src, key string) ([]token, error) {
	if !utf8.ValidString(src) {
		pos := 0
		for pos < len(src) {
			r, size := utf8.DecodeRuneInString(src[pos:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			pos += size
		}
		return nil, synErr(src, pos, "invalid UTF-8 in filter")
	}
	var toks []token
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '@':
			j := i + 1
			for j < len(src) && isIdentByte(src[j]) {
				j++
			}
			word := src[i+1 : j]
			switch {
			case word == key:
				toks = append(toks, token{kind: tSubject, pos: i, end: j, text: src[i:j]})
			case word == "":
				return nil, synErr(src, i, "unexpected '@' (the subject is written @"+key+")")
			case isKnownKey(word):
				return nil, synErr(src, i, "@"+word+" is not available in this filter; the subject is @"+key)
			default:
				return nil, synErr(src, i, "unknown subject @"+word+"; the subject is @"+key)
			}
			i = j
		case c == '"' || c == '\'':
			t, err := lexString(src, i, i, false)
			if err != nil {
				return nil, err
			}
			toks = appendString(toks, t)
			i = t.end
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			t, err := lexNumber(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i = t.end
		case isIdentStart(src, i):
			j := i
			for j < len(src) {
				r, size := utf8.DecodeRuneInString(src[j:])
				if r != '_' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
					break
				}
				j += size
			}
			word := src[i:j]
			if j < len(src) && (src[j] == '"' || src[j] == '\'') {
				switch strings.ToLower(word) {
				case "r", "u":
					t, err := lexString(src, i, j, strings.EqualFold(word, "r"))
					if err != nil {
						return nil, err
					}
					toks = appendString(toks, t)
					i = t.end
					continue
				case "b", "br", "rb", "f", "fr", "rf":
					return nil, synErr(src, i, "bytes and f-string literals are not supported")
				}
			}
			toks = append(toks, token{kind: tName, pos: i, end: j, text: word})
			i = j
		default:
			t, err := lexOperator(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i = t.end
		}
	}
	return toks, nil
}

func isKnownKey(word string) bool {
	for _, k := range knownKeys {
		if word == k {
			return true
		}
	}
	return false
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isIdentStart(src string, i int) bool {
	r, _ := utf8.DecodeRuneInString(src[i:])
	return r == '_' || unicode.IsLetter(r)
}

// appendString adds a string token, joining it to a directly preceding
// string literal the way Python concatenates adjacent literals ("a" "b").
func appendString(toks []token, t token) []token {
	if n := len(toks); n > 0 && toks[n-1].kind == tString {
		toks[n-1].str += t.str
		toks[n-1].end = t.end
		toks[n-1].text = ""
		return toks
	}
	return append(toks, t)
}

// lexString reads a Python string literal whose prefix starts at start and
// whose opening quote is at q. Escapes are decoded unless raw.
func lexString(src string, start, q int, raw bool) (token, error) {
	quote := src[q]
	var b strings.Builder
	i := q + 1
	for {
		if i >= len(src) || src[i] == '\n' {
			return token{}, synErr(src, start, "unterminated string literal")
		}
		c := src[i]
		if c == quote {
			return token{kind: tString, pos: start, end: i + 1, text: src[start : i+1], str: b.String()}, nil
		}
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(src) {
			return token{}, synErr(src, start, "unterminated string literal")
		}
		if raw {
			// A backslash keeps itself and the next character, which may be a quote.
			b.WriteByte('\\')
			r, size := utf8.DecodeRuneInString(src[i+1:])
			b.WriteRune(r)
			i += 1 + size
			continue
		}
		n, err := decodeEscape(src, i, &b)
		if err != nil {
			return token{}, err
		}
		i += n
	}
}

// decodeEscape decodes the Python escape sequence at src[i] (a backslash)
// into b and returns its length.
func decodeEscape(src string, i int, b *strings.Builder) (int, error) {
	c := src[i+1]
	switch c {
	case '\n':
		return 2, nil // line continuation
	case '\\', '\'', '"':
		b.WriteByte(c)
		return 2, nil
	case 'a':
		b.WriteByte('\a')
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'v':
		b.WriteByte('\v')
	case '0', '1', '2', '3', '4', '5', '6', '7':
		n, v := 1, rune(c-'0')
		for n < 3 && i+1+n < len(src) && src[i+1+n] >= '0' && src[i+1+n] <= '7' {
			v = v*8 + rune(src[i+1+n]-'0')
			n++
		}
		b.WriteRune(v)
		return 1 + n, nil
	case 'x', 'u', 'U':
		digits := map[byte]int{'x': 2, 'u': 4, 'U': 8}[c]
		if i+2+digits > len(src) {
			return 0, synErr(src, i, "truncated \\"+string(c)+" escape")
		}
		v, err := strconv.ParseUint(src[i+2:i+2+digits], 16, 32)
		if err != nil || strings.ContainsAny(src[i+2:i+2+digits], "+-_") {
			return 0, synErr(src, i, "truncated \\"+string(c)+" escape")
		}
		if v > unicode.MaxRune {
			return 0, synErr(src, i, "illegal Unicode character in \\U escape")
		}
		b.WriteRune(rune(v))
		return 2 + digits, nil
	case 'N':
		return 0, synErr(src, i, "\\N{...} escapes are not supported")
	default:
		// Python keeps unknown escapes as they are (with a warning).
		b.WriteByte('\\')
		return 1, nil
	}
	return 2, nil
}

// lexNumber reads a Python int or float literal.
func lexNumber(src string, i int) (token, error) {
	j := i
	isFloat := false
	base := 10
	if src[j] == '0' && j+1 < len(src) && strings.IndexByte("xXoObB", src[j+1]) >= 0 {
		base = map[byte]int{'x': 16, 'o': 8, 'b': 2}[src[j+1]|0x20]
		j += 2
		for j < len(src) && (isIdentByte(src[j])) {
			j++
		}
	} else {
		for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '_') {
			j++
		}
		if j < len(src) && src[j] == '.' {
			isFloat = true
			j++
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '_') {
				j++
			}
		}
		if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
			k := j + 1
			if k < len(src) && (src[k] == '+' || src[k] == '-') {
				k++
			}
			if k < len(src) && src[k] >= '0' && src[k] <= '9' {
				isFloat = true
				j = k
				for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '_') {
					j++
				}
			}
		}
	}
	if j < len(src) && (isIdentByte(src[j]) || src[j] >= utf8.RuneSelf && isIdentStart(src, j)) {
		return token{}, synErr(src, i, "invalid number literal")
	}
	text := src[i:j]
	if !validUnderscores(text, base) {
		return token{}, synErr(src, i, "invalid number literal "+strconv.Quote(text))
	}
	clean := strings.ReplaceAll(text, "_", "")
	t := token{kind: tNumber, pos: i, end: j, text: text}
	if isFloat {
		f, err := strconv.ParseFloat(clean, 64)
		if err != nil || math.IsInf(f, 0) {
			return token{}, synErr(src, i, "float literal out of range")
		}
		t.num = f
		return t, nil
	}
	digits := clean
	if base != 10 {
		digits = clean[2:]
	} else if len(clean) > 1 && clean[0] == '0' && strings.Trim(clean, "0") != "" {
		return token{}, synErr(src, i, "leading zeros in decimal integer literals are not permitted")
	}
	if digits == "" {
		return token{}, synErr(src, i, "invalid number literal "+strconv.Quote(text))
	}
	n, err := strconv.ParseInt(digits, base, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return token{}, synErr(src, i, "integer literal too large")
		}
		return token{}, synErr(src, i, "invalid number literal "+strconv.Quote(text))
	}
	t.num = n
	return t, nil
}

// validUnderscores applies Python's rule: an underscore only between digits
// (or right after the base prefix).
func validUnderscores(text string, base int) bool {
	if !strings.Contains(text, "_") {
		return true
	}
	body := text
	if base != 10 {
		body = text[2:]
		if strings.HasPrefix(body, "_") {
			body = body[1:]
		}
	}
	isDigit := func(c byte) bool {
		switch base {
		case 16:
			return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
		case 8:
			return c >= '0' && c <= '7'
		case 2:
			return c == '0' || c == '1'
		}
		return c >= '0' && c <= '9'
	}
	for k := 0; k < len(body); k++ {
		if body[k] == '_' && (k == 0 || k == len(body)-1 || !isDigit(body[k-1]) || !isDigit(body[k+1])) {
			return false
		}
	}
	return true
}

// lexOperator reads punctuation and operators, rejecting those filters do
// not support with a message naming the alternative.
func lexOperator(src string, i int) (token, error) {
	two := ""
	if i+1 < len(src) {
		two = src[i : i+2]
	}
	switch two {
	case "==", "!=", "<=", ">=":
		return token{kind: tOp, pos: i, end: i + 2, text: two}, nil
	case "<<", ">>", "**", "//", "->", ":=":
		return token{}, synErr(src, i, "operator "+two+" is not supported in filters")
	}
	c := src[i]
	switch c {
	case '<', '>', '+', '-':
		return token{kind: tOp, pos: i, end: i + 1, text: string(c)}, nil
	case '(', ')', '[', ']', ',', ':', '.':
		return token{kind: tPunct, pos: i, end: i + 1, text: string(c)}, nil
	case '|':
		return token{kind: tPipe, pos: i, end: i + 1, text: "|"}, nil
	case '=':
		return token{}, synErr(src, i, "unexpected '=' (use == to compare)")
	case '!':
		return token{}, synErr(src, i, "unexpected '!' (use != to compare, or not to negate)")
	case '*', '/', '%', '&', '^', '~':
		return token{}, synErr(src, i, "operator "+string(c)+" is not supported in filters")
	}
	r, _ := utf8.DecodeRuneInString(src[i:])
	return token{}, synErr(src, i, "unexpected character "+strconv.QuoteRune(r))
}
