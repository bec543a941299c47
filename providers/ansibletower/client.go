package ansibletower

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/broker-go/broker/providers"
)

// Paths of the API root and version root (§5 of the API reference).
const (
	rootClassic    = "/api/"
	rootController = "/api/controller/"
)

// client is the HTTP side: auth, the API prefix, retries and error mapping.
type client struct {
	base                      string // base_url, no trailing slash
	hc                        *http.Client
	token, username, password string
	aapVersion                string
	maxWait                   time.Duration // retry budget of one request
	backoffBase, backoffMax   time.Duration
	log                       *slog.Logger
	provider, instance        string
	mu                        sync.Mutex
	root                      string // rootClassic or rootController once known
}

// apiError is a non-2xx answer. It never holds credentials.
type apiError struct {
	Method, Path string
	Status       int
	Detail       string
}

func (e *apiError) Error() string {
	msg := fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// statusOf is the HTTP status of an apiError in err's chain, or 0.
func statusOf(err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// errorDetail condenses an error body: its "detail", else the compact body.
func errorDetail(body []byte) string {
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		if d, ok := m["detail"].(string); ok {
			return d
		}
		if b, err := json.Marshal(m); err == nil {
			return truncate(string(b), 500)
		}
	}
	return truncate(strings.TrimSpace(string(body)), 500)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// retryable tells whether a failed exchange is worth repeating: a GET on a
// connection error (a request timeout included) or 502/503/504; any method
// when the connection could not even be made (nothing reached the server).
// The caller stops first when its own context is done.
func retryable(method string, status int, err error) bool {
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return false
		}
		if method == http.MethodGet {
			return true
		}
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return true
		}
		var dns *net.DNSError
		return errors.As(err, &dns)
	}
	if method != http.MethodGet {
		return false
	}
	switch status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// backoff is the pause before retry number attempt (0-based): base doubled
// each time, capped at max.
func backoff(base, max time.Duration, attempt int) time.Duration {
	d := base
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d
}

// prefix is the version root P ("/api/v2/" or "/api/controller/v2/"),
// chosen from aap_version or by probing GET /api/ without credentials.
func (c *client) prefix(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.root != "" {
		return c.root + "v2/", nil
	}
	if c.aapVersion != "" {
		v, _ := parseVersion(c.aapVersion)
		c.root = rootClassic
		if v >= 2005 {
			c.root = rootController
		}
		return c.root + "v2/", nil
	}
	status, body, err := c.exchange(ctx, http.MethodGet, c.base+rootClassic, nil, false)
	if err != nil {
		return "", fmt.Errorf("find the API root of %s: %w", c.base, err)
	}
	switch {
	case status == http.StatusNotFound:
		c.root = rootController
	case status/100 != 2:
		return "", fmt.Errorf("find the API root: %w", &apiError{Method: "GET", Path: rootClassic, Status: status, Detail: errorDetail(body)})
	default:
		var doc map[string]any
		if err := json.Unmarshal(body, &doc); err != nil {
			return "", fmt.Errorf("find the API root: GET %s answered something else than JSON (is AnsibleTower.base_url right?)", rootClassic)
		}
		if _, ok := doc["available_versions"]; ok {
			c.root = rootClassic
		} else {
			c.root = rootController
		}
	}
	c.log.Debug("API root chosen", "root", c.root)
	return c.root + "v2/", nil
}

// gateway reports whether the controller sits behind an AAP 2.5+ gateway.
func (c *client) gateway(ctx context.Context) bool {
	p, err := c.prefix(ctx)
	return err == nil && strings.HasPrefix(p, rootController)
}

// url makes a request URL: "/api/..." links and absolute URLs as given
// (links joined onto base_url, as awxkit does), other paths under P.
func (c *client) url(ctx context.Context, path string, q url.Values) (string, error) {
	var u string
	switch {
	case strings.HasPrefix(path, "http://"), strings.HasPrefix(path, "https://"):
		u = path
	case strings.HasPrefix(path, "/"):
		u = c.base + path
	default:
		p, err := c.prefix(ctx)
		if err != nil {
			return "", err
		}
		u = c.base + p + path
	}
	if len(q) > 0 {
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		u += sep + q.Encode()
	}
	return u, nil
}

// call runs one API request with retries, maps errors and decodes a JSON
// answer into out (when out is not nil).
func (c *client) call(ctx context.Context, method, path string, q url.Values, in, out any) error {
	u, err := c.url(ctx, path, q)
	if err != nil {
		return err
	}
	status, body, err := c.exchange(ctx, method, u, in, true)
	if err != nil {
		return err
	}
	if status/100 != 2 {
		return c.mapStatus(method, u, status, body)
	}
	if out == nil || len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := decodeJSON(body, out); err != nil {
		return fmt.Errorf("%s %s: bad JSON answer: %w", method, shortPath(u), err)
	}
	return nil
}

// text runs a GET that answers plain text (a job's stdout).
func (c *client) text(ctx context.Context, path string, q url.Values) (string, error) {
	u, err := c.url(ctx, path, q)
	if err != nil {
		return "", err
	}
	status, body, err := c.exchange(ctx, http.MethodGet, u, nil, true)
	if err != nil {
		return "", err
	}
	if status/100 != 2 {
		return "", c.mapStatus(http.MethodGet, u, status, body)
	}
	return string(body), nil
}

func shortPath(u string) string {
	if pu, err := url.Parse(u); err == nil {
		return pu.RequestURI()
	}
	return u
}

// mapStatus turns a non-2xx answer into an error: 401 and 403 are
// *providers.AuthError naming the setting to fix.
func (c *client) mapStatus(method, u string, status int, body []byte) error {
	ae := &apiError{Method: method, Path: shortPath(u), Status: status, Detail: errorDetail(body)}
	if status != http.StatusUnauthorized && status != http.StatusForbidden {
		return ae
	}
	setting, hint := "AnsibleTower.token", "check the token in AnsibleTower.token or BROKER_ANSIBLETOWER__TOKEN"
	if c.token == "" {
		setting, hint = "AnsibleTower.password", "check AnsibleTower.username and AnsibleTower.password (or BROKER_ANSIBLETOWER__PASSWORD), or set AnsibleTower.token (BROKER_ANSIBLETOWER__TOKEN)"
	}
	if status == http.StatusForbidden {
		hint = "the user may not do this; " + hint
	}
	return &providers.AuthError{Provider: c.provider, Instance: c.instance, Setting: setting,
		Err: fmt.Errorf("%w (%s)", ae, hint)}
}

// exchange sends one request, retrying transient failures with backoff for
// up to maxWait. It returns the final status and body.
func (c *client) exchange(ctx context.Context, method, u string, in any, auth bool) (int, []byte, error) {
	var payload []byte
	if in != nil {
		var err error
		if payload, err = json.Marshal(in); err != nil {
			return 0, nil, fmt.Errorf("%s %s: encode the request: %w", method, shortPath(u), err)
		}
	}
	start := time.Now()
	for attempt := 0; ; attempt++ {
		status, body, err := c.once(ctx, method, u, payload, auth)
		if err != nil && ctx.Err() != nil {
			return 0, nil, fmt.Errorf("%s %s: %w", method, shortPath(u), ctx.Err())
		}
		if !retryable(method, status, err) {
			if err != nil {
				return 0, nil, fmt.Errorf("%s %s: %w", method, shortPath(u), err)
			}
			return status, body, nil
		}
		why := fmt.Sprintf("%d %s", status, http.StatusText(status))
		if err != nil {
			why = err.Error()
		}
		wait := backoff(c.backoffBase, c.backoffMax, attempt)
		if time.Since(start)+wait > c.maxWait {
			return 0, nil, fmt.Errorf("%s %s: still failing after %s (max_resilient_wait): %s", method, shortPath(u), time.Since(start).Round(time.Second), why)
		}
		c.log.Warn("transient failure, retrying", "method", method, "path", shortPath(u), "error", why, "wait", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, nil, fmt.Errorf("%s %s: %w", method, shortPath(u), ctx.Err())
		case <-t.C:
		}
	}
}

func (c *client) once(ctx context.Context, method, u string, payload []byte, auth bool) (int, []byte, error) {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth {
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		} else {
			req.SetBasicAuth(c.username, c.password)
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}

// decodeJSON decodes with numbers kept exact: integers become int64, other
// numbers float64.
func decodeJSON(b []byte, out any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return err
	}
	v = normalize(v)
	switch o := out.(type) {
	case *any:
		*o = v
	case *map[string]any:
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("want an object, got %T", v)
		}
		*o = m
	default:
		return fmt.Errorf("decodeJSON: unsupported target %T", out)
	}
	return nil
}

func normalize(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	case map[string]any:
		for k, e := range t {
			t[k] = normalize(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = normalize(e)
		}
		return t
	}
	return v
}

// list reads a list endpoint, following "next", up to max items (0: all).
func (c *client) list(ctx context.Context, path string, q url.Values, max int) ([]map[string]any, int64, error) {
	var out []map[string]any
	var count int64
	next, query := path, q
	for pages := 0; next != "" && pages < 100; pages++ {
		var page map[string]any
		if err := c.call(ctx, http.MethodGet, next, query, nil, &page); err != nil {
			return nil, 0, err
		}
		if pages == 0 {
			count, _ = toInt(page["count"])
		}
		for _, r := range asList(page["results"]) {
			if m, ok := r.(map[string]any); ok {
				out = append(out, m)
			}
		}
		if max > 0 && len(out) >= max {
			return out[:max], count, nil
		}
		next, query = str(page["next"]), nil
	}
	return out, count, nil
}
