package container

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/broker-go/broker/inventory"
	"github.com/broker-go/broker/providers"
)

// labelOneOff marks the containers of RunOnce (which also carry
// broker.ephemeral=true), so that one left behind by an interrupted run can
// be found: docker ps -a --filter label=broker.oneoff=true.
const labelOneOff = "broker.oneoff"

// maxOutputFile bounds the file RunOnce reads back.
const maxOutputFile = 64 << 20

// OneOff is one run of RunOnce: a fresh container that runs one command
// and is removed when it exits.
type OneOff struct {
	Image   string            // required; pulled when not local
	Command []string          // argv; empty = the image's default command
	Env     map[string]string // added to the image's environment
	WorkDir string            // "" = the image's
	Volumes []Mount
	Stdin   io.Reader // nil = no standard input
	// OutputFile, when set, is an absolute path in the container read back
	// after the command exits (OneOffResult.File).
	OutputFile string
	// Origin is recorded as broker.origin (and $BROKER_ORIGIN), like
	// checkout's _broker_origin.
	Origin string
	// Timeout bounds the run (0 = none); the container is killed and
	// removed when it expires.
	Timeout time.Duration
}

// Mount is a bind mount of a host path (absolute) or a named volume;
// read-only unless RW.
type Mount struct {
	Source string
	Target string // absolute path in the container
	RW     bool
}

// OneOffResult is how a one-off container ended.
type OneOffResult struct {
	Status int // the command's exit status
	Stdout string
	Stderr string
	File   string // OneOff.OutputFile's content
}

// RunOnce runs spec in a fresh container on this instance's engine: the
// container is created (with checkout's labels plus broker.ephemeral=true
// and broker.oneoff=true), spec.Stdin attached, started and waited for;
// its output is read, then spec.OutputFile, and the container is removed
// in every case, also when ctx is cancelled. A non-zero exit status is not
// an error (see OneOffResult.Status).
func (p *Provider) RunOnce(ctx context.Context, spec OneOff) (res OneOffResult, err error) {
	res.Status = -1
	if spec.Image == "" {
		return res, providers.UserErrorf("a one-off container needs an image")
	}
	if spec.OutputFile != "" && !path.IsAbs(spec.OutputFile) {
		return res, providers.UserErrorf("output file %q: want an absolute path in the container", spec.OutputFile)
	}
	args := providers.Args{"container_app": spec.Image}
	if spec.Origin != "" {
		args["_broker_origin"] = spec.Origin
	}
	cs, err := p.spec(args, spec.Image, true)
	if err != nil {
		return res, err
	}
	cs.Labels[labelOneOff] = "true"
	cs.Command = spec.Command
	cs.WorkDir = spec.WorkDir
	cs.OpenStdin = spec.Stdin != nil
	if len(spec.Env) > 0 && cs.Env == nil {
		cs.Env = map[string]string{}
	}
	for k, v := range spec.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.ContainsRune(v, 0) {
			return res, providers.UserErrorf("invalid environment variable %q: names cannot be empty or hold '=' or NUL", k)
		}
		cs.Env[k] = v
	}
	for _, m := range spec.Volumes {
		if m.Source == "" || !path.IsAbs(m.Target) {
			return res, providers.UserErrorf("invalid volume %s:%s: want a source and an absolute target", m.Source, m.Target)
		}
		cs.Volumes = append(cs.Volumes, volumeSpec{Source: m.Source, Target: m.Target, ReadOnly: !m.RW})
	}
	if spec.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, spec.Timeout, fmt.Errorf("timed out after %s", spec.Timeout))
		defer cancel()
	}
	eng, err := p.engine(ctx)
	if err != nil {
		return res, err
	}
	tag, err := p.ensureImage(ctx, eng, cs.Image)
	if err != nil {
		return res, err
	}
	cs.Image = tag
	for _, n := range cs.Networks {
		ok, err := eng.NetworkExists(ctx, n)
		if err != nil {
			return res, err
		}
		if !ok {
			return res, providers.UserErrorf("network %q not found on %s %s; create it or fix Container.network", n, eng.Runtime(), eng.Endpoint())
		}
	}
	// As in launch: the create is not interrupted half-way, so that its ID
	// is known and the container can be removed.
	id, err := eng.Create(context.WithoutCancel(ctx), cs)
	if id != "" {
		defer func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
			defer cancel()
			if rerr := eng.Remove(rctx, id); rerr != nil && !errors.Is(rerr, providers.ErrNotFound) {
				p.log.Warn("could not remove a one-off container", "name", cs.Name, "id", shortID(id), "error", rerr)
				err = errors.Join(err, fmt.Errorf("remove one-off container %s: %w; remove it by hand (label %s=true)", cs.Name, rerr, labelOneOff))
			} else {
				p.log.Debug("one-off container removed", "name", cs.Name, "id", shortID(id))
			}
		}()
	}
	if err != nil {
		return res, err
	}
	p.log.Debug("one-off container created", "name", cs.Name, "id", shortID(id), "image", cs.Image)
	fail := func(what string, err error) (OneOffResult, error) {
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded) && spec.Timeout > 0:
			err = context.Cause(ctx)
		case ctx.Err() != nil:
			err = fmt.Errorf("interrupted: %w", context.Cause(ctx))
		}
		return res, fmt.Errorf("run %s in one-off container %s (removed): %s: %w", spec.Image, cs.Name, what, err)
	}
	if spec.Stdin != nil {
		detach, err := eng.AttachStdin(ctx, id, spec.Stdin)
		if err != nil {
			return fail("attach its input", err)
		}
		defer detach()
	}
	if err := ctx.Err(); err != nil {
		return fail("start", err)
	}
	if err := eng.Start(context.WithoutCancel(ctx), id); err != nil {
		return fail("start", err)
	}
	code, err := eng.Wait(ctx, id)
	if err != nil {
		return fail("wait", err)
	}
	res.Status = code
	// Read the output (after the end: scenario steps use it whole).
	var stdout, stderr bytes.Buffer
	if err := eng.Logs(ctx, id, false, &stdout, &stderr); err != nil {
		return fail("read its output", err)
	}
	res.Stdout, res.Stderr = stdout.String(), stderr.String()
	if spec.OutputFile != "" {
		f, err := readFile(ctx, eng, id, spec.OutputFile)
		if err != nil {
			return fail(fmt.Sprintf("exit status %d; read %s", code, spec.OutputFile), err)
		}
		res.File = f
	}
	p.log.Debug("one-off container done", "name", cs.Name, "exit", code)
	return res, nil
}

var errStopRead = errors.New("read enough")

// readFile reads one regular file out of a (stopped) container.
func readFile(ctx context.Context, eng engine, id, file string) (string, error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := eng.CopyFrom(ctx, id, file, pw)
		pw.CloseWithError(err)
		done <- err
	}()
	var out string
	err := func() error {
		tr := tar.NewReader(pr)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return fmt.Errorf("the engine sent no file")
			}
			if err != nil {
				return err
			}
			switch h.Typeflag {
			case tar.TypeReg:
				if h.Size > maxOutputFile {
					return fmt.Errorf("the file is %d bytes, more than %d", h.Size, maxOutputFile)
				}
				b, err := io.ReadAll(tr)
				if err != nil {
					return err
				}
				out = string(b)
				return nil
			case tar.TypeDir:
				return fmt.Errorf("it is a directory, not a file")
			case tar.TypeSymlink:
				return fmt.Errorf("it is a symbolic link (to %s), not a file", h.Linkname)
			}
		}
	}()
	pr.CloseWithError(errStopRead)
	if cerr := <-done; cerr != nil && !errors.Is(cerr, errStopRead) {
		return "", cerr // the engine's error says more (not found...)
	}
	if err != nil {
		return "", err
	}
	return out, nil
}

// Commit makes image ref ([registry/]repository[:tag], ":latest" when no
// tag is given) from the container of host (found by container_id, or by
// name for a record without one) and returns the new image's ID
// ("sha256:..."). The container keeps running. The image holds the
// container's files and configuration (command, environment, labels), so
// it can be checked out with container_host: ref.
func (p *Provider) Commit(ctx context.Context, host inventory.Host, ref string) (string, error) {
	cref, _ := host["container_id"].(string)
	if cref == "" {
		cref = host.Name()
	}
	if cref == "" {
		return "", providers.UserErrorf("commit %s: the record has neither container_id nor name", host.Label())
	}
	repo, tag, err := SplitRef(ref)
	if err != nil {
		return "", providers.UserErrorf("commit %s: %v", host.Label(), err)
	}
	eng, err := p.engine(ctx)
	if err != nil {
		return "", err
	}
	id, err := eng.Commit(ctx, cref, repo, tag)
	if err != nil {
		return "", fmt.Errorf("commit %s: %w", host.Label(), err)
	}
	if !strings.HasPrefix(id, "sha256:") {
		id = "sha256:" + id
	}
	p.log.Debug("container committed", "host", host.Label(), "image", repo+":"+tag, "id", shortID(id))
	return id, nil
}

// SplitRef splits an image reference into repository and tag as docker
// does: the tag follows the last ':' after the last '/' ("localhost:5000/a"
// has none); no tag means "latest". A digest (@sha256:...) is refused: a
// commit makes a tag.
func SplitRef(ref string) (repo, tag string, err error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", "", errors.New("empty image reference")
	}
	if strings.Contains(ref, "@") {
		return "", "", fmt.Errorf("image reference %q has a digest: give repository[:tag]", ref)
	}
	repo, tag = ref, "latest"
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		repo, tag = ref[:i], ref[i+1:]
	}
	if repo == "" || tag == "" {
		return "", "", fmt.Errorf("image reference %q: want repository[:tag]", ref)
	}
	if repo != strings.ToLower(repo) {
		return "", "", fmt.Errorf("image reference %q: the repository must be lowercase", ref)
	}
	return repo, tag, nil
}
