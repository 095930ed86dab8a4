package quota

import (
	"context"
	"time"
)

// SweepWith is Run with each account handed to do instead of reconciled:
// the sweep's paging and checkpoint, tested on their own.
func (r *Reconciler) SweepWith(ctx context.Context, do func(ctx context.Context, accountID string) (bool, int, error)) (Report, error) {
	return r.sweep(ctx, do)
}

// SetWallClock makes the reconciler check its deadline against wall.
func (r *Reconciler) SetWallClock(wall func() time.Time) { r.wall = wall }
