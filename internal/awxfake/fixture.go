package awxfake

// Fixture returns a world modelled on upstream broker's AnsibleTower test data (awx-api.md §4.3–4.5):
// user jdoe (id 42, password "password", token "fixture-token"), organization SatLab (3), inventories
// satlab-inv (7, default for the templates) and jdoe-inventory (8, with one host), and these workflows,
// all prompting for variables, inventory and labels:
//
//	34  deploy-rhel       last node publishes _broker_facts for fake.host.test.com / fake-physical-host;
//	                      a successful launch adds host fake-physical-host to the launch inventory
//	245 deploy-satellite  last node publishes host_type satellite for test-satellite-host.example.com
//	35  remove-vm         extra_vars {"source_vm": "", "host_type": "host"}, artifacts {}
//	36  extend-vm         extra_vars {"target_vm": "", "new_expire_time": "", "provider_labels": {}}
//	40  list-templates    artifacts data_out.list_templates
//	41  list-flavors      artifacts data_out.list_flavors
//	37  locked-vars       no ask_variables_on_launch: any extra var is a 400
//
// Each launch finishes on its first poll; change Timing on a copy for slower runs.
func Fixture() Config {
	return Config{
		Token: "fixture-token", Username: "jdoe", Password: "password",
		Organizations: []Organization{{ID: 3, Name: "SatLab"}},
		Users:         []User{{ID: 42, Username: "jdoe", Password: "password"}},
		Inventories: []Inventory{
			{ID: 7, Name: "satlab-inv", Organization: 3},
			{ID: 8, Name: "jdoe-inventory", Organization: 3},
		},
		Hosts: []Host{{ID: 55, Inventory: 8, Name: "test-satellite-stream-172-rhel9.7",
			Variables: `{"ansible_host": "10.0.0.5", "fqdn": "test-satellite-host.example.com"}`,
			Facts: map[string]any{"ansible_fqdn": "test-satellite-host.example.com", "ansible_distribution": "RedHat",
				"ansible_distribution_version": "9.7", "ansible_interfaces": []any{"lo", "eth0"},
				"_broker_args":  map[string]any{"host_type": "satellite"},
				"_broker_facts": map[string]any{"fqdn": "test-satellite-host.example.com", "name": "test-satellite-stream-172-rhel9.7"}}}},
		JobTemplates: []JobTemplate{
			{ID: 70, Name: "satlab-tower-deploy-vm", Organization: 3, Inventory: 7, AskVariables: true, AskInventory: true},
			{ID: 77, Name: "satlab-tower-deploy-set-stats", Organization: 3, Inventory: 7, AskVariables: true, AskInventory: true},
		},
		Workflows: []Workflow{
			{ID: 34, Name: "deploy-rhel", Description: "Deploy a RHEL VM", Organization: 3, Inventory: 7,
				AskVariables: true, AskInventory: true, AskLabels: true,
				ExtraVars: `{"deploy_scenario": "baserhel", "deploy_rhel_version": "", "host_type": "host"}`,
				Nodes: []Node{
					{JobTemplate: 70, JobName: "deploy-baserhel-from-rhvm", Artifacts: map[string]any{"vm_name": "fake-physical-host"}},
					{JobTemplate: 77, Artifacts: map[string]any{
						"_broker_args": map[string]any{"host_type": "host", "workflow": "deploy-rhel"},
						"_broker_facts": map[string]any{"fqdn": "fake.host.test.com", "name": "fake-physical-host",
							"os_distribution": "RedHat", "os_distribution_version": "9.4", "host_type": "host"}}}},
				CreatesHosts: []Host{{Name: "fake-physical-host", Variables: `{"fqdn": "fake.host.test.com", "ansible_host": "10.0.0.9"}`,
					Facts: map[string]any{"ansible_fqdn": "fake.host.test.com", "ansible_distribution": "RedHat",
						"ansible_distribution_version": "9.4", "_broker_args": map[string]any{"host_type": "host", "workflow": "deploy-rhel"},
						"_broker_facts": map[string]any{"fqdn": "fake.host.test.com", "name": "fake-physical-host"}}}}},
			{ID: 245, Name: "deploy-satellite", Organization: 3, Inventory: 7,
				AskVariables: true, AskInventory: true, AskLabels: true,
				ExtraVars: `{"deploy_sat_version": "stream", "host_type": "satellite"}`,
				Nodes: []Node{
					{JobTemplate: 70, Artifacts: map[string]any{"vm_name": "test-satellite-stream-172-rhel9.7"}},
					{JobTemplate: 77, Artifacts: map[string]any{"host_type": "satellite", "fqdn": "test-satellite-host.example.com",
						"_broker_args": map[string]any{"host_type": "satellite"},
						"_broker_facts": map[string]any{"fqdn": "test-satellite-host.example.com",
							"name": "test-satellite-stream-172-rhel9.7", "host_type": "satellite"}}}}},
			{ID: 35, Name: "remove-vm", Organization: 3, Inventory: 7, AskVariables: true, AskInventory: true, AskLabels: true,
				ExtraVars: `{"source_vm": "", "host_type": "host"}`, Nodes: []Node{{JobName: "satlab-tower-remove-vm"}}},
			{ID: 36, Name: "extend-vm", Organization: 3, Inventory: 7, AskVariables: true, AskInventory: true, AskLabels: true,
				ExtraVars: `{"target_vm": "", "new_expire_time": "", "provider_labels": {}}`, Nodes: []Node{{JobName: "satlab-tower-extend-vm"}}},
			{ID: 40, Name: "list-templates", Organization: 3, Inventory: 7, AskVariables: true, AskInventory: true, AskLabels: true,
				Nodes: []Node{{JobName: "list-templates", Artifacts: map[string]any{"data_out": map[string]any{
					"list_templates": []any{"tpl-rhel-9.4", "tpl-rhel-9.7"}}}}}},
			{ID: 41, Name: "list-flavors", Organization: 3, Inventory: 7, AskVariables: true, AskInventory: true, AskLabels: true,
				Nodes: []Node{{JobName: "list-flavors", Artifacts: map[string]any{"data_out": map[string]any{
					"list_flavors": []any{"small", "medium", "large"}}}}}},
			{ID: 37, Name: "locked-vars", Organization: 3, Inventory: 7, ExtraVars: `{"a": "1"}`},
		},
	}
}
