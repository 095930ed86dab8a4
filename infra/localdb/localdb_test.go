package localdb_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/infra/localdb"
	"github.com/waickoff/waickoff/shared/dynamo"
)

var fx *localdb.Fixture

func TestMain(m *testing.M) { localdb.Main(m, &fx) }

// The tables exist as the template defines them.
func TestTablesFollowTemplate(t *testing.T) {
	ctx := context.Background()
	for id, tab := range fx.Template.Tables {
		t.Run(id, func(t *testing.T) {
			name := map[string]string{"ApiKeysTable": fx.Tables.APIKeys, "SessionsTable": fx.Tables.Sessions,
				"UsageTable": fx.Tables.Usage, "QuotasTable": fx.Tables.Quotas}[id]
			out, err := fx.DB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(out.Table.GlobalSecondaryIndexes); got != len(tab.GSIs) {
				t.Errorf("%d GSIs, template has %d", got, len(tab.GSIs))
			}
			if tab.StreamView != "" && (out.Table.StreamSpecification == nil || !aws.ToBool(out.Table.StreamSpecification.StreamEnabled)) {
				t.Errorf("stream not enabled")
			}
			if tab.TTLAttribute != "" {
				ttl, err := fx.DB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
				if err != nil {
					t.Fatal(err)
				}
				if aws.ToString(ttl.TimeToLiveDescription.AttributeName) != tab.TTLAttribute {
					t.Errorf("TTL attribute %v, want %s", ttl.TimeToLiveDescription.AttributeName, tab.TTLAttribute)
				}
			}
		})
	}
}

// Stock moto_server is threaded and loses concurrent conditional updates
// now and then; the launcher serves it single-threaded. This test would
// catch a regression: 300 concurrent conditional increments capped at 150
// must admit exactly 150, round after round.
func TestConcurrentConditionalUpdatesAreExact(t *testing.T) {
	ctx := context.Background()
	const workers, capN, rounds = 300, 150, 3
	for round := 0; round < rounds; round++ {
		key := map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("RACE#%d", round)},
			"sk": &types.AttributeValueMemberS{Value: "COUNTER"},
		}
		_, err := fx.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(fx.Tables.Usage),
			Item: map[string]types.AttributeValue{"pk": key["pk"], "sk": key["sk"], "n": &types.AttributeValueMemberN{Value: "0"}}})
		if err != nil {
			t.Fatal(err)
		}
		var ok, refused atomic.Int64
		var wg sync.WaitGroup
		for i := 0; i < workers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := fx.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(fx.Tables.Usage), Key: key,
					UpdateExpression:          aws.String("SET n = n + :one"),
					ConditionExpression:       aws.String("n < :cap"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}, ":cap": &types.AttributeValueMemberN{Value: fmt.Sprint(capN)}}})
				switch {
				case err == nil:
					ok.Add(1)
				case dynamo.IsConditionFailed(err):
					refused.Add(1)
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		out, err := fx.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(fx.Tables.Usage), Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		n := out.Item["n"].(*types.AttributeValueMemberN).Value
		if ok.Load() != capN || n != fmt.Sprint(capN) {
			t.Fatalf("round %d: %d admitted, counter %s, want exactly %d", round, ok.Load(), n, capN)
		}
	}
}

func TestServerStopsByPID(t *testing.T) {
	srv, err := localdb.Start(context.Background(), fx.Root)
	if err != nil {
		t.Fatal(err)
	}
	pid := srv.PID()
	srv.Stop()
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("moto pid %d still alive after Stop", pid)
	}
}
