package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/lmittmann/tint"
	"golang.org/x/term"

	"github.com/broker-go/broker"
	"github.com/broker-go/broker/settings"
)

// levelTrace is below debug, as upstream's "trace".
const levelTrace = slog.Level(-8)

var levels = map[string]slog.Level{
	"trace": levelTrace, "debug": slog.LevelDebug, "info": slog.LevelInfo,
	"warning": slog.LevelWarn, "warn": slog.LevelWarn, "error": slog.LevelError,
}

const levelNames = "silent, error, warning, info, debug, trace"

// env carries the streams and the lazily built dependencies of one run.
// Nothing expensive happens until a command asks for it: --version, --help
// and completion never load settings, open the inventory or dial an engine.
type env struct {
	stdin          *os.File
	stdout, stderr io.Writer
	environ        []string

	// global flags
	logLevel   string
	outputFile string
	noColor    bool
	// inventoryFile replaces <broker dir>/inventory.db (--inventory-file).
	inventoryFile string
	// logPath replaces logging.log_path (a scenario's config.log_path).
	logPath    string
	background bool // this process is a background child

	setOnce sync.Once
	set     *settings.Settings
	setErr  error

	brOnce sync.Once
	br     *broker.Broker
	brErr  error

	log     *slog.Logger
	fileLog *slog.Logger // the JSON log file alone (nil until settings load)

	// out collects what --output-file receives.
	out      map[string]any
	skipOut  bool // the background parent writes no output file
	closers  []func()
	exitCode int // set by a command that wants a specific success code
}

func newEnv(stdin *os.File, stdout, stderr io.Writer, environ []string) *env {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, environ: environ, out: map[string]any{}}
	e.background = e.getenv(backgroundEnv) != ""
	e.log = slog.New(e.consoleHandler(slog.LevelInfo))
	return e
}

func (e *env) getenv(key string) string {
	for i := len(e.environ) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(e.environ[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

func (e *env) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

// emit records keys for --output-file.
func (e *env) emit(kv ...any) {
	for i := 0; i+1 < len(kv); i += 2 {
		e.out[kv[i].(string)] = kv[i+1]
	}
}

func (e *env) color() bool {
	if e.noColor || e.getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := e.stderr.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (e *env) isTerminal() bool {
	f, ok := e.stdout.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func replaceAttr(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.LevelKey && len(groups) == 0 {
		if l, ok := a.Value.Any().(slog.Level); ok {
			switch {
			case l < slog.LevelDebug:
				a.Value = slog.StringValue("TRACE")
			case l == slog.LevelWarn:
				a.Value = slog.StringValue("WARNING")
			}
		}
		return a
	}
	if settings.IsSensitive(a.Key) {
		return slog.String(a.Key, "******")
	}
	if a.Value.Kind() == slog.KindAny {
		switch v := a.Value.Any().(type) {
		case map[string]any, []any:
			return slog.Any(a.Key, settings.Redact(v))
		}
	}
	return a
}

func (e *env) consoleHandler(level slog.Level) slog.Handler {
	return tint.NewHandler(e.stderr, &tint.Options{
		Level:       level,
		NoColor:     !e.color(),
		TimeFormat:  "15:04:05",
		ReplaceAttr: replaceAttr,
	})
}

// settings loads the settings once (first run writes the example file and
// says where).
func (e *env) settings() (*settings.Settings, error) {
	e.setOnce.Do(func() {
		e.set, e.setErr = broker.LoadSettings(broker.Options{Environ: e.environ})
		if e.setErr != nil {
			return
		}
		if e.set.Created {
			fmt.Fprintf(e.stderr, "broker: no settings file was found, so an example one was written to %s; edit it to configure providers (broker config view shows it).\n", e.set.File)
		}
		e.setupLogging()
	})
	return e.set, e.setErr
}

// setupLogging builds the console handler (level from --log-level, else
// logging.console_level) and the JSON file handler at logging.file_level.
func (e *env) setupLogging() {
	lg := e.set.Logging()
	consoleLevel := e.logLevel
	if consoleLevel == "" {
		consoleLevel = lg.ConsoleLevel
	}
	var hs []slog.Handler
	if l, ok := levels[strings.ToLower(consoleLevel)]; ok {
		hs = append(hs, e.consoleHandler(l))
	}
	logPath := lg.LogPath
	if e.logPath != "" {
		logPath = e.logPath
	}
	if l, ok := levels[strings.ToLower(lg.FileLevel)]; ok && logPath != "" {
		if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err == nil {
			if f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err == nil {
				e.closers = append(e.closers, func() { f.Close() })
				fh := slog.NewJSONHandler(f, &slog.HandlerOptions{Level: l, ReplaceAttr: replaceAttr})
				hs = append(hs, fh)
				e.fileLog = slog.New(fh).With("pid", os.Getpid())
			}
		}
	}
	e.log = slog.New(slog.NewMultiHandler(hs...)).With("pid", os.Getpid())
}

// broker builds the library object once.
func (e *env) broker() (*broker.Broker, error) {
	e.brOnce.Do(func() {
		set, err := e.settings()
		if err != nil {
			e.brErr = err
			return
		}
		user := broker.CurrentUser()
		inv := e.inventoryPath()
		e.br, e.brErr = broker.New(broker.Options{
			Settings:      set,
			Logger:        e.log,
			User:          user,
			Origin:        "broker_cli:" + user,
			InventoryPath: inv,
		})
	})
	return e.br, e.brErr
}

// finish prints the error (if any), writes --output-file, and returns the
// exit code.
func (e *env) finish(_ context.Context, err error) int {
	code := exitCode(err)
	if err == nil && e.exitCode != 0 {
		code = e.exitCode
	}
	if e.fileLog != nil {
		if err != nil {
			e.fileLog.Error("command failed", "args", redactArgv(os.Args[1:]), "exit_code", code, "error", err.Error())
		} else {
			e.fileLog.Debug("command done", "args", redactArgv(os.Args[1:]), "exit_code", code)
		}
	}
	if err != nil {
		var st *statusError
		if !errors.As(err, &st) {
			fmt.Fprintf(e.stderr, "broker: error: %s\n", err)
		}
	}
	if e.outputFile != "" && !e.skipOut {
		e.out["return_code"] = code
		if err != nil {
			e.out["error_message"] = err.Error()
		}
		if werr := writeJSONFile(e.outputFile, settings.Redact(e.out)); werr != nil {
			fmt.Fprintf(e.stderr, "broker: error: writing --output-file: %v\n", werr)
			if code == 0 {
				code = exitError
			}
		}
	}
	return code
}

// writeJSONFile replaces path with v as indented JSON (write to a temporary
// file, then rename, so a reader never sees half a file).
func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// redactArgv hides the values of sensitive options (--token X,
// --password=X) in a command line that is about to be logged.
func redactArgv(argv []string) []string {
	out := append([]string(nil), argv...)
	for i := 0; i < len(out); i++ {
		if !strings.HasPrefix(out[i], "-") {
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(out[i], "-"), "=")
		if !settings.IsSensitive(strings.ReplaceAll(name, "-", "_")) {
			continue
		}
		if hasValue {
			out[i] = out[i][:strings.Index(out[i], "=")+1] + "******"
		} else if i+1 < len(out) {
			out[i+1] = "******"
			i++
		}
	}
	return out
}

// useLogPath sends the JSON file log to path from now on (a scenario's
// config.log_path). Call it before e.broker().
func (e *env) useLogPath(path string) error {
	if _, err := e.settings(); err != nil {
		return err
	}
	e.logPath = path
	e.setupLogging()
	return nil
}

// inventoryPath is --inventory-file, else BROKER_INVENTORY_FILE, else "".
func (e *env) inventoryPath() string {
	if e.inventoryFile != "" {
		return e.inventoryFile
	}
	return e.getenv("BROKER_INVENTORY_FILE")
}
