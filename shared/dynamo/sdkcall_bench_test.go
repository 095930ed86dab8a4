package dynamo

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// BenchmarkSDKCall is one UpdateItem through the SDK against a local
// server that answers at once: the SDK's own CPU cost of a call
// (serialise, sign, send, deserialise), which the build flags of the
// SDK's packages affect (Makefile GOFLAGS_LAMBDA).
func BenchmarkSDKCall(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte(`{"Attributes":{"pk":{"S":"HASH#x"},"rl_tat":{"N":"1700000000000000"},"rl_next":{"N":"1700000001000000"}}}`))
	}))
	defer srv.Close()
	db, err := NewClient(context.Background(), Options{Region: "us-east-1", Endpoint: srv.URL, HTTPClient: srv.Client()})
	if err != nil {
		b.Fatal(err)
	}
	in := &dynamodb.UpdateItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": S("HASH#x"), "sk": S("KEY")},
		UpdateExpression:          aws.String("SET rl_tat = :a, rl_next = :b"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND rl_tat <= :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": N(1), ":b": N(2), ":now": N(3)},
		ReturnValues:              types.ReturnValueAllNew}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.UpdateItem(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
}
