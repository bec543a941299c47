package providers

import (
	"errors"
	"fmt"
)

// ErrUnsupported: the provider cannot do this action at all (exit code 9,
// "not implemented", as upstream).
var ErrUnsupported = errors.New("not supported")

// ErrNotFound: the thing the action names does not exist on the provider
// (a container already removed, an image or workflow unknown).
var ErrNotFound = errors.New("not found")

// UnsupportedError names the provider and the action a provider cannot do.
// It matches ErrUnsupported.
type UnsupportedError struct {
	Provider string
	Action   string
	Hint     string // what to do instead (optional)
}

func (e *UnsupportedError) Error() string {
	msg := fmt.Sprintf("%s does not support %s", e.Provider, e.Action)
	if e.Hint != "" {
		msg += ": " + e.Hint
	}
	return msg
}

func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// AuthError: the provider refused our credentials (exit code 5). Setting names
// what to fix ("AnsibleTower.token").
type AuthError struct {
	Provider, Instance, Setting string
	Err                         error
}

func (e *AuthError) Error() string {
	msg := fmt.Sprintf("%s: authentication failed", where(e.Provider, e.Instance))
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Setting != "" {
		msg += fmt.Sprintf("; set %s", e.Setting)
	}
	return msg
}

func (e *AuthError) Unwrap() error { return e.Err }

// UserError is bad input the user can fix (a malformed port spec, an unknown
// network, a name already taken, an unknown nick). Exit code 13, as upstream.
type UserError struct{ Err error }

func (e *UserError) Error() string { return e.Err.Error() }
func (e *UserError) Unwrap() error { return e.Err }

// UserErrorf builds a UserError; %w in format keeps the cause.
func UserErrorf(format string, args ...any) error {
	return &UserError{Err: fmt.Errorf(format, args...)}
}

// Error is a failure reported by (or while talking to) a provider, with the
// provider, instance and action it happened in. Exit code 7, as upstream.
type Error struct {
	Provider, Instance, Action string
	Err                        error
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s on %s: %v", e.Action, where(e.Provider, e.Instance), e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

func where(provider, instance string) string {
	if instance == "" {
		return provider
	}
	return provider + "/" + instance
}
