package scenario

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ErrNotFound: no scenario file matches a name.
var ErrNotFound = errors.New("scenario not found")

// Find resolves a SCENARIO argument as upstream: an existing file path; with
// no suffix, <arg>.yaml; then <dir>/<arg>{.yaml,.yml,}; then a recursive
// search under dir by file stem or relative path without extension. Several
// matches are an "ambiguous" error, none wraps ErrNotFound.
func Find(arg, dir string) (string, error) {
	isFile := func(p string) bool {
		fi, err := os.Stat(p)
		return err == nil && fi.Mode().IsRegular()
	}
	if isFile(arg) {
		return arg, nil
	}
	if filepath.Ext(arg) == "" && isFile(arg+".yaml") {
		return arg + ".yaml", nil
	}
	if dir == "" {
		return "", fmt.Errorf("%w: %s", ErrNotFound, arg)
	}
	for _, suf := range []string{".yaml", ".yml", ""} {
		if p := filepath.Join(dir, arg+suf); isFile(p) {
			return p, nil
		}
	}
	list, err := List(dir)
	if err != nil {
		return "", err
	}
	want := strings.TrimSuffix(strings.TrimSuffix(filepath.ToSlash(arg), ".yaml"), ".yml")
	var matches []string
	for _, p := range list {
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		noExt := strings.TrimSuffix(rel, filepath.Ext(rel))
		if noExt == want || filepath.Base(noExt) == want || strings.HasSuffix(noExt, "/"+want) {
			matches = append(matches, p)
		}
	}
	switch len(matches) {
	case 0:
		return "", fmt.Errorf("%w: %s", ErrNotFound, arg)
	case 1:
		return matches[0], nil
	}
	return "", fmt.Errorf("ambiguous scenario name %q: %s", arg, strings.Join(matches, ", "))
}

// DirIn is where scenario names are looked up for a broker directory:
// <broker dir>/scenarios.
func DirIn(brokerDir string) string { return filepath.Join(brokerDir, "scenarios") }

// List returns the *.yaml and *.yml files under dir, recursively, skipping
// dotfiles and dot directories, sorted. A missing dir lists nothing.
func List(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == dir {
				return fs.SkipAll
			}
			return err
		}
		if p != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list scenarios in %s: %w", dir, err)
	}
	sort.Strings(out)
	return out, nil
}
