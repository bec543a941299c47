package container

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/broker-go/broker/internal/testenv"
	"github.com/broker-go/broker/providers"
)

// tcpProxy listens on a loopback TCP port and forwards every connection to
// the engine's unix socket, so that a tcp:// engine URL can be tested on the
// real engines.
func tcpProxy(t *testing.T, socket string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				u, err := net.Dial("unix", socket)
				if err != nil {
					return
				}
				defer u.Close()
				done := make(chan struct{}, 2)
				go func() { io.Copy(u, c); u.(*net.UnixConn).CloseWrite(); done <- struct{}{} }()
				go func() { io.Copy(c, u); c.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
				<-done
				<-done
			}()
		}
	}()
	return "tcp://" + ln.Addr().String()
}

// TestOverTCP checks out, lists, executes and checks in through a tcp://
// engine URL, on both runtimes.
func TestOverTCP(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, e testenv.Engine) {
		host := tcpProxy(t, strings.TrimPrefix(e.Host, "unix://"))
		p := newTestProvider(t, providers.Spec{Instance: "tcp", Config: map[string]any{"runtime": e.Runtime, "host": host}, User: uniqueUser(t)})
		h := checkout(t, p, providers.Args{"container_host": testenv.BusyboxImage})
		if got := h["container_engine"]; got != host {
			t.Errorf("container_engine = %v, want %s", got, host)
		}
		if got, err := p.List(t.Context(), ""); err != nil || len(got) != 1 {
			t.Errorf("List over tcp = %v, %v; want the one host", names(got), err)
		}
		res, err := p.Execute(t.Context(), providers.Args{"container_app": testenv.BusyboxImage, "command": "echo over tcp"}, providers.ExecOptions{})
		if err != nil || res.Output != "over tcp\n" || res.ExitCode != 0 {
			t.Errorf("Execute over tcp = %+v, %v", res, err)
		}
		if err := p.Checkin(t.Context(), h); err != nil {
			t.Fatalf("Checkin over tcp: %v", err)
		}
	})
}
