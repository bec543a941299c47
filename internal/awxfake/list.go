package awxfake

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

const (
	defaultPageSize = 25
	maxPageSize     = 200
)

var reserved = map[string]bool{"page": true, "page_size": true, "format": true, "order": true, "order_by": true,
	"search": true, "type": true, "host_filter": true, "count_disabled": true}

var lookups = map[string]bool{"exact": true, "iexact": true, "contains": true, "icontains": true, "startswith": true,
	"istartswith": true, "endswith": true, "iendswith": true, "regex": true, "iregex": true, "gt": true, "gte": true,
	"lt": true, "lte": true, "isnull": true, "in": true}

// listOf filters, orders and paginates serialized objects the way AWX's list views do.
// defaultOrder names the default ordering fields; searchFields the fields search= matches.
func (s *Server) listOf(c *call, items []map[string]any, defaultOrder []string, searchFields []string) (any, *apiError) {
	var filtered []map[string]any
	for _, it := range items {
		ok, err := matchAll(c.query, it, searchFields)
		if err != nil {
			return nil, err
		}
		if ok {
			filtered = append(filtered, it)
		}
	}
	order := defaultOrder
	if ob := c.query.Get("order_by"); ob != "" {
		order = strings.Split(ob, ",")
	} else if ob := c.query.Get("order"); ob != "" {
		order = strings.Split(ob, ",")
	}
	for _, f := range order {
		if _, ok := lookupField(items0(items), strings.TrimPrefix(f, "-")); !ok && len(items) > 0 {
			return nil, badRequest(map[string]any{"detail": fmt.Sprintf("Cannot resolve keyword '%s' into field.", strings.TrimPrefix(f, "-"))})
		}
	}
	sort.SliceStable(filtered, func(i, j int) bool {
		for _, f := range order {
			desc := strings.HasPrefix(f, "-")
			f = strings.TrimPrefix(f, "-")
			a, _ := lookupField(filtered[i], f)
			b, _ := lookupField(filtered[j], f)
			cmp := compare(a, b)
			if cmp != 0 {
				return (cmp < 0) != desc
			}
		}
		ai, _ := filtered[i]["id"].(int)
		bi, _ := filtered[j]["id"].(int)
		return ai < bi
	})
	return paginate(c, filtered)
}

func items0(items []map[string]any) map[string]any {
	if len(items) == 0 {
		return map[string]any{}
	}
	return items[0]
}

func paginate(c *call, items []map[string]any) (any, *apiError) {
	size := defaultPageSize
	if ps := c.query.Get("page_size"); ps != "" {
		if n, ok := atoi(ps); ok && n > 0 {
			size = min(n, maxPageSize)
		}
	}
	page := 1
	if p := c.query.Get("page"); p != "" {
		n, ok := atoi(p)
		if !ok || n < 1 {
			return nil, errPage
		}
		page = n
	}
	pages := max(1, int(math.Ceil(float64(len(items))/float64(size))))
	if page > pages {
		return nil, errPage
	}
	lo := (page - 1) * size
	hi := min(lo+size, len(items))
	results := make([]any, 0, hi-lo)
	for _, it := range items[lo:hi] {
		results = append(results, it)
	}
	mk := func(p int) any {
		q := url.Values{}
		for k, v := range c.query {
			q[k] = v
		}
		q.Set("page", strconv.Itoa(p))
		if q.Has("page_size") {
			q.Set("page_size", strconv.Itoa(size))
		}
		return c.r.URL.Path + "?" + q.Encode()
	}
	var next, prev any
	if page < pages {
		next = mk(page + 1)
	}
	if page > 1 {
		prev = mk(page - 1)
	}
	return map[string]any{"count": len(items), "next": next, "previous": prev, "results": results}, nil
}

func matchAll(q url.Values, it map[string]any, searchFields []string) (bool, *apiError) {
	var ors []bool
	for key, vals := range q {
		if reserved[key] {
			continue
		}
		for _, val := range vals {
			k := key
			or := false
			if rest, ok := strings.CutPrefix(k, "or__"); ok {
				k, or = rest, true
			}
			neg := false
			if rest, ok := strings.CutPrefix(k, "not__"); ok {
				k, neg = rest, true
			}
			ok, err := matchOne(k, val, it)
			if err != nil {
				return false, err
			}
			if neg {
				ok = !ok
			}
			if or {
				ors = append(ors, ok)
				continue
			}
			if !ok {
				return false, nil
			}
		}
	}
	if len(ors) > 0 {
		any := false
		for _, o := range ors {
			any = any || o
		}
		if !any {
			return false, nil
		}
	}
	for _, term := range strings.FieldsFunc(q.Get("search"), func(r rune) bool { return r == ' ' || r == ',' }) {
		hit := false
		for _, f := range searchFields {
			if sv, ok := it[f].(string); ok && strings.Contains(strings.ToLower(sv), strings.ToLower(term)) {
				hit = true
			}
		}
		if !hit {
			return false, nil
		}
	}
	return true, nil
}

// lookupField resolves "a__b" through the object and its summary_fields (for relations stored as ids).
func lookupField(it map[string]any, path string) (any, bool) {
	parts := strings.Split(path, "__")
	v, ok := it[parts[0]]
	if !ok {
		return nil, false
	}
	if len(parts) == 1 {
		return v, true
	}
	sf, _ := it["summary_fields"].(map[string]any)
	cur, ok := sf[parts[0]].(map[string]any)
	if !ok {
		if v == nil {
			return nil, true // a null relation: every field of it is null
		}
		return nil, false
	}
	for i, p := range parts[1:] {
		x, ok := cur[p]
		if !ok {
			return nil, false
		}
		if i == len(parts)-2 {
			return x, true
		}
		cur, ok = x.(map[string]any)
		if !ok {
			return nil, false
		}
	}
	return nil, false
}

func matchOne(key, val string, it map[string]any) (bool, *apiError) {
	field, lookup := key, "exact"
	if i := strings.LastIndex(key, "__"); i >= 0 && lookups[key[i+2:]] {
		field, lookup = key[:i], key[i+2:]
	}
	got, ok := lookupField(it, field)
	if !ok {
		return false, badRequest(map[string]any{"detail": fmt.Sprintf("Cannot resolve keyword '%s' into field.", strings.Split(field, "__")[0])})
	}
	if lookup == "isnull" {
		b, err := parseBool(val)
		if err != nil {
			return false, badRequest(map[string]any{"detail": fmt.Sprintf("Unable to convert value '%s' to a boolean.", val)})
		}
		return (got == nil) == b, nil
	}
	if lookup == "in" {
		for _, one := range strings.Split(val, ",") {
			ok, err := matchOne(field, one, it)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	}
	if got == nil {
		if val == "None" || val == "null" {
			return lookup == "exact", nil
		}
		return false, nil
	}
	switch g := got.(type) {
	case int, float64:
		gf := toFloat(g)
		f, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return false, badRequest(map[string]any{"detail": fmt.Sprintf("Field '%s' expected a number but got '%s'.", field, val)})
		}
		switch lookup {
		case "exact", "iexact":
			return gf == f, nil
		case "gt":
			return gf > f, nil
		case "gte":
			return gf >= f, nil
		case "lt":
			return gf < f, nil
		case "lte":
			return gf <= f, nil
		}
		return strMatch(lookup, strconv.FormatFloat(gf, 'f', -1, 64), val)
	case bool:
		b, err := parseBool(val)
		if err != nil {
			return false, badRequest(map[string]any{"detail": fmt.Sprintf("'%s' value must be either True or False.", val)})
		}
		return g == b, nil
	case string:
		return strMatch(lookup, g, val)
	}
	return false, badRequest(map[string]any{"detail": fmt.Sprintf("Filtering on %s is not allowed.", field)})
}

func strMatch(lookup, g, val string) (bool, *apiError) {
	lg, lv := strings.ToLower(g), strings.ToLower(val)
	switch lookup {
	case "exact":
		return g == val, nil
	case "iexact":
		return lg == lv, nil
	case "contains":
		return strings.Contains(g, val), nil
	case "icontains":
		return strings.Contains(lg, lv), nil
	case "startswith":
		return strings.HasPrefix(g, val), nil
	case "istartswith":
		return strings.HasPrefix(lg, lv), nil
	case "endswith":
		return strings.HasSuffix(g, val), nil
	case "iendswith":
		return strings.HasSuffix(lg, lv), nil
	case "regex", "iregex":
		expr := val
		if lookup == "iregex" {
			expr = "(?i)" + val
		}
		re, err := regexp.Compile(expr)
		if err != nil {
			return false, badRequest(map[string]any{"detail": "Invalid regular expression: " + err.Error()})
		}
		return re.MatchString(g), nil
	case "gt":
		return g > val, nil
	case "gte":
		return g >= val, nil
	case "lt":
		return g < val, nil
	case "lte":
		return g <= val, nil
	}
	return false, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("not a boolean: %q", s)
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case int:
		return float64(x)
	case float64:
		return x
	}
	return 0
}

func compare(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	switch x := a.(type) {
	case int, float64:
		fa, fb := toFloat(x), toFloat(b)
		switch {
		case fa < fb:
			return -1
		case fa > fb:
			return 1
		}
		return 0
	case string:
		y, _ := b.(string)
		return strings.Compare(x, y)
	case bool:
		y, _ := b.(bool)
		if x == y {
			return 0
		}
		if !x {
			return -1
		}
		return 1
	}
	return 0
}
