package dynamo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A call the SDK re-sends after a transient failure is one round trip
// the code asked for and one retry, so a test that counts the code's
// calls does not depend on the store's hiccups.
func TestCounterTellsRetriesApart(t *testing.T) {
	tests := []struct {
		name           string
		failures       int64
		calls          int
		count, retries int64
	}{
		{"no failure", 0, 2, 2, 0},
		{"one failure, retried", 1, 1, 1, 1},
		{"two failures, retried twice", 2, 1, 1, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var seen atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				if seen.Add(1) <= tc.failures {
					w.WriteHeader(http.StatusInternalServerError)
					_, _ = w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"hiccup"}`))
					return
				}
				_, _ = w.Write([]byte(`{}`))
			}))
			defer srv.Close()
			c := &Counter{Next: srv.Client()}
			db, err := NewClient(context.Background(), Options{Region: "us-east-1", Endpoint: srv.URL, HTTPClient: c})
			if err != nil {
				t.Fatal(err)
			}
			for range tc.calls {
				if _, err := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("t"),
					Key: map[string]types.AttributeValue{"pk": S("a")}}); err != nil {
					t.Fatal(err)
				}
			}
			if c.Count() != tc.count || c.Retries() != tc.retries {
				t.Fatalf("count %d, retries %d; want %d and %d", c.Count(), c.Retries(), tc.count, tc.retries)
			}
		})
	}
}
