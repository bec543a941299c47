package container

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/broker-go/broker/providers"
)

// Info answers "broker providers Container":
//
//   - container_hosts: the first tag of each tagged image that is a host
//     image: labelled broker_compatible (upstream's rule) or, an extension,
//     carrying broker.* labels or exposing port 22/tcp. When no image
//     qualifies, every tagged image is listed instead, under the title
//     "Available Images (none is marked as a host image)", since checkout
//     accepts any image.
//   - container_apps: the first tag of every tagged image.
//   - container_host / container_app with a value: that image's details
//     {name, id (short), tags, size, config (without Env)}; an unknown image
//     is a UserError matching providers.ErrNotFound. Without a value they
//     list, as the plural queries do.
//
// Items are sorted by name; the caller applies filters and limits.
func (p *Provider) Info(ctx context.Context, q providers.InfoQuery) (providers.InfoResult, error) {
	switch q.Name {
	case "container_hosts", "container_apps", "container_host", "container_app":
	default:
		return providers.InfoResult{}, providers.UserErrorf("Container has no listing %q: use container_hosts, container_host IMAGE, container_apps or container_app IMAGE", q.Name)
	}
	eng, err := p.engine(ctx)
	if err != nil {
		return providers.InfoResult{}, err
	}
	if v := strings.TrimSpace(q.Value); v != "" && (q.Name == "container_host" || q.Name == "container_app") {
		return p.imageInfo(ctx, eng, v)
	}
	imgs, err := eng.Images(ctx)
	if err != nil {
		return providers.InfoResult{}, err
	}
	var all []imageSummary
	for _, im := range imgs {
		if len(im.Tags) > 0 {
			all = append(all, im)
		}
	}
	if q.Name == "container_apps" || q.Name == "container_app" {
		return providers.InfoResult{Title: "Available App Images", Items: firstTags(all)}, nil
	}
	hosts, err := hostImages(ctx, eng, all)
	if err != nil {
		return providers.InfoResult{}, err
	}
	if len(hosts) == 0 && len(all) > 0 {
		return providers.InfoResult{Title: "Available Images (none is marked as a host image)", Items: firstTags(all)}, nil
	}
	return providers.InfoResult{Title: "Available Host Images", Items: firstTags(hosts)}, nil
}

// hostImages keeps the images that are marked or shaped as hosts.
func hostImages(ctx context.Context, eng engine, imgs []imageSummary) ([]imageSummary, error) {
	keep := make([]bool, len(imgs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, im := range imgs {
		if isHostLabelled(im.Labels) {
			keep[i] = true
			continue
		}
		g.Go(func() error {
			det, err := eng.Image(gctx, im.ID)
			if errors.Is(err, providers.ErrNotFound) {
				return nil // removed since the listing
			}
			if err != nil {
				return err
			}
			for _, port := range det.Exposed {
				if port == "22/tcp" || port == "22" {
					keep[i] = true
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []imageSummary
	for i, im := range imgs {
		if keep[i] {
			out = append(out, im)
		}
	}
	return out, nil
}

func isHostLabelled(labels map[string]string) bool {
	for k := range labels {
		if k == "broker_compatible" || strings.HasPrefix(k, labelPrefix) {
			return true
		}
	}
	return false
}

func firstTags(imgs []imageSummary) []any {
	names := make([]string, 0, len(imgs))
	for _, im := range imgs {
		names = append(names, im.Tags[0])
	}
	sort.Strings(names)
	items := make([]any, len(names))
	for i, n := range names {
		items[i] = n
	}
	return items
}

// imageInfo details one image, found as checkout finds it.
func (p *Provider) imageInfo(ctx context.Context, eng engine, ref string) (providers.InfoResult, error) {
	imgs, err := eng.Images(ctx)
	if err != nil {
		return providers.InfoResult{}, err
	}
	name, im, ok := findImage(imgs, ref)
	if !ok {
		return providers.InfoResult{}, &providers.UserError{Err: &notFoundError{
			What: fmt.Sprintf("image %q on %s %s", ref, eng.Runtime(), eng.Endpoint()),
			Err:  errors.New("see broker providers Container --container-apps for the local images"),
		}}
	}
	det, err := eng.Image(ctx, im.ID)
	if err != nil {
		return providers.InfoResult{}, err
	}
	cfg := det.Config
	delete(cfg, "Env")
	tags := make([]any, len(det.Tags))
	for i, t := range det.Tags {
		tags[i] = t
	}
	return providers.InfoResult{
		Title: "Image " + name,
		Items: []any{map[string]any{
			"name":   name,
			"id":     shortID(det.ID),
			"tags":   tags,
			"size":   det.Size,
			"config": cfg,
		}},
	}, nil
}
