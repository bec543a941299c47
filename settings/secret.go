package settings

import (
	"log/slog"
	"reflect"
	"strings"
)

// Redacted replaces every secret value that broker shows: in config view,
// logs, errors and output files.
const Redacted = "******"

// Secret is a string that never shows itself: printing, logging (slog),
// JSON and YAML encoding all give Redacted. Reveal returns the value.
type Secret string

// String implements fmt.Stringer.
func (Secret) String() string { return Redacted }

// GoString implements fmt.GoStringer (%#v).
func (Secret) GoString() string { return `settings.Secret("` + Redacted + `")` }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON implements json.Marshaler.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalYAML implements yaml.Marshaler.
func (Secret) MarshalYAML() (any, error) { return Redacted, nil }

// MarshalText implements encoding.TextMarshaler.
func (Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// Reveal returns the secret value itself.
func (s Secret) Reveal() string { return string(s) }

var (
	sensitiveExact = map[string]bool{
		"password": true, "passwd": true, "pword": true,
		"token": true, "secret": true, "api_key": true, "apikey": true,
		"host_password": true, "private_key": true, "client_secret": true,
		"secret_key": true, "access_token": true, "refresh_token": true,
		"auth_token": true, "bearer": true, "authorization": true,
		"credentials": true, "passphrase": true,
	}
	sensitiveSuffixes = []string{
		"password", "passwd", "_pword", "token", "secret",
		"_api_key", "_apikey", "_private_key", "_secret_key", "passphrase",
		"_credentials",
	}
)

// IsSensitive reports whether a setting, argument, record field or log
// attribute named key holds a secret. It is case-insensitive and treats "-"
// as "_". Sensitive are the names password, passwd, pword, token,
// secret, api_key, apikey, private_key, client_secret, secret_key,
// access_token, refresh_token, auth_token, bearer, authorization,
// credentials and passphrase, and names ending in password, passwd, token,
// secret, passphrase, _pword, _api_key, _apikey, _private_key,
// _secret_key or _credentials (host_password, foreman_password,
// BROKER_ANSIBLETOWER__TOKEN). File names such as host_ssh_key_filename are
// not secrets.
func IsSensitive(key string) bool {
	k := strings.ToLower(strings.ReplaceAll(key, "-", "_"))
	if sensitiveExact[k] {
		return true
	}
	for _, s := range sensitiveSuffixes {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	return false
}

// Redact returns a deep copy of v in which the value of every sensitive map
// key (IsSensitive) and every Secret is Redacted, and the password of any
// "scheme://user:password@host" string is Redacted. Maps with string keys
// of any type become map[string]any; slices and arrays (but []byte) become
// []any. Empty and null secrets are kept as they are (they hide nothing).
// Structs and pointers are returned unchanged: give secret struct fields the
// Secret type. This is the one redaction rule for config view, logs and
// output files.
func Redact(v any) any { return redact(v, 0) }

func redact(v any, depth int) any {
	if depth > maxDepth {
		return Redacted
	}
	switch t := v.(type) {
	case nil:
		return nil
	case Secret:
		return Redacted
	case string:
		return redactURL(t)
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return t
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = redactField(k, x, depth)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = redact(x, depth+1)
		}
		return out
	case []byte:
		return t
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return v
		}
		out := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			k := it.Key().String()
			out[k] = redactField(k, it.Value().Interface(), depth)
		}
		return out
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return v
		}
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = redact(rv.Index(i).Interface(), depth+1)
		}
		return out
	case reflect.String:
		return redactURL(rv.String())
	}
	return v
}

func redactField(k string, x any, depth int) any {
	if IsSensitive(k) && !emptyValue(x) {
		return Redacted
	}
	return redact(x, depth+1)
}

func emptyValue(v any) bool {
	if v == nil {
		return true
	}
	if s, ok := v.(string); ok {
		return s == ""
	}
	if s, ok := v.(Secret); ok {
		return s == ""
	}
	return false
}

// redactURL hides the password in "scheme://user:password@host…".
func redactURL(s string) string {
	i := strings.Index(s, "://")
	if i < 0 {
		return s
	}
	rest := s[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if at < 0 {
		return s
	}
	colon := strings.Index(rest[:at], ":")
	if colon < 0 || colon+1 == at {
		return s
	}
	return s[:i+3] + rest[:colon+1] + Redacted + rest[at:]
}
