package scenario

import (
	"context"
	"fmt"
)

func (st *state) container(ctx context.Context, s *Step, args map[string]any, hosts []Host, vars map[string]any) (any, error) {
	return nil, fmt.Errorf("action container: %w", ErrNotImplemented)
}

func (st *state) snapshot(ctx context.Context, s *Step, args map[string]any, hosts []Host) (any, error) {
	return nil, fmt.Errorf("action snapshot: %w", ErrNotImplemented)
}
