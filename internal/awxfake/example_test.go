package awxfake_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/broker-go/broker/internal/awxfake"
)

// A workflow that produces a host: its last node publishes _broker_args/_broker_facts, and a
// successful launch adds the host to the launch inventory (for inventory sync).
func Example() {
	s := awxfake.New(awxfake.Config{Token: "t0k", Username: "jdoe"})
	defer s.Close()
	inv := s.AddInventory(awxfake.Inventory{Name: "jdoe-inventory"})
	id := s.AddWorkflow(awxfake.Workflow{Name: "deploy-rhel", Inventory: inv, AskVariables: true, AskInventory: true,
		ExtraVars: `{"deploy_rhel_version": ""}`, Timing: awxfake.Timing{PendingPolls: 1, RunningPolls: 2},
		Nodes: []awxfake.Node{{JobName: "deploy", Artifacts: map[string]any{
			"_broker_args":  map[string]any{"host_type": "host"},
			"_broker_facts": map[string]any{"fqdn": "vm1.example.com", "name": "vm1"}}}},
		CreatesHosts: []awxfake.Host{{Name: "vm1", Variables: `{"fqdn": "vm1.example.com"}`}}})

	req, _ := http.NewRequest("POST", s.URL+s.Prefix()+fmt.Sprintf("workflow_job_templates/%d/launch/", id),
		strings.NewReader(`{"extra_vars": "{\"deploy_rhel_version\": \"9.7\"}"}`))
	req.Header.Set("Authorization", "Bearer t0k")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var job map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&job)
	fmt.Println(resp.StatusCode, job["type"], job["status"], job["url"])
	// Output: 201 workflow_job pending /api/v2/workflow_jobs/3863901/
}
