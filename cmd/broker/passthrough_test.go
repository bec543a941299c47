package main

import (
	"reflect"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/broker-go/broker"
)

func testCheckoutCommand() *cli.Command {
	e := newEnv(nil, nil, nil, nil)
	return checkoutCommand(e)
}

func TestParseMixed(t *testing.T) {
	cmd := testCheckoutCommand()
	p, err := parseMixed(cmd, []string{"--container-host", "img", "-c", "3", "--deploy-rhel-version", "9", "x=y", "--nick=n1", "-b"})
	if err != nil {
		t.Fatal(err)
	}
	if p.integer("count") != 3 || !p.isSet("count") {
		t.Errorf("count = %d (set %v), want 3 via -c", p.integer("count"), p.isSet("count"))
	}
	if p.str("nick") != "n1" || !p.boolean("background") {
		t.Errorf("nick = %q, background = %v", p.str("nick"), p.boolean("background"))
	}
	_, keys := providerFlags("checkout")
	args := argsFrom(p, keys)
	want := broker.Args{"container_host": "img", "deploy-rhel-version": "9", "x": "y"}
	if !reflect.DeepEqual(args, want) {
		t.Errorf("args = %v, want %v", args, want)
	}
	if _, err := parseMixed(cmd, []string{"--count"}); err == nil {
		t.Error("--count without a value: want an error")
	}
	if p, err := parseMixed(cmd, []string{"--help"}); err != nil || !p.help {
		t.Errorf("--help: help=%v err=%v", p != nil && p.help, err)
	}
}

func TestReorderFlags(t *testing.T) {
	app := newApp(newEnv(nil, nil, nil, nil))
	cases := []struct{ in, want []string }{
		{[]string{"broker", "checkin", "0", "1", "--sequential"}, []string{"broker", "checkin", "--sequential", "0", "1"}},
		{[]string{"broker", "--log-level", "debug", "config", "init", "logging", "--from", "f.yaml"}, []string{"broker", "--log-level", "debug", "config", "init", "--from", "f.yaml", "logging"}},
		{[]string{"broker", "checkout", "x", "--nick", "n"}, []string{"broker", "checkout", "x", "--nick", "n"}}, // parses its own tokens
		{[]string{"broker", "checkin", "a", "--", "--all"}, []string{"broker", "checkin", "a", "--", "--all"}},
	}
	for _, c := range cases {
		if got := reorderFlags(app, c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("reorderFlags(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzParseMixed(f *testing.F) {
	cmd := testCheckoutCommand()
	f.Add("--container-host", "img", "-c", "3")
	f.Add("--x=1", "--count=2", "k=v", "--")
	f.Add("-b", "--nick", "-n", "--args-file")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		p, err := parseMixed(cmd, []string{a, b, c, d})
		if err != nil || p.help {
			return
		}
		for k := range p.extra {
			if k == "" {
				t.Fatalf("empty argument key from %q", []string{a, b, c, d})
			}
		}
	})
}

func FuzzReorderFlags(f *testing.F) {
	app := newApp(newEnv(nil, nil, nil, nil))
	f.Add("checkin", "0", "--sequential", "x")
	f.Add("config", "init", "--from", "f")
	f.Fuzz(func(t *testing.T, a, b, c, d string) {
		in := []string{"broker", a, b, c, d}
		out := reorderFlags(app, in)
		if len(out) != len(in) {
			t.Fatalf("reorderFlags(%q) = %q: tokens lost or added", in, out)
		}
		seen := map[string]int{}
		for _, s := range in {
			seen[s]++
		}
		for _, s := range out {
			seen[s]--
		}
		for s, n := range seen {
			if n != 0 {
				t.Fatalf("reorderFlags(%q) = %q: token %q count changed", in, out, s)
			}
		}
	})
}
