package settings_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/broker-go/broker/settings"
)

func TestSecretNeverShows(t *testing.T) {
	s := settings.Secret("hunter2")
	for name, got := range map[string]string{
		"String": s.String(),
		"%v":     fmt.Sprintf("%v", s),
		"%s":     fmt.Sprintf("%s", s),
		"%q":     fmt.Sprintf("%q", s),
		"%#v":    fmt.Sprintf("%#v", s),
		"%+v":    fmt.Sprintf("%+v", map[string]any{"p": s}),
	} {
		if strings.Contains(got, "hunter2") || !strings.Contains(got, settings.Redacted) {
			t.Errorf("%s = %q", name, got)
		}
	}
	j, err := json.Marshal(map[string]any{"p": s})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "json", string(j), `{"p":"******"}`)
	y, err := yaml.Marshal(map[string]any{"p": s})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "yaml", string(y), "p: '******'\n")
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "token", s)
	if strings.Contains(buf.String(), "hunter2") || !strings.Contains(buf.String(), `"token":"******"`) {
		t.Errorf("slog = %s", buf.String())
	}
	equal(t, "Reveal", s.Reveal(), "hunter2")
}

func TestIsSensitive(t *testing.T) {
	for _, key := range []string{
		"password", "PASSWORD", "pword", "token", "Token", "host_password", "foreman_password",
		"api_key", "apikey", "secret", "client_secret", "auth_token", "personal_token",
		"host-password", "BROKER_ANSIBLETOWER__TOKEN", "private_key", "passphrase",
	} {
		equal(t, "IsSensitive("+key+")", settings.IsSensitive(key), true)
	}
	for _, key := range []string{
		"host_ssh_key_filename", "username", "host_username", "token_url", "base_url",
		"workflow", "passing", "", "name", "keyfile", "hostname",
	} {
		equal(t, "IsSensitive("+key+")", settings.IsSensitive(key), false)
	}
}

func TestRedact(t *testing.T) {
	type named map[string]any
	in := map[string]any{
		"name":     "host1",
		"password": "hunter2",
		"empty":    map[string]any{"token": "", "secret": nil},
		"nested": []any{
			map[string]any{"host_password": 1234, "user": "me"},
			named{"api_key": "k", "ok": true},
			settings.Secret("s"),
		},
		"url":     "https://me:pw@tower.example.com/api?x=1",
		"nopass":  "ssh://me@host:22/path",
		"strs":    []string{"a", "ftp://u:p@h"},
		"sstr":    map[string]string{"token": "t", "x": "y"},
		"secretm": map[string]any{"a": 1},
	}
	got := settings.Redact(in)
	equal(t, "redacted", got, map[string]any{
		"name":     "host1",
		"password": "******",
		"empty":    map[string]any{"token": "", "secret": nil},
		"nested": []any{
			map[string]any{"host_password": "******", "user": "me"},
			map[string]any{"api_key": "******", "ok": true},
			"******",
		},
		"url":     "https://me:******@tower.example.com/api?x=1",
		"nopass":  "ssh://me@host:22/path",
		"strs":    []any{"a", "ftp://u:******@h"},
		"sstr":    map[string]any{"token": "******", "x": "y"},
		"secretm": map[string]any{"a": 1},
	})
	equal(t, "input untouched", in["password"], "hunter2")
	equal(t, "input untouched (nested)", in["nested"].([]any)[0].(map[string]any)["host_password"], 1234)
	equal(t, "scalar", settings.Redact("plain"), "plain")
	equal(t, "nil", settings.Redact(nil), nil)
	equal(t, "int", settings.Redact(5), 5)
	type st struct{ A string }
	equal(t, "struct unchanged", settings.Redact(st{"x"}), st{"x"})
}

func TestRedactSettings(t *testing.T) {
	s := load(t, "AnsibleTower:\n  token: abc\n  username: me\n", "BROKER_SSH__HOST_PASSWORD=pw")
	all := settings.Redact(s.All()).(map[string]any)
	equal(t, "token", all["AnsibleTower"].(map[string]any)["token"], "******")
	equal(t, "username", all["AnsibleTower"].(map[string]any)["username"], "me")
	equal(t, "ssh password", all["ssh"].(map[string]any)["host_password"], "******")
}
