package ansibletower_test

import (
	"strings"
	"testing"

	"github.com/broker-go/broker"
	"github.com/broker-go/broker/internal/awxfake"
)

// TestThroughBroker drives the registered provider through the library:
// checkout records the host, checkin releases it and drops the record.
func TestThroughBroker(t *testing.T) {
	s := awxfake.New(awxfake.Config{
		T: t, Token: "tok",
		Inventories: []awxfake.Inventory{{ID: 7, Name: "satlab-inv"}},
		Workflows: []awxfake.Workflow{
			{ID: 34, Name: "deploy-rhel", Inventory: 7, AskVariables: true, AskInventory: true,
				Nodes: []awxfake.Node{{JobName: "set-stats", Artifacts: map[string]any{
					"_broker_args":  map[string]any{"host_type": "host"},
					"_broker_facts": map[string]any{"fqdn": "vm1.example.com", "name": "vm1"},
				}}}},
			{ID: 35, Name: "remove-vm", Inventory: 7, AskVariables: true, AskInventory: true,
				Nodes: []awxfake.Node{{JobName: "remove"}}},
		},
	})
	b, err := broker.New(broker.Options{
		Dir: t.TempDir(),
		Overrides: map[string]any{
			"AnsibleTower.base_url":               s.URL,
			"AnsibleTower.token":                  "tok",
			"AnsibleTower.workflow_poll_interval": 0.001,
		},
		Environ: []string{},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.Checkout(t.Context(), broker.CheckoutOptions{ArgsRequest: broker.ArgsRequest{Args: broker.Args{"workflow": "deploy-rhel"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 1 || res.Records[0].Host.Hostname() != "vm1.example.com" || res.Records[0].Host.Provider() != "AnsibleTower" {
		t.Fatalf("records %+v", res.Records)
	}
	if _, err := b.Checkin(t.Context(), broker.CheckinOptions{Records: res.Records}); err != nil {
		t.Fatal(err)
	}
	recs, err := b.Inventory(t.Context(), "")
	if err != nil || len(recs) != 0 {
		t.Fatalf("left: %v %v", recs, err)
	}
	var released bool
	for _, r := range s.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/35/launch/") {
			released = true
		}
	}
	if !released {
		t.Fatal("remove-vm was not launched")
	}
}
