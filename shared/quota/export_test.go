package quota

import "context"

// SweepWith is Run with each account handed to do instead of reconciled:
// the sweep's paging and checkpoint, tested on their own.
func (r *Reconciler) SweepWith(ctx context.Context, do func(ctx context.Context, accountID string) (bool, int, error)) (Report, error) {
	return r.sweep(ctx, do)
}
