package main

import (
	"context"
	"errors"

	"github.com/broker-go/broker"
	"github.com/broker-go/broker/hosts"
	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/providers"
	"github.com/broker-go/broker/scenario"
	"github.com/broker-go/broker/settings"
)

// Exit codes: upstream's numbers (broker/exceptions.py) plus 130 for Ctrl-C.
const (
	exitOK             = 0
	exitError          = 1
	exitUsage          = 2
	exitAuth           = 5
	exitProvider       = 7
	exitConfig         = 8
	exitNotImplemented = 9
	exitHost           = 10
	exitUser           = 13
	exitScenario       = 16
	exitInterrupted    = 130
)

// usageError is a command-line mistake (exit 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// hostError: a command or a copy failed on hosts (exit 10, as upstream's
// HostError).
type hostError struct{ msg string }

func (e *hostError) Error() string { return e.msg }

// statusError carries the exit status of something broker ran for the user
// (broker execute exits with its container's status).
type statusError struct{ code int }

func (e *statusError) Error() string { return "the action exited with a non-zero status" }

// exitCode maps an error to the process exit code. This is the only place
// that does.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var (
		st  *statusError
		be  *broker.BatchError
		ue  *usageError
		ve  *settings.ValidationError
		nf  *settings.NotFoundError
		ae  *providers.AuthError
		use *providers.UserError
		pe  *providers.Error
		he  *hostError
		hse *hosts.Error
		sce *scenarioError
	)
	switch {
	case errors.As(err, &st):
		return st.code
	case errors.As(err, &be) && len(be.Failed) > 0:
		return exitCode(be.Failed[0].Err)
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, scenario.ErrNotImplemented):
		return exitNotImplemented
	case errors.As(err, &sce):
		return exitScenario
	case errors.As(err, &he), errors.As(err, &hse):
		if errors.Is(err, hosts.ErrAuth) {
			return exitAuth
		}
		return exitHost
	case errors.As(err, &ae):
		return exitAuth
	case errors.As(err, &ve):
		return exitConfig
	case errors.Is(err, providers.ErrUnsupported):
		return exitNotImplemented
	case errors.As(err, &use), errors.As(err, &nf):
		return exitUser
	case errors.As(err, &pe):
		return exitProvider
	case errors.Is(err, inventory.ErrLocked):
		return exitError
	}
	return exitError
}
