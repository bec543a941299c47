package awxfake

import "time"

// User is a controller user. Password is accepted for Basic auth and /api/login/.
type User struct {
	ID                  int
	Username, Password  string
	FirstName, LastName string
	Email               string
	IsSuperuser         bool
}

// Organization owns templates, inventories and labels.
type Organization struct {
	ID                int
	Name, Description string
}

// Inventory is a plain ("" kind), "smart" or "constructed" inventory.
type Inventory struct {
	ID                int
	Name, Description string
	Organization      int    // 0 = the default organization
	Kind              string // "", "smart" or "constructed"
	Variables         string
	Hidden            bool // invisible to the caller: lists omit it, detail answers 404, launch answers "Invalid pk"
}

// Host is a host in an inventory.
type Host struct {
	ID                int
	Inventory         int // 0 = the launch inventory when listed in Workflow.CreatesHosts
	Name, Description string
	Variables         string         // JSON or YAML text, as AWX stores it
	Facts             map[string]any // served bare by hosts/<id>/ansible_facts/
	Disabled          bool
}

// Label is a job label.
type Label struct {
	ID           int
	Name         string
	Organization int
}

// SurveyQuestion is one survey entry; a Required question without a value in the launch blocks it.
type SurveyQuestion struct {
	Variable string
	Required bool
	Default  string
}

// Timing says how a launched job's status moves. With Duration zero, the status advances by detail
// polls (GET workflow_jobs/<id>/ or jobs/<id>/): the first PendingPolls polls see "pending", the next
// WaitingPolls "waiting", the next RunningPolls "running", then the final status. With Duration set,
// the job is "running" from its launch until Duration has passed, then final; polls do not matter.
//
// EventLagPolls (job templates only, poll timing only) keeps event_processing_finished false for that
// many polls after the job reaches its final status, to exercise awxkit's second wait.
type Timing struct {
	PendingPolls, WaitingPolls, RunningPolls int
	Duration                                 time.Duration
	EventLagPolls                            int
}

// Event is a failed task event of a node's job (event runner_on_failed unless Event is set).
type Event struct {
	Play, Task, Host string
	Msg              string // event_data.res.msg
	Event            string
	IgnoreErrors     bool
}

// Node is one workflow node and the job each launch creates for it.
type Node struct {
	JobName         string // job name; defaults to the job template's name
	JobTemplate     int    // unified_job_template id; 0 = looked up by JobName, else null
	Status          string // final status: "successful" (default), "failed", "error" or "canceled"
	Artifacts       map[string]any
	FailedEvents    []Event
	Stdout          string
	JobExplanation  string
	ResultTraceback string
	DoNotRun        bool // the node never spawns a job
	// Workflow, when set, is the id of a workflow job template this node runs as a nested workflow job
	// (summary_fields.job.type "workflow_job", related.job → workflow_jobs/<id>/). Its final status is
	// the nested workflow's; the other job fields of the node are ignored.
	Workflow int
}

// Workflow is a workflow job template and what launching it does.
type Workflow struct {
	ID                int
	Name, Description string
	Organization      int    // 0 = the default organization
	Inventory         int    // default inventory; 0 = null
	ExtraVars         string // JSON or YAML text
	AskVariables      bool   // ask_variables_on_launch
	AskInventory      bool
	AskLabels         bool
	Survey            []SurveyQuestion
	CannotStart       bool // user_capabilities.start false; launch answers 403
	Nodes             []Node
	Timing            Timing
	Status            string // final workflow status; "" = "failed" if any run node did not succeed
	CreatesHosts      []Host // hosts added to the inventory when a launch finishes successfully
}

// JobTemplate is a job template; each launch creates one job described by Job.
type JobTemplate struct {
	ID                int
	Name, Description string
	Organization      int
	Inventory         int
	Playbook          string
	ExtraVars         string
	AskVariables      bool
	AskInventory      bool
	AskLabels         bool
	Survey            []SurveyQuestion
	CannotStart       bool
	Job               Node
	Timing            Timing
}
