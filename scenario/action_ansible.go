package scenario

import (
	"context"
	"fmt"
)

func (st *state) ansible(ctx context.Context, s *Step, args map[string]any, hosts []Host) (any, error) {
	return nil, fmt.Errorf("action ansible: %w", ErrNotImplemented)
}
