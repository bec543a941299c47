package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/broker-go/broker"
)

func copyCommand(e *env) *cli.Command {
	return &cli.Command{
		Name:      "copy",
		Usage:     "copy files and directories to or from a host, like scp",
		ArgsUsage: "SRC DEST   (one of them HOST:PATH, HOST being a local id, hostname or name)",
		Description: "broker copy ./conf 0:/etc/app/      copies ./conf into /etc/app/ on host 0\n" +
			"broker copy web1:/var/log/app.log .    copies a file from host web1\n" +
			"A DEST ending in / is a directory to copy into; missing parent directories are created.",
		Category: "Core actions",
		Action: func(c *cli.Context) error {
			if c.NArg() != 2 {
				return &usageError{msg: "copy needs SRC and DEST, one of them HOST:PATH (e.g. broker copy file.txt 0:/tmp/)"}
			}
			b, err := e.broker()
			if err != nil {
				return err
			}
			return runCopy(c.Context, e, b, c.Args().Get(0), c.Args().Get(1))
		},
	}
}

// hostPath splits "HOST:PATH" where HOST names an inventory host. Hostnames
// may hold a colon themselves (127.0.0.1:32768), so every colon is tried and
// the longest prefix that names a host wins; no match means a local path.
func hostPath(hs map[string]*broker.Host, s string) (*broker.Host, string) {
	for i := strings.LastIndex(s, ":"); i > 0; i = strings.LastIndex(s[:i], ":") {
		if h, ok := hs[s[:i]]; ok {
			return h, s[i+1:]
		}
	}
	return nil, s
}

func runCopy(ctx context.Context, e *env, b *broker.Broker, src, dst string) error {
	all, _, err := b.Hosts(ctx, broker.Selection{All: true})
	if err != nil {
		return err
	}
	byID := map[string]*broker.Host{}
	for i, h := range all {
		for _, k := range []string{h.Name(), h.Hostname()} {
			if k != "" {
				if _, dup := byID[k]; !dup {
					byID[k] = h
				}
			}
		}
		byID[fmt.Sprint(i)] = h
	}
	sh, sp := hostPath(byID, src)
	dh, dp := hostPath(byID, dst)
	switch {
	case sh != nil && dh != nil:
		return &usageError{msg: "copy between two hosts is not supported: copy to a local path first"}
	case sh == nil && dh == nil:
		return &usageError{msg: fmt.Sprintf("neither %q nor %q names a host: write HOST:PATH with HOST a local id, hostname or name (see broker inventory)", src, dst)}
	case dh != nil:
		defer dh.Close()
		if err := dh.Put(ctx, sp, dp); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "copied %s to %s:%s\n", sp, dh.Label(), dp)
	default:
		defer sh.Close()
		if err := sh.Get(ctx, sp, dp); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "copied %s:%s to %s\n", sh.Label(), sp, dp)
	}
	e.emit("source", src, "destination", dst)
	return nil
}
