package localdb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/waickoff/waickoff/infra/localdb"
	"github.com/waickoff/waickoff/shared/dynamo"
)

// MOTO_CONTENTION: a transaction on an item another transaction wrote
// within conflict_ms is cancelled TransactionConflict, a single write to
// it fails TransactionConflictException, and an item past its write units
// a second is throttled; what is refused applies nothing.
func TestContentionMode(t *testing.T) {
	ctx := context.Background()
	db, tx, count := contentionTable(t, "conflict_ms=300,wcu=6")
	if err := tx("a", "b"); err != nil {
		t.Fatal(err)
	}
	err := tx("c", "a")
	if r := dynamo.CancellationReasons(err); !dynamo.ReasonIs(r, 1, "TransactionConflict") || !dynamo.ReasonIs(r, 0, "None") {
		t.Fatalf("a transaction on a held item: %v", err)
	}
	_, err = db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String("contention"), Key: map[string]types.AttributeValue{"pk": dynamo.S("b")},
		UpdateExpression: aws.String("ADD n :one"), ExpressionAttributeValues: map[string]types.AttributeValue{":one": dynamo.N(1)}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "TransactionConflictException" {
		t.Fatalf("a single write to a held item: %v", err)
	}
	if count("a") != 1 || count("b") != 1 || count("c") != 0 {
		t.Fatalf("refused writes applied: a=%d b=%d c=%d", count("a"), count("b"), count("c"))
	}
}

// MOTO_CONTENTION wcu: an item takes its write units a second (2 a
// transactional write), then its writes are throttled and apply nothing.
func TestContentionModeThrottlesAHotItem(t *testing.T) {
	_, tx, count := contentionTable(t, "conflict_ms=0,wcu=4")
	if err := tx("x"); err != nil {
		t.Fatal(err)
	}
	if err := tx("x"); err != nil {
		t.Fatal(err)
	}
	err := tx("y", "x")
	if r := dynamo.CancellationReasons(err); !dynamo.ReasonIs(r, 1, "ThrottlingError") || !dynamo.ReasonIs(r, 0, "None") {
		t.Fatalf("a third transactional write within a second to an item of 4 units: %v", err)
	}
	if count("x") != 2 || count("y") != 0 {
		t.Fatalf("a throttled transaction applied: x=%d y=%d", count("x"), count("y"))
	}
	time.Sleep(600 * time.Millisecond)
	if err := tx("x"); err != nil {
		t.Fatalf("after the refill: %v", err)
	}
}

// contentionTable starts a server of the test's own in the contention
// mode spec (MOTO_CONTENTION), creates a table on it and returns a client
// that does not retry, a transaction adding 1 to n of the given items, and
// n of an item.
func contentionTable(t *testing.T, spec string) (*dynamodb.Client, func(ids ...string) error, func(id string) int64) {
	t.Helper()
	t.Setenv("MOTO_CONTENTION", spec)
	ctx := context.Background()
	srv, err := localdb.Start(ctx, fx.Root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	db, err := dynamo.NewClient(ctx, dynamo.Options{Region: "us-east-1", Endpoint: srv.Endpoint, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	table := "contention"
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(table), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}}}); err != nil {
		t.Fatal(err)
	}
	add := func(id string) types.TransactWriteItem {
		return types.TransactWriteItem{Update: &types.Update{TableName: aws.String(table), Key: map[string]types.AttributeValue{"pk": dynamo.S(id)},
			UpdateExpression: aws.String("ADD n :one"), ExpressionAttributeValues: map[string]types.AttributeValue{":one": dynamo.N(1)}}}
	}
	tx := func(ids ...string) error {
		var items []types.TransactWriteItem
		for _, id := range ids {
			items = append(items, add(id))
		}
		_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		return err
	}
	count := func(id string) int64 {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{"pk": dynamo.S(id)}, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return dynamo.Int(out.Item, "n")
	}
	return db, tx, count
}
