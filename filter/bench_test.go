package filter

import (
	"fmt"
	"testing"
)

// benchItems builds n inventory records shaped like the fixture's.
func benchItems(n int) []any {
	items := make([]any, n)
	for i := range items {
		wf, rhel := "deploy-sat-jenkins", "rhel8.6"
		if i%3 == 0 {
			wf, rhel = "deploy-rhel", "rhel8.7"
		}
		items[i] = map[string]any{
			"_broker_args": map[string]any{
				"deploy_rhel_version": "8.6", "deploy_scenario": "sat-jenkins", "host_type": "satellite", "workflow": wf,
			},
			"_broker_provider":          "AnsibleTower",
			"_broker_provider_instance": "lab",
			"hostname":                  fmt.Sprintf("dhcp-%d.test.example.com", i),
			"name":                      fmt.Sprintf("qe-sat-jenkins-6.13.0-5.0-%s-%08x", rhel, i),
			"tower_inventory":           "lab-inventory",
			"type":                      "host",
		}
	}
	return items
}

// BenchmarkApply measures one Apply over 10,000 records with a filter
// compiled once (the target is well under 20 ms per Apply).
func BenchmarkApply(b *testing.B) {
	items := benchItems(10_000)
	for _, src := range []string{
		`"rhel" in @inv.name`,
		`@inv._broker_args.workflow == "deploy-rhel"`,
		`@inv._broker_args.workflow == "deploy-rhel" and @inv.hostname.startswith("dhcp-1") | @inv[-10:]`,
		`_broker_args.workflow=deploy-rhel`,
	} {
		b.Run(src, func(b *testing.B) {
			f, err := Compile(src, "inv")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.Apply(items); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCompile(b *testing.B) {
	for b.Loop() {
		if _, err := Compile(`@inv._broker_args.workflow == "deploy-rhel" | @inv[-2:]`, "inv"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyNamedType measures records of a named map type such as
// inventory.Host.
func BenchmarkApplyNamedType(b *testing.B) {
	items := benchItems(10_000)
	for i, x := range items {
		items[i] = host(x.(map[string]any))
	}
	f, err := Compile(`@inv._broker_args.workflow == "deploy-rhel"`, "inv")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Apply(items); err != nil {
			b.Fatal(err)
		}
	}
}
