// Package telemetry holds the structured logger and the CloudWatch embedded
// metric format (EMF) emitter every function uses.
package telemetry

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of every metric.
const Namespace = "WAIckoff"

// NewLogger returns a JSON slog logger writing to w at level info,
// tagged with the function name.
func NewLogger(w io.Writer, function string) *slog.Logger {
	return NewLoggerAt(w, function, slog.LevelInfo)
}

// NewLoggerAt is NewLogger keeping the records at level and above.
func NewLoggerAt(w io.Writer, function string, level slog.Leveler) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
	return slog.New(h).With("function", function)
}

type ctxKey struct{}

// WithLogger returns ctx carrying l.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// Logger returns the logger in ctx, or slog.Default.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(ctxKey{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// Metrics writes EMF lines: one JSON object per line that CloudWatch turns
// into metrics when it reads the function's log stream.
type Metrics struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

// NewMetrics returns an emitter writing to w.
func NewMetrics(w io.Writer, now func() time.Time) *Metrics {
	return &Metrics{w: w, now: now}
}

// Unit names of CloudWatch.
const (
	Count        = "Count"
	Milliseconds = "Milliseconds"
	None         = "None"
)

// Metric is one value to emit.
type Metric struct {
	Name  string
	Unit  string
	Value float64
}

// Emit writes one EMF line with the metrics, under the given dimensions
// (dimension values must be low-cardinality: function, endpoint, reason).
// Properties are added as plain fields (request ids and the like).
func (m *Metrics) Emit(dims map[string]string, props map[string]any, metrics ...Metric) {
	if m == nil || len(metrics) == 0 {
		return
	}
	doc := make(map[string]any, len(dims)+len(props)+len(metrics)+1)
	for k, v := range props {
		doc[k] = v
	}
	dimNames := make([]string, 0, len(dims))
	for k, v := range dims {
		doc[k] = v
		dimNames = append(dimNames, k)
	}
	defs := make([]map[string]string, 0, len(metrics))
	for _, mt := range metrics {
		doc[mt.Name] = mt.Value
		unit := mt.Unit
		if unit == "" {
			unit = Count
		}
		defs = append(defs, map[string]string{"Name": mt.Name, "Unit": unit})
	}
	doc["_aws"] = map[string]any{
		"Timestamp": m.now().UnixMilli(),
		"CloudWatchMetrics": []map[string]any{{
			"Namespace":  Namespace,
			"Dimensions": [][]string{dimNames},
			"Metrics":    defs,
		}},
	}
	line, err := json.Marshal(doc)
	if err != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	_, _ = m.w.Write(append(line, '\n'))
}
