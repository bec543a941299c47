package broker

import (
	"errors"
	"fmt"
	"strings"

	"github.com/broker-go/broker/inventory"
)

// HostError is the failure of one host in a batch (checkin, extend).
type HostError struct {
	Host inventory.Host
	Err  error
}

func (e *HostError) Error() string { return fmt.Sprintf("%s: %v", e.Host.Label(), e.Err) }
func (e *HostError) Unwrap() error { return e.Err }

// BatchError reports the hosts of a batch that failed while the others went
// through. errors.Is/As see every host's error.
type BatchError struct {
	Action string
	Total  int
	Failed []*HostError
}

func (e *BatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s failed for %d of %d host(s):", e.Action, len(e.Failed), e.Total)
	for _, f := range e.Failed {
		b.WriteString("\n  ")
		b.WriteString(f.Error())
	}
	return b.String()
}

// Unwrap exposes each host's failure to errors.Is and errors.As.
func (e *BatchError) Unwrap() []error {
	out := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		out[i] = f
	}
	return out
}

// ErrNothingSelected: a command that acts on hosts matched none.
var ErrNothingSelected = errors.New("no host selected")
