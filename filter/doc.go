// Package filter selects items (inventory records, provider results,
// scenario hosts) with the filter languages of upstream broker:
// --filter over inventory records (subject @inv), --results-filter over
// provider listings (@res) and scenario host lists (@scenario_inv).
//
//	f, err := filter.Compile(`"rhel" in @inv.name | @inv[-1]`, "inv")
//	if err != nil { ... }          // *SyntaxError: text, position, message
//	kept, err := f.Apply(records)  // indexes into records; *EvalError on failure
//
// A filter is compiled once, before anything runs, and applied any number
// of times; a *Filter is safe for concurrent use and a nil *Filter keeps
// everything. Compile picks the syntax from the text: the expression syntax
// when it contains @<key>, the legacy syntax when it does not but contains
// a legacy operator (<, =, {, }), and a *SyntaxError otherwise.
//
// # Expression syntax
//
// A filter is a pipeline of segments separated by |, applied left to
// right, each to the output of the previous one. A segment in which the
// subject is directly subscripted (@inv[0], @inv[-1], @inv[1:3], @inv[:],
// @inv[-2:]) is list-level: it runs once with @inv bound to the current
// list and must select items of it (a single item is kept as a one-item
// list; an index out of range is an error naming the index and the length,
// a slice out of range is truncated). Every other segment is per-item: it
// runs once per item with @inv bound to the item, and keeps the items whose
// result is truthy by Python's rules (None, False, 0, "", [] and {} are
// false).
//
// The language is the subset of Python that broker filters use:
//
//   - @inv.a.b: field access at any depth into maps; x[i], x[a:b] on lists
//     and strings (negative indexes count from the end), x["k"] on maps;
//   - literals: 'single' and "double" quoted strings with Python escapes
//     (r"raw" too, adjacent literals concatenate), ints (0x.., 0o.., 0b..,
//     1_000), floats, True, False, None, lists [a, b] and tuples (a, b);
//   - ==, !=, <, <=, >, >= (chains of <, <=, >, >= like 1 < x < 3), in,
//     not in, is and is not (which compare like == and !=), and, or, not,
//     parentheses, unary - and +;
//   - len(x) and the string methods .startswith(s or tuple),
//     .endswith(s or tuple), .lower(), .upper(), .strip([chars]),
//     .lstrip([chars]), .rstrip([chars]).
//
// Values follow Python: a string never equals a number, ints and floats
// compare by value, True == 1, `in` tests substrings of strings, members of
// lists and keys of maps, and/or return one of their operands. A type error
// such as "a" < 1 is reported as an *EvalError with Python's message.
//
// Internally each segment is translated token by token into an expr
// (github.com/expr-lang/expr) program, compiled once, whose operations are
// patched into functions implementing the Python semantics; positions in
// expr's errors are mapped back to the filter text.
//
// # Legacy syntax
//
// The 2020 – early 2023 form: comma-separated tests property<op>value, all
// of which must pass. Operators: < (value is a substring of the property),
// = (equal), { (starts with), } (ends with), each negated by a leading !
// (!<, !=, !{, !}). The first operator present in a test, in the order !<,
// <, !=, =, !{, {, !}, }, splits it. Properties are dotted paths into the
// record (_broker_args.workflow) and values are compared with the string
// form Python's str() gives. A test whose property a record lacks is
// skipped for that record; a record is kept only if at least one test
// applied and all applied tests passed. For @res the property is ignored
// and the whole result is compared (map results are read like records).
// White space around properties and values is ignored.
//
// # Deliberate differences from upstream broker 0.8.10
//
//   - A filter that is neither an expression (no @<key>) nor a legacy
//     filter is an error. Upstream ignored it and matched everything, so
//     `checkin --all --filter 'x'` checked in every host. Legacy filters,
//     ignored by upstream since 2023, work again.
//   - A segment of an expression filter that does not use the subject (or
//     is empty) is an error; upstream ignored it.
//   - A missing field is None. Upstream yields the record itself, so
//     "hostname" in @inv.nothere tested for a top-level key and matched
//     every record; here it matches none. For the same reason a missing
//     field never matches: `x in None` is False, ordering comparisons with
//     None are False, and None passes through len() and the string methods
//     (upstream raised TypeError/AttributeError).
//   - Segments are split on | outside string literals only, so "a|b" in
//     @inv.name works; upstream split the text. Likewise, list-level
//     segments are recognised from tokens (a "@inv[" inside a string does
//     not count), and @inv["name"] is rejected with a hint to write
//     @inv.name (upstream misread it as list-level and failed).
//   - Expressions are not Python's eval: only the subset above is accepted,
//     and anything else (arithmetic, assignment, other calls, chained ==,
//     comprehensions, conditional expressions) is a *SyntaxError at Compile
//     time with the position of the problem.
//   - A list-level segment must select items; one that yields something
//     else (@inv[0].hostname) is an error. Items are never repeated in the
//     result.
//   - In legacy filters, white space around properties and values is
//     trimmed, a value may contain its operator again (split at the first),
//     and an empty test or a test without operator or (except for @res)
//     without property is a *SyntaxError.
package filter
