package telemetry_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/waickoff/waickoff/shared/telemetry"
)

func TestEmitWritesEMF(t *testing.T) {
	var buf bytes.Buffer
	m := telemetry.NewMetrics(&buf, func() time.Time { return time.UnixMilli(1700000000000) })
	m.Emit(map[string]string{"reason": "expired"}, map[string]any{"request_id": "r1"},
		telemetry.Metric{Name: "SessionsEnded", Value: 2})
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not one JSON line: %q", buf.String())
	}
	aws := doc["_aws"].(map[string]any)
	cw := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if aws["Timestamp"] != float64(1700000000000) || cw["Namespace"] != telemetry.Namespace ||
		doc["SessionsEnded"] != float64(2) || doc["reason"] != "expired" || doc["request_id"] != "r1" {
		t.Fatalf("%v", doc)
	}
	metric := cw["Metrics"].([]any)[0].(map[string]any)
	if metric["Name"] != "SessionsEnded" || metric["Unit"] != "Count" {
		t.Fatalf("metric %v", metric)
	}
	if dims := cw["Dimensions"].([]any)[0].([]any); len(dims) != 1 || dims[0] != "reason" {
		t.Fatalf("dims %v", dims)
	}
}
