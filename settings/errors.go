package settings

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrLocked is matched (errors.Is) by the error returned when the settings
// file's lock could not be taken within the lock timeout (10 s).
var ErrLocked = errors.New("settings file is locked")

// ValidationError is a setting with a value broker cannot use, or a settings
// file that is not valid YAML. Callers map it to the configuration exit code.
//
// Its message names where the value came from, the key, what was wanted and
// what was found:
//
//	/home/u/.broker/broker_settings.yaml:4: logging.console_level: want one of error, warning, info, debug, trace, silent; got "loud"
type ValidationError struct {
	// File is where the value came from: the settings file, or
	// "environment variable BROKER_…", or "command line".
	File string
	// Line is the 1-based line in File when known, else 0.
	Line int
	// Key is the dotted key ("" for the file as a whole).
	Key string
	// Want describes an acceptable value. When empty, Got is the whole
	// complaint (used for YAML syntax errors).
	Want string
	// Got describes the value found.
	Got string

	path []string // Key split, for line look-ups
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":")
			b.WriteString(strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	if e.Want == "" {
		b.WriteString(e.Got)
		return b.String()
	}
	b.WriteString("want ")
	b.WriteString(e.Want)
	b.WriteString("; got ")
	b.WriteString(e.Got)
	return b.String()
}

// NotFoundError is a name the caller asked for that the settings do not
// define: a provider section, an instance, a nick, a chunk of the settings
// file, a backup file or a validation target.
type NotFoundError struct {
	// Kind is what was looked for: "provider", "instance", "nick", "chunk",
	// "file", "backup" or "validation target".
	Kind string
	// Name is what was asked for (for "file" and "backup", the path).
	Name string
	// Scope narrows Kind: the provider of an instance, or the file a chunk
	// was looked for in.
	Scope string
	// Known lists the names that do exist (for the message; may be empty).
	Known []string
	// Hint tells the user what to do next.
	Hint string
}

func (e *NotFoundError) Error() string {
	var b strings.Builder
	switch e.Kind {
	case "chunk":
		fmt.Fprintf(&b, "chunk %q not found", e.Name)
		if e.Scope != "" {
			b.WriteString(" in ")
			b.WriteString(e.Scope)
		}
	case "backup":
		fmt.Fprintf(&b, "no backup file found at %s", e.Name)
	case "file":
		fmt.Fprintf(&b, "no settings file at %s", e.Name)
	default:
		fmt.Fprintf(&b, "unknown %s %q", e.Kind, e.Name)
		if e.Scope != "" {
			b.WriteString(" of ")
			b.WriteString(e.Scope)
		}
		if len(e.Known) > 0 {
			fmt.Fprintf(&b, ": known %ss are %s", e.Kind, strings.Join(e.Known, ", "))
		} else if e.Kind != "" {
			fmt.Fprintf(&b, ": there are no %ss", e.Kind)
		}
	}
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}
