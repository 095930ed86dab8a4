package localdb_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/waickoff/waickoff/shared/dynamo"
)

// TransactWriteItems is idempotent by ClientRequestToken, as in DynamoDB:
// the same call again (an SDK retry of a call whose answer was lost)
// succeeds without applying anything, the same token with other
// parameters is refused, and a cancelled call is not remembered.
func TestClientRequestTokenMakesTransactionsIdempotent(t *testing.T) {
	ctx := context.Background()
	table := fx.Tables.Quotas
	key := map[string]types.AttributeValue{"pk": dynamo.S("TOKEN#" + randomTag(t)), "sk": dynamo.S("COUNTER")}
	add := func(token string, n int64, cond string) error {
		u := &types.Update{TableName: aws.String(table), Key: key, UpdateExpression: aws.String("ADD n :n"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":n": dynamo.N(n)}}
		if cond != "" {
			u.ConditionExpression = aws.String(cond)
		}
		_, err := fx.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			ClientRequestToken: aws.String(token), TransactItems: []types.TransactWriteItem{{Update: u}}})
		return err
	}
	count := func() int64 {
		out, err := fx.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return dynamo.Int(out.Item, "n")
	}
	tokenA, tokenB, tokenC := "tok-a-"+randomTag(t), "tok-b-"+randomTag(t), "tok-c-"+randomTag(t)
	for range 3 {
		if err := add(tokenA, 5, ""); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(); n != 5 {
		t.Fatalf("one call sent three times with its token: n = %d, want 5", n)
	}
	var ae smithy.APIError
	if err := add(tokenA, 6, ""); !errors.As(err, &ae) || ae.ErrorCode() != "IdempotentParameterMismatchException" {
		t.Fatalf("the token with other parameters: %v, want IdempotentParameterMismatchException", err)
	}
	if err := add(tokenB, 1, ""); err != nil || count() != 6 {
		t.Fatalf("another token: %v, n = %d, want 6", err, count())
	}
	// A cancelled call applies nothing and is not remembered: the same
	// token runs again.
	if err := add(tokenC, 100, "n > :n"); dynamo.CancellationReasons(err) == nil {
		t.Fatalf("a call whose condition fails: %v, want a cancellation", err)
	}
	if err := add(tokenC, 100, "n > :n"); dynamo.CancellationReasons(err) == nil || count() != 6 {
		t.Fatalf("the cancelled call again: %v, n = %d, want a cancellation and 6", err, count())
	}
}
