package inventory

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// encodeHost is the stored form of a record: a JSON object with sorted keys
// and no HTML escaping.
func encodeHost(h Host) ([]byte, error) {
	if h == nil {
		h = Host{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(map[string]any(h)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// decodeHost parses one stored record. It is a small JSON decoder written
// for the shapes the inventory holds: objects become map[string]any (Host at
// the top), arrays []any, integers int64 (float64 when they do not fit),
// other numbers float64. It accepts exactly the documents encoding/json
// accepts and decodes strings the same way (invalid UTF-8 becomes U+FFFD);
// FuzzDecodeHost checks both against encoding/json. It exists because
// encoding/json's map[string]any path is about four times slower, and List
// reads every record.
func decodeHost(data []byte, in *interner) (Host, error) {
	var d *jsonDecoder
	if in != nil {
		d = &in.dec // reuse the scratch stacks from record to record
	} else {
		d = &jsonDecoder{}
	}
	d.data, d.pos, d.in = data, 0, in
	defer func() { d.data = nil }()
	d.skipSpace()
	if d.pos >= len(d.data) || d.data[d.pos] != '{' {
		return nil, errors.New("record is not a JSON object")
	}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return nil, d.errorf("unexpected data after the record")
	}
	return Host(v.(map[string]any)), nil
}

// maxDepth bounds nesting, as encoding/json does.
const maxDepth = 10000

type jsonDecoder struct {
	data []byte
	pos  int
	in   *interner
	kvs  []kv // scratch stack of object members being collected
	vals []any
}

type kv struct {
	k string
	v any
}

func (d *jsonDecoder) errorf(format string, args ...any) error {
	return fmt.Errorf("invalid record JSON at byte %d: %s", d.pos, fmt.Sprintf(format, args...))
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, d.errorf("nested too deeply")
	}
	d.skipSpace()
	if d.pos >= len(d.data) {
		return nil, d.errorf("unexpected end of data")
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(depth)
	case c == '[':
		return d.array(depth)
	case c == '"':
		b, fast, err := d.str()
		switch {
		case err != nil:
			return nil, err
		case fast:
			return d.in.value(b), nil
		}
		return string(b), nil
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	default:
		return nil, d.errorf("unexpected character %q", c)
	}
}

func (d *jsonDecoder) literal(word string) error {
	if !bytes.HasPrefix(d.data[d.pos:], []byte(word)) {
		return d.errorf("invalid literal")
	}
	d.pos += len(word)
	return nil
}

func (d *jsonDecoder) object(depth int) (any, error) {
	d.pos++ // '{'
	base := len(d.kvs)
	defer func() {
		clear(d.kvs[base:])
		d.kvs = d.kvs[:base]
	}()
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return map[string]any{}, nil
	}
	for {
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, d.errorf("want an object key")
		}
		b, fast, err := d.str()
		if err != nil {
			return nil, err
		}
		var k string
		if fast {
			k = d.in.key(b)
		} else {
			k = string(b)
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, d.errorf("want ':' after an object key")
		}
		d.pos++
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		d.kvs = append(d.kvs, kv{k, v})
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.errorf("unexpected end of data in an object")
		}
		if d.data[d.pos] == ',' {
			d.pos++
			continue
		}
		if d.data[d.pos] != '}' {
			return nil, d.errorf("want ',' or '}' in an object")
		}
		d.pos++
		break
	}
	m := make(map[string]any, len(d.kvs)-base)
	for _, p := range d.kvs[base:] {
		m[p.k] = p.v // a repeated key: the last one wins, as in encoding/json
	}
	return m, nil
}

func (d *jsonDecoder) array(depth int) (any, error) {
	d.pos++ // '['
	base := len(d.vals)
	defer func() {
		clear(d.vals[base:])
		d.vals = d.vals[:base]
	}()
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return []any{}, nil
	}
	for {
		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		d.vals = append(d.vals, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return nil, d.errorf("unexpected end of data in an array")
		}
		if d.data[d.pos] == ',' {
			d.pos++
			continue
		}
		if d.data[d.pos] != ']' {
			return nil, d.errorf("want ',' or ']' in an array")
		}
		d.pos++
		break
	}
	return append([]any(nil), d.vals[base:]...), nil
}

// str decodes a string starting at the opening quote. fast means b is the
// string's bytes in the input, with nothing to unescape (the usual case):
// the caller interns it or copies it. Otherwise b is a new buffer.
func (d *jsonDecoder) str() (b []byte, fast bool, err error) {
	d.pos++ // '"'
	start := d.pos
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		if c == '"' {
			d.pos++
			return d.data[start : d.pos-1], true, nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		d.pos++
	}
	// Slow path: escapes, control characters or non-ASCII bytes.
	buf := make([]byte, 0, d.pos-start+16)
	buf = append(buf, d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return buf, false, nil
		case c < 0x20:
			return nil, false, d.errorf("control character %q in a string", c)
		case c == '\\':
			if d.pos+1 >= len(d.data) {
				return nil, false, d.errorf("unexpected end of data in a string")
			}
			e := d.data[d.pos+1]
			d.pos += 2
			switch e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := d.hex4()
				if !ok {
					return nil, false, d.errorf("invalid \\u escape")
				}
				if utf16.IsSurrogate(r) {
					// A valid pair makes one rune; anything else is U+FFFD
					// (and the next escape is read on its own).
					r2 := rune(-1)
					if d.pos+1 < len(d.data) && d.data[d.pos] == '\\' && d.data[d.pos+1] == 'u' {
						save := d.pos
						d.pos += 2
						var ok2 bool
						if r2, ok2 = d.hex4(); !ok2 {
							return nil, false, d.errorf("invalid \\u escape")
						}
						if utf16.DecodeRune(r, r2) == utf8.RuneError {
							d.pos = save
							r2 = -1
						}
					}
					if r2 >= 0 {
						r = utf16.DecodeRune(r, r2)
					} else {
						r = utf8.RuneError
					}
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return nil, false, d.errorf("invalid escape \\%c", e)
			}
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			d.pos++
		default:
			r, size := utf8.DecodeRune(d.data[d.pos:])
			d.pos += size
			buf = utf8.AppendRune(buf, r) // invalid bytes become U+FFFD
		}
	}
	return nil, false, d.errorf("unexpected end of data in a string")
}

func (d *jsonDecoder) hex4() (rune, bool) {
	if d.pos+4 > len(d.data) {
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.pos : d.pos+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	d.pos += 4
	return r, true
}

// number follows the JSON grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *jsonDecoder) number() (any, error) {
	start := d.pos
	isInt := true
	if d.data[d.pos] == '-' {
		d.pos++
	}
	switch {
	case d.pos < len(d.data) && d.data[d.pos] == '0':
		d.pos++
	case d.pos < len(d.data) && d.data[d.pos] >= '1' && d.data[d.pos] <= '9':
		d.digits()
	default:
		return nil, d.errorf("invalid number")
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		isInt = false
		d.pos++
		if d.digits() == 0 {
			return nil, d.errorf("invalid number")
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		isInt = false
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if d.digits() == 0 {
			return nil, d.errorf("invalid number")
		}
	}
	text := d.data[start:d.pos]
	if isInt {
		if n, ok := parseInt(text); ok {
			return n, nil
		}
	}
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, d.errorf("invalid number %q", text)
	}
	if math.IsInf(f, 0) {
		// encoding/json refuses numbers out of float64 range too.
		return nil, d.errorf("number %s out of range", text)
	}
	return f, nil
}

func (d *jsonDecoder) digits() int {
	n := 0
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		d.pos++
		n++
	}
	return n
}

// parseInt parses a JSON integer that fits in int64, without allocating.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg = true
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		n = n*10 + uint64(c-'0')
	}
	switch {
	case neg && n == 0:
		return 0, false // "-0" is the float -0 (as encoding/json writes it)
	case neg && n <= 1<<63:
		return int64(-n), true //nolint:gosec // -n wraps to MinInt64 for 1<<63, as intended
	case !neg && n < 1<<63:
		return int64(n), true
	}
	return 0, false
}

// interner shares the strings that repeat from record to record (field
// names, provider names, workflow names...) in a small direct-mapped cache,
// cheaper than a Go map for this: a hit costs a short hash and a compare,
// and a value hit also reuses the interface value (no allocation at all).
// It also carries the decoder's scratch stacks. It is used by one
// goroutine.
type interner struct {
	slots [internSlots]internSlot
	dec   jsonDecoder
}

type internSlot struct {
	s string
	v any // s as an interface value
}

const (
	internSlots  = 4096 // a power of two
	internMaxLen = 48   // longer strings (hostnames, UUIDs...) rarely repeat
)

func newInterner() *interner { return &interner{} }

func (in *interner) slot(b []byte, key bool) *internSlot {
	// A quick hash of the length and up to 24 bytes; a collision only costs
	// a miss, since slots are compared in full.
	n := len(b)
	x := uint64(n) * 0x9e3779b97f4a7c15
	if n >= 8 {
		x ^= binary.LittleEndian.Uint64(b)
		x ^= bits.RotateLeft64(binary.LittleEndian.Uint64(b[n-8:]), 21)
		x ^= bits.RotateLeft64(binary.LittleEndian.Uint64(b[n/2-4:]), 42)
	} else {
		for _, c := range b {
			x = x<<8 ^ uint64(c)
		}
	}
	if key {
		x = ^x // keys and values apart: values also keep v
	}
	x *= 0xff51afd7ed558ccd
	x ^= x >> 29
	return &in.slots[x&(internSlots-1)]
}

// key returns b as a string.
func (in *interner) key(b []byte) string {
	if in == nil || len(b) > internMaxLen {
		return string(b)
	}
	sl := in.slot(b, true)
	if sl.s != string(b) || sl.v == nil { // compares without allocating
		sl.s, sl.v = string(b), true
	}
	return sl.s
}

// value returns b as a string in an interface value.
func (in *interner) value(b []byte) any {
	if in == nil || len(b) > internMaxLen {
		return string(b)
	}
	sl := in.slot(b, false)
	if sl.s != string(b) || sl.v == nil {
		s := string(b)
		sl.s, sl.v = s, s
	}
	return sl.v
}
