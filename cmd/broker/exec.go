package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"
	"golang.org/x/sync/errgroup"

	"github.com/broker-go/broker"
	"github.com/broker-go/broker/hosts"
)

func execCommand(e *env) *cli.Command {
	cmd := &cli.Command{
		Name:      "exec",
		Usage:     "run a command on hosts of the inventory, concurrently",
		ArgsUsage: "[ID|HOSTNAME|NAME ...] -- COMMAND [ARG...]",
		Description: "Runs COMMAND through the host's shell on every selected host (containers through the\n" +
			"engine's exec API, others over SSH). Output lines are prefixed with the host's name. The\n" +
			"exit code is the command's own status for one host; for several, 10 if any failed.",
		Category: "Core actions",
		Flags:    selectionFlags(),
		// the command after "--" is ours to keep: urfave would drop the "--"
		SkipFlagParsing: true,
		Args:            true,
	}
	cmd.Action = func(c *cli.Context) error {
		left, command, err := splitCommand(c.Args().Slice())
		if err != nil {
			if p, perr := parseMixed(cmd, c.Args().Slice()); perr == nil && p.help {
				return showHelp(c, cmd)
			}
			return err
		}
		p, err := parseMixed(cmd, left)
		if err != nil {
			return err
		}
		if p.help {
			return showHelp(c, cmd)
		}
		for k, v := range p.extra {
			return &usageError{msg: fmt.Sprintf("unknown option --%s %v for exec (see broker exec --help)", k, v)}
		}
		ids := p.positional
		b, err := e.broker()
		if err != nil {
			return err
		}
		hs, notFound, err := b.Hosts(c.Context, broker.Selection{Hosts: ids, All: p.boolean("all"), Filter: p.str("filter")})
		if len(notFound) > 0 {
			return &usageError{msg: fmt.Sprintf("not in the inventory: %s (see broker inventory)", strings.Join(notFound, ", "))}
		}
		if err != nil {
			return err
		}
		return runExec(c.Context, e, b, hs, command)
	}
	return cmd
}

// splitCommand splits "IDS... -- COMMAND..." (urfave keeps the "--").
func splitCommand(args []string) (ids []string, command string, err error) {
	for i, a := range args {
		if a == "--" {
			if i == len(args)-1 {
				break
			}
			return args[:i], shellJoin(args[i+1:]), nil
		}
	}
	return nil, "", &usageError{msg: "give the command after --, e.g. broker exec --all -- hostname"}
}

// shellJoin joins argv into one shell command: a single argument is used as
// it is (broker exec 0 -- 'ls | wc -l'); several are quoted where needed.
func shellJoin(argv []string) string {
	if len(argv) == 1 {
		return argv[0]
	}
	out := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r == '-' || r == '_' || r == '.' || r == '/' || r == '=' || r == ':' || r == ',' || r == '@' ||
				r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) < 0 {
			out[i] = a
		} else {
			out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
	}
	return strings.Join(out, " ")
}

type execResult struct {
	Hostname string `json:"hostname"`
	Name     string `json:"name"`
	Status   int    `json:"status"`
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
	Error    string `json:"error,omitempty"`
}

func runExec(ctx context.Context, e *env, b *broker.Broker, hs []*broker.Host, command string) error {
	if len(hs) == 0 {
		return &usageError{msg: "no host selected"}
	}
	var outMu sync.Mutex // output lines of different hosts never interleave mid-line
	results := make([]execResult, len(hs))
	errs := make([]error, len(hs))
	g := new(errgroup.Group)
	limit := b.Settings().ThreadLimit()
	if limit <= 0 {
		limit = 64
	}
	g.SetLimit(limit)
	for i, h := range hs {
		g.Go(func() error {
			defer h.Close()
			prefix := h.Label() + ": "
			stdout := &linePrefixer{w: e.stdout, prefix: prefix, mu: &outMu}
			stderr := &linePrefixer{w: e.stderr, prefix: prefix, mu: &outMu}
			res, err := h.RunWith(ctx, command, hosts.RunOptions{Stdout: stdout, Stderr: stderr})
			stdout.Flush()
			stderr.Flush()
			results[i] = execResult{Hostname: h.Hostname(), Name: h.Name(), Status: res.Status, Stdout: res.Stdout, Stderr: res.Stderr}
			if err != nil {
				errs[i] = err
				results[i].Error = err.Error()
				results[i].Status = -1
			}
			return nil
		})
	}
	g.Wait()
	e.emit("command", command, "results", results)
	var failed []string
	for _, r := range results {
		label := r.Name
		if label == "" {
			label = r.Hostname
		}
		switch {
		case r.Error != "":
			failed = append(failed, fmt.Sprintf("%s (%s)", label, r.Error))
		case r.Status != 0:
			failed = append(failed, fmt.Sprintf("%s (status %d)", label, r.Status))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	if len(hs) == 1 && results[0].Error == "" {
		return &statusError{code: results[0].Status}
	}
	if len(hs) == 1 {
		return errs[0]
	}
	return &hostError{msg: fmt.Sprintf("the command failed on %d of %d hosts: %s", len(failed), len(hs), strings.Join(failed, ", "))}
}

// linePrefixer writes whole lines, each prefixed, under a shared lock.
type linePrefixer struct {
	w      io.Writer
	prefix string
	mu     *sync.Mutex
	buf    bytes.Buffer
}

func (p *linePrefixer) Write(b []byte) (int, error) {
	p.buf.Write(b)
	for {
		i := bytes.IndexByte(p.buf.Bytes(), '\n')
		if i < 0 {
			return len(b), nil
		}
		line := p.buf.Next(i + 1)
		p.mu.Lock()
		io.WriteString(p.w, p.prefix)
		p.w.Write(line)
		p.mu.Unlock()
	}
}

// Flush writes a last line that had no newline.
func (p *linePrefixer) Flush() {
	if p.buf.Len() == 0 {
		return
	}
	p.mu.Lock()
	io.WriteString(p.w, p.prefix)
	p.w.Write(p.buf.Bytes())
	io.WriteString(p.w, "\n")
	p.mu.Unlock()
	p.buf.Reset()
}
