package settings

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// FileName is the settings file's name inside the broker directory.
const FileName = "broker_settings.yaml"

// Dir returns the broker directory, creating it if it is missing:
// $BROKER_DIRECTORY when set and not empty, else ~/.broker.
//
// Unlike upstream, which silently ignores a BROKER_DIRECTORY that does not
// name an existing directory, Dir creates it: a typo then shows up as a new,
// empty directory with a fresh settings file rather than as settings quietly
// read from somewhere else.
//
// getenv is os.Getenv in production; tests pass their own. The home directory
// is $HOME (through getenv), else os.UserHomeDir.
func Dir(getenv func(string) string) (string, error) {
	dir := getenv("BROKER_DIRECTORY")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			var err error
			if home, err = os.UserHomeDir(); err != nil {
				return "", fmt.Errorf("broker directory: set BROKER_DIRECTORY or HOME: %w", err)
			}
		}
		dir = filepath.Join(home, ".broker")
	} else {
		dir = expandHome(dir, getenv)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("broker directory %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", fmt.Errorf("create broker directory: %w", err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("broker directory: %w", err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("broker directory %s is not a directory", abs)
	}
	return abs, nil
}

// expandHome replaces a leading "~" or "~/" with the home directory.
func expandHome(p string, getenv func(string) string) string {
	if p != "~" && !strings.HasPrefix(p, "~/") {
		return p
	}
	home := ""
	if getenv != nil {
		home = getenv("HOME")
	}
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return p
		}
		home = h
	}
	return filepath.Join(home, strings.TrimPrefix(p, "~"))
}

// BackupFile is where the config commands keep the previous settings file:
// the file name with its suffix replaced by ".bak"
// (broker_settings.yaml → broker_settings.bak).
func BackupFile(file string) string {
	return strings.TrimSuffix(file, filepath.Ext(file)) + ".bak"
}

// LockFile is the lock file guarding writes to file.
func LockFile(file string) string { return file + ".lock" }

// writeAtomic writes data to a temporary file next to path and renames it
// over path, so readers see the old or the new content, never a mix. The
// file keeps its current permissions; a new file gets perm.
func writeAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if st, err := os.Stat(path); err == nil {
		perm = st.Mode().Perm()
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
