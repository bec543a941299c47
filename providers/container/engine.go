package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/broker-go/broker/providers"
)

// engine is what the provider needs from a container engine. There are two
// implementations: dockerEngine (Docker Engine API, github.com/docker/docker
// client; also Podman's Docker-compatible API) and podmanEngine (libpod
// API through the Podman v4 bindings). Every method is safe for concurrent
// use. Errors say what was being done and on which engine; a missing
// container or image wraps providers.ErrNotFound.
type engine interface {
	// Runtime is "docker" or "podman".
	Runtime() string
	// Endpoint is the engine's URL, without any password.
	Endpoint() string
	// Address is the host name of a remote engine ("" for a local socket),
	// used to reach published ports.
	Address() string

	Images(ctx context.Context) ([]imageSummary, error)
	// Image inspects one image by ID or name.
	Image(ctx context.Context, ref string) (imageDetail, error)
	Pull(ctx context.Context, ref string) error
	NetworkExists(ctx context.Context, name string) (bool, error)

	// Create makes (but does not start) a container and returns its ID.
	Create(ctx context.Context, s *createSpec) (string, error)
	Start(ctx context.Context, id string) error
	// Inspect finds a container by ID or name.
	Inspect(ctx context.Context, id string) (*containerInfo, error)
	// Remove removes a container by ID or name, running or not, with its
	// anonymous volumes.
	Remove(ctx context.Context, id string) error
	// List returns every container (running or not) that has all the labels.
	List(ctx context.Context, labels map[string]string) ([]containerSummary, error)
	// Wait blocks until the container has stopped and returns its exit code.
	Wait(ctx context.Context, id string) (int, error)
	// Logs copies the container's output to stdout and stderr (nil: that
	// stream is not read): following it until the container stops when
	// follow is true, else what it has written so far.
	Logs(ctx context.Context, id string, follow bool, stdout, stderr io.Writer) error
	// Exec runs cmd in a running container and returns its exit code. A
	// non-nil stdin is copied to the command's standard input, which is
	// closed when stdin ends (nil: the command reads nothing).
	Exec(ctx context.Context, id string, cmd []string, stdin io.Reader, stdout, stderr io.Writer) (int, error)
	// CopyTo unpacks a tar stream into dir in the container.
	CopyTo(ctx context.Context, id, dir string, tar io.Reader) error
	// CopyFrom writes a tar stream of path in the container to w.
	CopyFrom(ctx context.Context, id, path string, w io.Writer) error
	// AttachStdin attaches r to the standard input of container id, created
	// with OpenStdin and not yet started: r is copied in the background and
	// the container's input closed when r ends. The returned function ends
	// the attachment and waits for the copy to stop (except for an
	// *os.File); call it once the container has stopped.
	AttachStdin(ctx context.Context, id string, r io.Reader) (func(), error)
	// Commit makes image repo:tag from container id (running or not) and
	// returns the new image's ID.
	Commit(ctx context.Context, id, repo, tag string) (string, error)

	Close() error
}

// createSpec is a container to create, engine-neutral.
type createSpec struct {
	Name       string
	Image      string
	Hostname   string
	Command    []string
	Env        map[string]string
	Labels     map[string]string
	Ports      []portSpec
	PublishAll bool // publish every port the image exposes
	Volumes    []volumeSpec
	Networks   []string // empty: the engine's default network
	WorkDir    string   // working directory of the command ("" = the image's)
	OpenStdin  bool     // keep standard input open for one AttachStdin
}

// containerInfo is an inspected container, engine-neutral.
type containerInfo struct {
	ID       string
	Name     string
	Image    string // the image name it was created from
	Hostname string
	WorkDir  string // the working directory of its commands ("" = /)
	Status   string // running, exited, created, ...
	Running  bool
	ExitCode int
	Created  time.Time
	Labels   map[string]string
	Ports    map[string][]hostPort // "22/tcp" → bindings (published only)
	Networks map[string]string     // network name → IP address
}

type hostPort struct{ IP, Port string }

// feedStdin copies r to w in a goroutine and then closes w for writing, so
// that the command sees the end of its input. The channel is closed when the
// copy is over.
func feedStdin(r io.Reader, w io.Writer, closeWrite func() error) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(w, r) // a failed write means the command no longer reads
		closeWrite()
	}()
	return done
}

// awaitStdin waits for a feedStdin copy to end once the command is over and
// its connection closed (the copy then stops at its next write), so that
// the caller may use r again when Exec returns. Like os/exec, it does not
// wait for an *os.File (a terminal or a pipe may never answer), nor past
// ctx.
func awaitStdin(ctx context.Context, done <-chan struct{}, r io.Reader) {
	if done == nil {
		return
	}
	if _, ok := r.(*os.File); ok {
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// containerSummary is a container in a listing.
type containerSummary struct {
	ID     string
	Name   string
	Labels map[string]string
}

// imageSummary is an image in a listing.
type imageSummary struct {
	ID     string
	Tags   []string
	Labels map[string]string
	Size   int64
}

// imageDetail is an inspected image.
type imageDetail struct {
	imageSummary
	Exposed []string       // "22/tcp"
	Config  map[string]any // the image config, as the engine reports it
}

// unreachableError says an engine did not answer, and how to fix that.
type unreachableError struct {
	Runtime  string // "" when unknown
	Endpoint string
	Err      error
}

func (e *unreachableError) Error() string {
	what := "container engine"
	if e.Runtime != "" {
		what = e.Runtime + " engine"
	}
	return fmt.Sprintf("cannot reach the %s at %s: %v; %s", what, e.Endpoint, e.Err, fixHint)
}

func (e *unreachableError) Unwrap() error { return e.Err }

const fixHint = "start the engine (e.g. systemctl start docker, or systemctl start podman.socket) " +
	"or set Container.host and Container.runtime in broker_settings.yaml " +
	"(or BROKER_CONTAINER__HOST and BROKER_CONTAINER__RUNTIME)"

// isConnError reports whether err means the engine's socket did not answer.
func isConnError(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var op *net.OpError
	return errors.As(err, &op) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ECONNRESET)
}

// notFound wraps providers.ErrNotFound with what was missing and the cause.
type notFoundError struct {
	What string
	Err  error
}

func (e *notFoundError) Error() string {
	if e.Err == nil {
		return e.What + " not found"
	}
	return fmt.Sprintf("%s not found: %v", e.What, e.Err)
}
func (e *notFoundError) Unwrap() []error { return []error{providers.ErrNotFound, e.Err} }

// shortID is the 12-character form of an image or container ID.
func shortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// findImage returns the local image name ref stands for: a tag equal to
// ref, tolerating a missing or present "localhost/" (and "docker.io/")
// prefix and a missing ":latest", or an image ID (prefix). ok is false when
// no local image matches.
func findImage(images []imageSummary, ref string) (tag string, img imageSummary, ok bool) {
	if ref == "" {
		return "", img, false
	}
	// An exact tag wins.
	for _, im := range images {
		for _, t := range im.Tags {
			if t == ref {
				return t, im, true
			}
		}
	}
	want := normalizeRef(ref)
	for _, im := range images {
		for _, t := range im.Tags {
			if normalizeRef(t) == want {
				return t, im, true
			}
		}
	}
	id := strings.TrimPrefix(ref, "sha256:")
	if len(id) >= 12 && isHex(id) {
		for _, im := range images {
			if strings.HasPrefix(strings.TrimPrefix(im.ID, "sha256:"), id) {
				name := im.ID
				if len(im.Tags) > 0 {
					name = im.Tags[0]
				}
				return name, im, true
			}
		}
	}
	return "", img, false
}

// normalizeRef drops the registry prefixes engines add or omit
// ("localhost/", "docker.io/library/", "docker.io/") and adds ":latest" to
// an untagged name.
func normalizeRef(ref string) string {
	for _, p := range []string{"localhost/", "docker.io/library/", "docker.io/", "index.docker.io/library/"} {
		if strings.HasPrefix(ref, p) {
			ref = ref[len(p):]
			break
		}
	}
	if strings.Contains(ref, "@") {
		return ref
	}
	last := ref[strings.LastIndex(ref, "/")+1:]
	if !strings.Contains(last, ":") {
		ref += ":latest"
	}
	return ref
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// tagged reports the image's usable tags (engines list untagged images as
// "<none>:<none>").
func tagged(tags []string) []string {
	var out []string
	for _, t := range tags {
		if t != "" && !strings.HasPrefix(t, "<none>") {
			out = append(out, t)
		}
	}
	return out
}
