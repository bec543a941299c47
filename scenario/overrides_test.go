package scenario

import (
	"reflect"
	"testing"
)

func TestApplyOverrides(t *testing.T) {
	sc := mustParse(t, `
variables: {flag: false, n: 1, f: 1.5, l: [1], name: x}
steps: []
`)
	vars, warns := ApplyOverrides(sc, map[string]string{
		"flag": "yes", "n": "42", "f": "2", "l": `[1, "a"]`, "name": "y", "new": "7", "bad": "1",
		"config.inventory_path": "/tmp/i.yaml", "config.settings.Container.runtime": "docker",
	})
	sc.Variables["bad"] = true
	want := map[string]any{"flag": true, "n": 42, "f": 2.0, "l": []any{1, "a"}, "name": "y", "new": "7", "bad": "1"}
	if !reflect.DeepEqual(vars, want) || len(warns) != 0 {
		t.Errorf("vars = %#v, warnings %v", vars, warns)
	}
	if sc.Config.InventoryPath != "/tmp/i.yaml" || !reflect.DeepEqual(sc.Config.Settings, map[string]any{"Container": map[string]any{"runtime": "docker"}}) {
		t.Errorf("config = %+v", sc.Config)
	}
	vars, warns = ApplyOverrides(sc, map[string]string{"n": "many"})
	if vars["n"] != "many" || len(warns) != 1 {
		t.Errorf("bad int: %v %v", vars, warns)
	}
}
