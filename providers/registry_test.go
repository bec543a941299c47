package providers

import (
	"context"
	"errors"
	"testing"
)

func newInfo(name string, keys ...string) *RegInfo {
	return &RegInfo{Name: name, CheckoutKeys: keys, New: func(context.Context, Spec) (Provider, error) { return nil, nil }}
}

func TestRegistryNamesSorted(t *testing.T) {
	r := NewRegistry()
	r.Register(newInfo("Zeta", "z"))
	r.Register(newInfo("Alpha", "a"))
	got := r.Names()
	if len(got) != 2 || got[0] != "Alpha" || got[1] != "Zeta" {
		t.Fatalf("Names() = %v, want [Alpha Zeta]", got)
	}
	if _, ok := r.Lookup("alpha"); ok {
		t.Fatal("Lookup must be case-sensitive")
	}
}

func TestRegisterPanicsOnDuplicate(t *testing.T) {
	r := NewRegistry()
	r.Register(newInfo("A", "a"))
	defer func() {
		if recover() == nil {
			t.Fatal("second Register of the same name did not panic")
		}
	}()
	r.Register(newInfo("A", "a"))
}

func TestForAction(t *testing.T) {
	r := NewRegistry()
	r.Register(newInfo("Container", "container_host"))
	r.Register(newInfo("AnsibleTower", "workflow"))
	ri, key, err := r.ForAction(Args{"container_host": "img"}, false)
	if err != nil || ri.Name != "Container" || key != "container_host" {
		t.Fatalf("ForAction = %v %q %v", ri, key, err)
	}
	_, _, err = r.ForAction(Args{"x": 1}, false)
	var ue *UserError
	if !errors.As(err, &ue) {
		t.Fatalf("no action key: want a UserError, got %v", err)
	}
	_, _, err = r.ForAction(Args{"container_host": "i", "workflow": "w"}, false)
	if !errors.As(err, &ue) {
		t.Fatalf("two action keys: want a UserError, got %v", err)
	}
}

func TestUnsupportedErrorIs(t *testing.T) {
	err := error(&UnsupportedError{Provider: "Container", Action: "extend", Hint: "containers have no lease"})
	if !errors.Is(err, ErrUnsupported) {
		t.Fatal("UnsupportedError must match ErrUnsupported")
	}
	if got := err.Error(); got != "Container does not support extend: containers have no lease" {
		t.Fatalf("message = %q", got)
	}
}

func TestFlagName(t *testing.T) {
	if got := FlagName("container_host"); got != "--container-host" {
		t.Fatalf("FlagName = %q, want --container-host", got)
	}
}
