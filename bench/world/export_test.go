package world

import "context"

// PointBuilder prepares cfg and returns a function that builds the named
// CA's publication point and returns how many objects it holds, for the
// benchmarks.
func PointBuilder(ctx context.Context, cfg Config) (func(ca string) (int, error), error) {
	pr, err := prepare(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return func(ca string) (int, error) {
		n := pr.p.byName[ca]
		pt, err := pr.b.buildPoint(n, nil)
		if err != nil {
			return 0, err
		}
		return len(pt.objects), nil
	}, nil
}
