package container

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/broker-go/broker/providers"
)

func TestParsePorts(t *testing.T) {
	cases := []struct {
		in   any
		want []portSpec
	}{
		{"22", []portSpec{{Port: 22, Proto: "tcp"}}},
		{"22:1337", []portSpec{{Port: 22, Proto: "tcp", HostPort: 1337}}},
		{"22/tcp", []portSpec{{Port: 22, Proto: "tcp"}}},
		{"53/UDP:1053", []portSpec{{Port: 53, Proto: "udp", HostPort: 1053}}},
		{"127.0.0.1:1337:22", []portSpec{{Port: 22, Proto: "tcp", HostIP: "127.0.0.1", HostPort: 1337}}},
		{"127.0.0.1::22/udp", []portSpec{{Port: 22, Proto: "udp", HostIP: "127.0.0.1"}}},
		{"[::1]:1337:22", []portSpec{{Port: 22, Proto: "tcp", HostIP: "::1", HostPort: 1337}}},
		{"22 80,443\t8080:80", []portSpec{{Port: 22, Proto: "tcp"}, {Port: 80, Proto: "tcp"}, {Port: 443, Proto: "tcp"}, {Port: 8080, Proto: "tcp", HostPort: 80}}},
		{"22:1000 22:2000", []portSpec{{Port: 22, Proto: "tcp", HostPort: 2000}}}, // the last wins
		{[]any{"22", 80}, []portSpec{{Port: 22, Proto: "tcp"}, {Port: 80, Proto: "tcp"}}},
		{map[string]any{"22/tcp": 1337, "80": nil}, []portSpec{{Port: 22, Proto: "tcp", HostPort: 1337}, {Port: 80, Proto: "tcp"}}},
		{"", nil},
		{nil, nil},
	}
	for _, c := range cases {
		got, err := parsePorts(c.in)
		if err != nil {
			t.Errorf("parsePorts(%#v): %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("parsePorts(%#v) = %+v, want %+v", c.in, got, c.want)
		}
	}
	for _, bad := range []any{"0", "65536", "22:", ":22", "22/icmp", "a", "22:1:2:3", "300.1.1.1:1:22", "[::1]:22", "[::1", "22:-1", "1.2.3.4:x:22", map[string]any{"22": "abc"}, true} {
		_, err := parsePorts(bad)
		var ue *providers.UserError
		if !errors.As(err, &ue) {
			t.Errorf("parsePorts(%#v) = %v, want a UserError", bad, err)
		}
	}
}

func TestParseVolumes(t *testing.T) {
	got, err := parseVolumes("/tmp:/data:ro, vol1:/v /a/../b:/c/:rw /x:/y:Z")
	if err != nil {
		t.Fatal(err)
	}
	want := []volumeSpec{
		{Source: "/tmp", Target: "/data", ReadOnly: true},
		{Source: "vol1", Target: "/v"},
		{Source: "/b", Target: "/c"},
		{Source: "/x", Target: "/y", Relabel: "Z"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	got, err = parseVolumes(map[string]any{"/h": map[string]any{"bind": "/c", "mode": "ro"}, "/g": "/d"})
	if err != nil || len(got) != 2 || got[0] != (volumeSpec{Source: "/g", Target: "/d"}) || got[1] != (volumeSpec{Source: "/h", Target: "/c", ReadOnly: true}) {
		t.Errorf("map form: %+v, %v", got, err)
	}
	if b := want[0].bind(); b != "/tmp:/data:ro" {
		t.Errorf("bind %q", b)
	}
	for _, bad := range []any{"/a", "a:b", "./rel:/x", ":/x", "/a:/b:rx", "/a:/b:ro:z", "-vol:/x", map[string]any{"/a": 3}} {
		if _, err := parseVolumes(bad); err == nil {
			t.Errorf("parseVolumes(%#v) succeeded", bad)
		}
	}
}

func TestParseEnv(t *testing.T) {
	got, err := parseEnv("A=1, B = two words ,C=x=y,,D=")
	want := map[string]string{"A": "1", "B": " two words ", "C": "x=y", "D": ""}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
	got, err = parseEnv(map[string]any{"N": 3, "E": nil})
	if err != nil || !reflect.DeepEqual(got, map[string]string{"N": "3", "E": ""}) {
		t.Errorf("map: %v, %v", got, err)
	}
	got, err = parseEnv([]any{"K=V"})
	if err != nil || got["K"] != "V" {
		t.Errorf("list: %v, %v", got, err)
	}
	for _, bad := range []any{"A", "=1", "A B=1", 42} {
		if _, err := parseEnv(bad); err == nil {
			t.Errorf("parseEnv(%#v) succeeded", bad)
		}
	}
	if l := envList(want); !reflect.DeepEqual(l, []string{"A=1", "B= two words ", "C=x=y", "D="}) {
		t.Errorf("envList %q", l)
	}
}

func TestSplitWords(t *testing.T) {
	cases := map[string][]string{
		`sh -c 'echo hi; exit 3'`: {"sh", "-c", "echo hi; exit 3"},
		`a "b c" d\ e`:            {"a", "b c", "d e"},
		`"x\"y" 'it''s' ""`:       {`x"y`, "its", ""},
		`  `:                      nil,
		`echo "$HOME" \$x "a\\b"`: {"echo", "$HOME", "$x", `a\b`},
		`"a\nb"`:                  {`a\nb`},
	}
	for in, want := range cases {
		got, err := splitWords(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("splitWords(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`'a`, `"a`, `a\`} {
		if _, err := splitWords(bad); err == nil {
			t.Errorf("splitWords(%q) succeeded", bad)
		}
	}
}

func TestFindImage(t *testing.T) {
	imgs := []imageSummary{
		{ID: "sha256:aaaaaaaaaaaaaaaa", Tags: []string{"localhost/broker-test/busybox:latest"}},
		{ID: "sha256:bbbbbbbbbbbbbbbb", Tags: []string{"docker.io/library/alpine:3"}},
		{ID: "sha256:cccccccccccccccc", Tags: []string{"quay.io/x/y:1", "y:latest"}},
	}
	for ref, want := range map[string]string{
		"localhost/broker-test/busybox:latest": "localhost/broker-test/busybox:latest",
		"broker-test/busybox":                  "localhost/broker-test/busybox:latest",
		"localhost/broker-test/busybox":        "localhost/broker-test/busybox:latest",
		"alpine:3":                             "docker.io/library/alpine:3",
		"y":                                    "y:latest",
		"bbbbbbbbbbbb":                         "docker.io/library/alpine:3",
		"quay.io/x/y:1":                        "quay.io/x/y:1",
	} {
		got, _, ok := findImage(imgs, ref)
		if !ok || got != want {
			t.Errorf("findImage(%q) = %q, %v; want %q", ref, got, ok, want)
		}
	}
	for _, ref := range []string{"busybox", "alpine", "broker-test/busybox:1", "", "abc"} {
		if got, _, ok := findImage(imgs, ref); ok {
			t.Errorf("findImage(%q) = %q, want no match", ref, got)
		}
	}
}

func TestRecordHostname(t *testing.T) {
	p := &Provider{}
	ci := &containerInfo{ID: "0123456789abcdef", Name: "n", Hostname: "0123456789ab",
		Ports: map[string][]hostPort{
			"22/tcp": {{IP: "::", Port: "40001"}, {IP: "0.0.0.0", Port: "40000"}},
			"53/udp": {{IP: "127.0.0.1", Port: "5353"}},
			"53/tcp": {{IP: "127.0.0.1", Port: "5354"}},
			"80/tcp": nil,
		},
		Networks: map[string]string{"b": "10.0.0.2", "a": "", "c": "10.0.0.3"}}
	local := &dockerEngine{endpoint: "unix:///x.sock"}
	h := p.record(local, ci, []string{"c"})
	if h["hostname"] != "127.0.0.1:40000" || h["ip"] != "10.0.0.3" {
		t.Errorf("local: %v", h)
	}
	if e := h["exposed_ports"].(map[string]any); !reflect.DeepEqual(e, map[string]any{"22": "40000", "53": "5354"}) {
		t.Errorf("exposed_ports %v", e)
	}
	remote := &dockerEngine{endpoint: "tcp://box:2375", address: "box"}
	if h := p.record(remote, ci, nil); h["hostname"] != "box:40000" || h["ip"] != "10.0.0.2" {
		t.Errorf("remote: %v", h)
	}
	ci.Ports = map[string][]hostPort{"22/tcp": {{IP: "127.0.0.2", Port: "1"}}}
	if h := p.record(local, ci, nil); h["hostname"] != "127.0.0.2:1" {
		t.Errorf("specific address: %v", h)
	}
	ci.Ports = nil
	if h := p.record(local, ci, nil); h["hostname"] != "0123456789ab" {
		t.Errorf("no ssh port: %v", h)
	}
}

// Fuzz targets: the parsers never panic, reject with a UserError, and
// what they accept is well-formed and survives a round trip.

func FuzzParsePorts(f *testing.F) {
	for _, s := range []string{"22", "22:1337", "22/tcp", "22/tcp:1337", "127.0.0.1:1337:22", "[::1]::22/udp", "22 80,443", "0", "a:b:c:d", "[", "22/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parsePorts(s)
		if err != nil {
			var ue *providers.UserError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), "PORT[/PROTO][:HOSTPORT]") {
				t.Fatalf("parsePorts(%q): error %v is not a UserError with the accepted forms", s, err)
			}
			return
		}
		seen := map[string]bool{}
		var items []string
		for _, p := range got {
			if p.Port == 0 || (p.Proto != "tcp" && p.Proto != "udp" && p.Proto != "sctp") || seen[p.key()] {
				t.Fatalf("parsePorts(%q) = %+v: bad or duplicate entry", s, got)
			}
			seen[p.key()] = true
			item := p.key()
			if p.HostIP != "" {
				ip := p.HostIP
				if strings.Contains(ip, ":") {
					ip = "[" + ip + "]"
				}
				hp := ""
				if p.HostPort != 0 {
					hp = strconv.Itoa(int(p.HostPort))
				}
				item = ip + ":" + hp + ":" + item
			} else if p.HostPort != 0 {
				item += ":" + strconv.Itoa(int(p.HostPort))
			}
			items = append(items, item)
		}
		again, err := parsePorts(strings.Join(items, " "))
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("round trip of %q: %+v → %q → %+v, %v", s, got, items, again, err)
		}
	})
}

func FuzzParseVolumes(f *testing.F) {
	for _, s := range []string{"/a:/b", "/a:/b:ro", "vol:/x:rw", "/a:/b:Z", "a:b", "/a", "/a:/b:c:d", ",, /x:/y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseVolumes(s)
		if err != nil {
			var ue *providers.UserError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), "SOURCE:TARGET") {
				t.Fatalf("parseVolumes(%q): error %v is not a UserError with the accepted forms", s, err)
			}
			return
		}
		var items []string
		for _, v := range got {
			if v.Source == "" || !strings.HasPrefix(v.Target, "/") || strings.ContainsAny(v.Source+v.Target, ", \t\n") {
				t.Fatalf("parseVolumes(%q) = %+v", s, got)
			}
			items = append(items, v.bind())
		}
		again, err := parseVolumes(strings.Join(items, ","))
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("round trip of %q: %+v → %+v, %v", s, got, again, err)
		}
	})
}

func FuzzParseEnv(f *testing.F) {
	for _, s := range []string{"A=1", "A=1,B=2", "A", "=", "A=b=c,,", " K = V "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseEnv(s)
		if err != nil {
			var ue *providers.UserError
			if !errors.As(err, &ue) {
				t.Fatalf("parseEnv(%q): %v is not a UserError", s, err)
			}
			return
		}
		for k, v := range got {
			if k == "" || strings.ContainsAny(k, "= \t\r\n\x00,") || strings.ContainsAny(v, "\x00,") {
				t.Fatalf("parseEnv(%q) = %q", s, got)
			}
		}
		if len(got) == 0 {
			return
		}
		again, err := parseEnv(strings.Join(envList(got), ","))
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("round trip of %q: %q → %q, %v", s, got, again, err)
		}
	})
}

func FuzzSplitWords(f *testing.F) {
	for _, s := range []string{`sh -c 'echo hi'`, `a "b\"c" d\ e`, `'`, `"`, `\`, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := splitWords(s)
		if err != nil {
			return
		}
		// Quoting each word in single quotes gives the same words back.
		var quoted []string
		for _, w := range words {
			quoted = append(quoted, "'"+strings.ReplaceAll(w, "'", `'\''`)+"'")
		}
		again, err := splitWords(strings.Join(quoted, " "))
		if err != nil || !reflect.DeepEqual(again, words) {
			t.Fatalf("round trip of %q: %q → %q, %v", s, words, again, err)
		}
	})
}
