package memdb_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/waickoff/waickoff/infra/localdb"
	"github.com/waickoff/waickoff/shared/config"
	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/shared/ratelimit"
	"github.com/waickoff/waickoff/tests/load/memdb"
)

// The reference is the DynamoDB-protocol server the project's tests use.
var fx *localdb.Fixture

func TestMain(m *testing.M) { localdb.Main(m, &fx) }

// newMem returns a client over a fresh memdb holding the fixture's tables
// under the same names.
func newMem(t *testing.T) (*dynamodb.Client, *memdb.DB) {
	t.Helper()
	mem := memdb.New()
	db, err := dynamo.NewClient(context.Background(), dynamo.Options{Region: "us-east-1", Endpoint: memdb.Endpoint, HTTPClient: mem})
	if err != nil {
		t.Fatal(err)
	}
	names := localdb.TableNames{"ApiKeysTable": fx.Tables.APIKeys, "SessionsTable": fx.Tables.Sessions,
		"UsageTable": fx.Tables.Usage, "QuotasTable": fx.Tables.Quotas}
	if err := localdb.CreateTables(context.Background(), db, fx.Template, names); err != nil {
		t.Fatal(err)
	}
	return db, mem
}

var (
	s   = func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n   = func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	ss  = func(v ...string) types.AttributeValue { return &types.AttributeValueMemberSS{Value: v} }
	yes = &types.AttributeValueMemberBOOL{Value: true}
)

type avs = map[string]types.AttributeValue

// step is one SDK call made against both stores.
type step struct {
	name string
	call func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error)
}

// outcome is what a step's answer means to a caller, normalised: numbers
// in canonical form, sets sorted.
func outcome(out any, err error) string {
	if err != nil {
		var ae smithy.APIError
		if !errors.As(err, &ae) {
			return "transport error: " + err.Error()
		}
		o := map[string]any{"error": ae.ErrorCode()}
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) && ccf.Item != nil {
			o["item"] = norm(ccf.Item)
		}
		if reasons := dynamo.CancellationReasons(err); reasons != nil {
			var rs []any
			for _, r := range reasons {
				e := map[string]any{"code": aws.ToString(r.Code)}
				if r.Item != nil {
					e["item"] = norm(r.Item)
				}
				rs = append(rs, e)
			}
			o["reasons"] = rs
		}
		b, _ := json.Marshal(o)
		return string(b)
	}
	o := map[string]any{}
	switch v := out.(type) {
	case *dynamodb.GetItemOutput:
		o["item"] = norm(v.Item)
	case *dynamodb.PutItemOutput:
		o["attributes"] = norm(v.Attributes)
	case *dynamodb.UpdateItemOutput:
		o["attributes"] = norm(v.Attributes)
	case *dynamodb.DeleteItemOutput:
		o["attributes"] = norm(v.Attributes)
	case *dynamodb.QueryOutput:
		o["items"], o["count"], o["last"] = normList(v.Items), v.Count, norm(v.LastEvaluatedKey)
	case *dynamodb.ScanOutput:
		o["items"], o["count"], o["last"] = normList(v.Items), v.Count, norm(v.LastEvaluatedKey)
	case *dynamodb.TransactWriteItemsOutput:
		o["ok"] = true
	default:
		o["value"] = v
	}
	b, _ := json.Marshal(o)
	return string(b)
}

func normList(items []map[string]types.AttributeValue) []any {
	out := []any{}
	for _, it := range items {
		out = append(out, norm(it))
	}
	return out
}

func norm(it map[string]types.AttributeValue) any {
	if len(it) == 0 {
		return nil
	}
	out := map[string]any{}
	for k, v := range it {
		out[k] = normValue(v)
	}
	return out
}

func canon(num string) string {
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return "bad number " + num
	}
	return r.RatString()
}

func normValue(v types.AttributeValue) any {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return "S:" + v.Value
	case *types.AttributeValueMemberN:
		return "N:" + canon(v.Value)
	case *types.AttributeValueMemberBOOL:
		return fmt.Sprintf("BOOL:%v", v.Value)
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberB:
		return fmt.Sprintf("B:%x", v.Value)
	case *types.AttributeValueMemberSS:
		out := append([]string{"SS"}, v.Value...)
		sort.Strings(out[1:])
		return out
	case *types.AttributeValueMemberNS:
		out := []string{"NS"}
		for _, x := range v.Value {
			out = append(out, canon(x))
		}
		sort.Strings(out[1:])
		return out
	case *types.AttributeValueMemberL:
		var out []any
		for _, e := range v.Value {
			out = append(out, normValue(e))
		}
		return map[string]any{"L": out}
	case *types.AttributeValueMemberM:
		return map[string]any{"M": norm(v.Value)}
	}
	return fmt.Sprintf("%T", v)
}

// The steps use the expressions the project writes (rate limit, session
// start and charge, usage counters, TTL sweep, lists) and the edges they
// rely on.
func steps(id string) []step {
	kp := "K#" + id
	key := func(sk string) avs { return avs{"pk": s(kp), "sk": s(sk)} }
	rlNames := map[string]string{"#tat": "rl_tat", "#next": "rl_next", "#gate": "rl_gate", "#period": "rl_period",
		"#pk": "pk"}
	// A marker ring of three (shared/ratelimit keeps 16): the shift reads
	// slots it also writes, and IN reads slots that may not exist yet.
	const ringShift = "rl_m2 = if_not_exists(rl_m1, :none), rl_m1 = if_not_exists(rl_m0, :none), rl_m0 = :marker"
	const ringHas = ":marker IN (rl_m0, rl_m1, rl_m2)"
	idle := func(now, marker string) func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
		return func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
			names := map[string]string{"#period2": "rl_period2", "#idle": "rl_idle_gate"}
			for k, v := range rlNames {
				names[k] = v
			}
			return db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &tb.APIKeys, Key: key("HASH"),
				UpdateExpression: aws.String("SET #tat = :now + #period, #next = :now + #period2, #gate = :now + #idle, " + ringShift),
				ConditionExpression: aws.String("attribute_exists(#pk) AND (#g_open = :g_true) AND NOT (" + ringHas + ") AND " +
					"(attribute_not_exists(#tat) OR #tat <= :now)"),
				ExpressionAttributeNames: merge(names, map[string]string{"#g_open": "open"}),
				ExpressionAttributeValues: avs{":now": n(now), ":marker": s(marker), ":none": s("-"),
					":g_true": yes},
				ReturnValues: types.ReturnValueAllNew, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
		}
	}
	busy := func(now, marker string) func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
		return func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
			return db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &tb.APIKeys, Key: key("HASH"),
				UpdateExpression: aws.String("SET #tat = #next, #next = #next + #period, #gate = #gate + #period, " + ringShift),
				ConditionExpression: aws.String("attribute_exists(#pk) AND NOT (" + ringHas + ") AND " +
					"#tat > :now AND #gate <= :now"),
				ExpressionAttributeNames:  rlNames,
				ExpressionAttributeValues: avs{":now": n(now), ":marker": s(marker), ":none": s("-")},
				ReturnValues:              types.ReturnValueAllNew, ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
		}
	}
	put := func(item avs, cond string) func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
		return func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
			in := &dynamodb.PutItemInput{TableName: &tb.APIKeys, Item: item,
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}
			if cond != "" {
				in.ConditionExpression = aws.String(cond)
			}
			return db.PutItem(ctx, in)
		}
	}
	update := func(k avs, expr, cond string, names map[string]string, values avs, rv types.ReturnValue) func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
		return func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
			in := &dynamodb.UpdateItemInput{TableName: &tb.APIKeys, Key: k, UpdateExpression: aws.String(expr),
				ExpressionAttributeNames: names, ExpressionAttributeValues: values, ReturnValues: rv,
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}
			if cond != "" {
				in.ConditionExpression = aws.String(cond)
			}
			return db.UpdateItem(ctx, in)
		}
	}
	query := func(in dynamodb.QueryInput, quotas bool) func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
		return func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
			in := in
			in.TableName = &tb.APIKeys
			if quotas {
				in.TableName = &tb.Quotas
			}
			return db.Query(ctx, &in)
		}
	}
	rl := ratelimit.ParamsFor(3).Attributes()
	rlItem := avs{"pk": s(kp), "sk": s("HASH"), "open": yes}
	for k, v := range rl {
		rlItem[k] = v
	}
	return []step{
		{"put the limited item", put(rlItem, "attribute_not_exists(pk)")},
		{"put it again", put(rlItem, "attribute_not_exists(pk)")},
		{"idle take", idle("1000000", "m1")},
		{"busy take", busy("1000001", "m2")},
		{"busy take, same marker", busy("1000002", "m2")},
		{"busy take", busy("1000003", "m3")},
		{"limited", busy("1000004", "m4")},
		{"idle guess on a busy item", idle("1000005", "m5")},
		{"idle take much later", idle("90000000", "m6")},
		{"refund", update(key("HASH"), "SET #tat = #tat - #period, #next = #next - #period, #gate = #gate - #period, "+ringShift,
			"attribute_exists(#tat) AND NOT ("+ringHas+")",
			map[string]string{"#tat": "rl_tat", "#next": "rl_next", "#gate": "rl_gate", "#period": "rl_period"},
			avs{":marker": s("!m6"), ":none": s("-")}, types.ReturnValueAllNew)},
		{"refund again", update(key("HASH"), "SET #tat = #tat - #period, #next = #next - #period, #gate = #gate - #period, "+ringShift,
			"attribute_exists(#tat) AND NOT ("+ringHas+")",
			map[string]string{"#tat": "rl_tat", "#next": "rl_next", "#gate": "rl_gate", "#period": "rl_period"},
			avs{":marker": s("!m6"), ":none": s("-")}, types.ReturnValueAllNew)},
		{"take on a missing item", func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
			return db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &tb.APIKeys, Key: avs{"pk": s("K#none" + id), "sk": s("HASH")},
				UpdateExpression: aws.String("SET #tat = :now"), ConditionExpression: aws.String("attribute_exists(#pk)"),
				ExpressionAttributeNames: map[string]string{"#tat": "rl_tat", "#pk": "pk"}, ExpressionAttributeValues: avs{":now": n("1")},
				ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
		}},
		{"hub: upsert counters", update(key("ACCOUNT"), "ADD #p :n, #r :n SET gsi1pk = :g, gsi1sk = :acc", "",
			map[string]string{"#p": "purchased", "#r": "remaining"}, avs{":n": n("5"), ":g": s("ACCOUNT"), ":acc": s(id)}, types.ReturnValueAllNew)},
		{"hub: start", update(key("ACCOUNT"), "SET #remaining = #remaining - :one, #used = if_not_exists(#used, :zero) + :one, #active = :id, #aused = :zero",
			"#remaining > :zero AND attribute_not_exists(#active)",
			map[string]string{"#remaining": "remaining", "#used": "used", "#active": "active_session_id", "#aused": "active_tokens_used"},
			avs{":one": n("1"), ":zero": n("0"), ":id": s("ses_1")}, types.ReturnValueAllOld)},
		{"hub: second start", update(key("ACCOUNT"), "SET #remaining = #remaining - :one, #used = if_not_exists(#used, :zero) + :one, #active = :id, #aused = :zero",
			"#remaining > :zero AND attribute_not_exists(#active)",
			map[string]string{"#remaining": "remaining", "#used": "used", "#active": "active_session_id", "#aused": "active_tokens_used"},
			avs{":one": n("1"), ":zero": n("0"), ":id": s("ses_2")}, types.ReturnValueAllNew)},
		{"hub: charge under room", update(key("ACCOUNT"), "ADD #aused :t", "#active = :sid AND #aused < :room",
			map[string]string{"#active": "active_session_id", "#aused": "active_tokens_used"},
			avs{":t": n("70"), ":sid": s("ses_1"), ":room": n("30")}, types.ReturnValueUpdatedOld)},
		{"hub: charge over room", update(key("ACCOUNT"), "ADD #aused :t", "#active = :sid AND #aused < :room",
			map[string]string{"#active": "active_session_id", "#aused": "active_tokens_used"},
			avs{":t": n("70"), ":sid": s("ses_1"), ":room": n("30")}, types.ReturnValueNone)},
		{"hub: clear pointer", update(key("ACCOUNT"), "REMOVE #active, #aused", "#active = :id",
			map[string]string{"#active": "active_session_id", "#aused": "active_tokens_used"}, avs{":id": s("ses_1")}, types.ReturnValueAllNew)},
		{"sets: add and delete to empty", update(key("SETS"), "ADD #a :x DELETE #b :y", "",
			map[string]string{"#a": "a", "#b": "b"}, avs{":x": ss("p", "q"), ":y": ss("p")}, types.ReturnValueAllNew)},
		{"sets: delete all", update(key("SETS"), "DELETE #a :x", "", map[string]string{"#a": "a"}, avs{":x": ss("p", "q")}, types.ReturnValueAllNew)},
		{"if_not_exists keeps the first", update(key("SETS"), "SET #r = if_not_exists(#r, :v)", "",
			map[string]string{"#r": "revoked_at"}, avs{":v": n("7")}, types.ReturnValueUpdatedNew)},
		{"if_not_exists again", update(key("SETS"), "SET #r = if_not_exists(#r, :v)", "",
			map[string]string{"#r": "revoked_at"}, avs{":v": n("8")}, types.ReturnValueAllNew)},
		{"arithmetic on a missing attribute", update(key("SETS"), "SET #x = #y + :one", "",
			map[string]string{"#x": "x", "#y": "y"}, avs{":one": n("1")}, types.ReturnValueAllNew)},
		{"an unused value", update(key("SETS"), "SET #x = :one", "", map[string]string{"#x": "x"}, avs{":one": n("1"), ":two": n("2")}, types.ReturnValueNone)},
		{"an unused name", update(key("SETS"), "SET #x = :one", "", map[string]string{"#x": "x", "#z": "z"}, avs{":one": n("1")}, types.ReturnValueNone)},
		{"an undefined value", update(key("SETS"), "SET #x = :nope", "", map[string]string{"#x": "x"}, avs{":one": n("1")}, types.ReturnValueNone)},
		{"a key attribute", update(key("SETS"), "SET pk = :v", "", nil, avs{":v": s("x")}, types.ReturnValueNone)},
		{"ADD to a string", update(key("SETS"), "SET #s = :s", "", map[string]string{"#s": "str"}, avs{":s": s("text")}, types.ReturnValueNone)},
		{"ADD a number to that string", update(key("SETS"), "ADD #s :n", "", map[string]string{"#s": "str"}, avs{":n": n("1")}, types.ReturnValueNone)},
		{"<> on a missing attribute", update(key("SETS"), "SET #x = :v", "#nope <> :v", map[string]string{"#x": "x2", "#nope": "nope"}, avs{":v": n("1")}, types.ReturnValueAllNew)},
		{"decimal arithmetic", update(key("SETS"), "SET #d = :a + :b", "", map[string]string{"#d": "d"}, avs{":a": n("1.25"), ":b": n("-0.250")}, types.ReturnValueUpdatedNew)},
		{"put session rows", func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
			var last any
			for i := 1; i <= 5; i++ {
				st := "active"
				if i%2 == 0 {
					st = "ended"
				}
				out, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &tb.APIKeys, Item: avs{"pk": s(kp),
					"sk": s(fmt.Sprintf("SESSION#ses_%d", i)), "status": s(st), "tokens_used": n(fmt.Sprint(i * 10)),
					"ttl": n(fmt.Sprint(1000 + i))}, ReturnValues: types.ReturnValueAllOld})
				if err != nil {
					return nil, err
				}
				last = out
			}
			return last, nil
		}},
		{"query newest first, limit 2", query(dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
			ExpressionAttributeValues: avs{":pk": s(kp), ":p": s("SESSION#")}, ScanIndexForward: aws.Bool(false), Limit: aws.Int32(2)}, false)},
		{"query the next page", query(dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
			ExpressionAttributeValues: avs{":pk": s(kp), ":p": s("SESSION#")}, ScanIndexForward: aws.Bool(false), Limit: aws.Int32(2),
			ExclusiveStartKey: avs{"pk": s(kp), "sk": s("SESSION#ses_4")}}, false)},
		{"query with filter and projection", query(dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
			FilterExpression: aws.String("#status = :active AND #used < :lim"), ProjectionExpression: aws.String("sk, #used"),
			ExpressionAttributeNames:  map[string]string{"#status": "status", "#used": "tokens_used"},
			ExpressionAttributeValues: avs{":pk": s(kp), ":p": s("SESSION#"), ":active": s("active"), ":lim": n("45")}}, false)},
		{"query with a filter and a limit", query(dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
			FilterExpression: aws.String("#status <> :active OR size(#status) > :three"), ExpressionAttributeNames: map[string]string{"#status": "status"},
			ExpressionAttributeValues: avs{":pk": s(kp), ":p": s("SESSION#"), ":active": s("active"), ":three": n("6")}, Limit: aws.Int32(3)}, false)},
		{"query between", query(dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :a AND :b"),
			ExpressionAttributeValues: avs{":pk": s(kp), ":a": s("SESSION#ses_2"), ":b": s("SESSION#ses_4")}}, false)},
		{"query an empty partition", query(dynamodb.QueryInput{KeyConditionExpression: aws.String("pk = :pk"),
			ExpressionAttributeValues: avs{":pk": s("K#empty" + id)}}, false)},
		{"query without the partition key", query(dynamodb.QueryInput{KeyConditionExpression: aws.String("begins_with(sk, :p)"),
			ExpressionAttributeValues: avs{":p": s("SESSION#")}}, false)},
		{"put accounts for the index", func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
			for i := 3; i >= 1; i-- {
				acc := fmt.Sprintf("acc_%s_%d", id, i)
				if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &tb.Quotas, Item: avs{"pk": s("ACCOUNT#" + acc),
					"sk": s("ACCOUNT"), "gsi1pk": s("ACCOUNT" + id), "gsi1sk": s(acc), "purchased": n("3")}}); err != nil {
					return nil, err
				}
			}
			return nil, nil
		}},
		{"query the index", query(dynamodb.QueryInput{IndexName: aws.String("gsi1"), KeyConditionExpression: aws.String("gsi1pk = :acc"),
			ProjectionExpression: aws.String("gsi1sk"), ExpressionAttributeValues: avs{":acc": s("ACCOUNT" + id)}, Limit: aws.Int32(2)}, true)},
		{"scan for expired", func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
			out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: &tb.APIKeys, FilterExpression: aws.String("#ttl <= :now AND pk = :pk"),
				ExpressionAttributeNames: map[string]string{"#ttl": "ttl"}, ExpressionAttributeValues: avs{":now": n("1003"), ":pk": s(kp)}})
			if err == nil {
				out.ScannedCount = 0 // the table holds other tests' items
			}
			return out, err
		}},
		{"delete if the ttl is the one read", func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
			return db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &tb.APIKeys, Key: key("SESSION#ses_1"),
				ConditionExpression: aws.String("#ttl = :ttl"), ExpressionAttributeNames: map[string]string{"#ttl": "ttl"},
				ExpressionAttributeValues: avs{":ttl": n("1001")}, ReturnValues: types.ReturnValueAllOld})
		}},
		{"delete it again", func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
			return db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &tb.APIKeys, Key: key("SESSION#ses_1"),
				ConditionExpression: aws.String("#ttl = :ttl"), ExpressionAttributeNames: map[string]string{"#ttl": "ttl"},
				ExpressionAttributeValues: avs{":ttl": n("1001")}, ReturnValues: types.ReturnValueAllOld})
		}},
		{"a transaction that holds", transact(kp, "R1", "ses_3")},
		{"the same receipt again", transact(kp, "R1", "ses_3")},
		{"a transaction on a missing session", transact(kp, "R2", "ses_9")},
		{"two writes to one item", func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
			return db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{TableName: &tb.APIKeys, Item: key("DUP")}},
				{Update: &types.Update{TableName: &tb.APIKeys, Key: key("DUP"), UpdateExpression: aws.String("SET a = :a"),
					ExpressionAttributeValues: avs{":a": n("1")}}}}})
		}},
		{"read the item back", func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
			return db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &tb.APIKeys, Key: key("SESSION#ses_3"), ConsistentRead: aws.Bool(true)})
		}},
		{"project with a name", func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
			return db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &tb.APIKeys, Key: key("SESSION#ses_3"),
				ProjectionExpression: aws.String("#st, tokens_used, nothing"), ExpressionAttributeNames: map[string]string{"#st": "status"}})
		}},
		{"get a missing item", func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
			return db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &tb.APIKeys, Key: key("NOTHING")})
		}},
		{"get with a bad key", func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
			return db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &tb.APIKeys, Key: avs{"pk": s(kp)}})
		}},
		{"an unknown table", func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
			return db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("NoSuchTable" + id), Key: key("X")})
		}},
	}
}

// transact is a charge: receipt put if absent, session counters on an
// existing session, usage counters (with the reasons' items).
func transact(kp, req, ses string) func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
	return func(ctx context.Context, db *dynamodb.Client, tb config.Tables) (any, error) {
		return db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: &tb.APIKeys, Item: avs{"pk": s(kp), "sk": s("REQ#" + req), "tokens": n("12")},
				ConditionExpression: aws.String("attribute_not_exists(pk)"), ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
			{Update: &types.Update{TableName: &tb.APIKeys, Key: avs{"pk": s(kp), "sk": s("SESSION#" + ses)},
				UpdateExpression: aws.String("ADD #used :t, #requests :one"), ConditionExpression: aws.String("attribute_exists(pk)"),
				ExpressionAttributeNames:  map[string]string{"#used": "tokens_used", "#requests": "requests"},
				ExpressionAttributeValues: avs{":t": n("12"), ":one": n("1")}}},
			{Update: &types.Update{TableName: &tb.APIKeys, Key: avs{"pk": s(kp), "sk": s("EP#" + ses)},
				UpdateExpression:          aws.String("ADD #requests :one, tokens :t SET endpoint = :ep"),
				ExpressionAttributeNames:  map[string]string{"#requests": "requests"},
				ExpressionAttributeValues: avs{":one": n("1"), ":t": n("12"), ":ep": s("indicators/rsi")}}},
		}})
	}
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// Every step answers the same through memdb as through the reference
// server.
func TestAnswersAsTheReferenceServer(t *testing.T) {
	ctx := context.Background()
	mem, _ := newMem(t)
	id := fmt.Sprint(time.Now().UnixNano())
	for _, st := range steps(id) {
		want := outcome(st.call(ctx, fx.DB, fx.Tables))
		got := outcome(st.call(ctx, mem, fx.Tables))
		if got != want {
			t.Errorf("%s:\n memdb: %s\n  moto: %s", st.name, got, want)
		}
	}
}

// The project's rate limiter decides the same over memdb as over the
// reference server, take after take.
func TestRateLimiterDecidesAlike(t *testing.T) {
	ctx := context.Background()
	mem, _ := newMem(t)
	id := fmt.Sprint(time.Now().UnixNano())
	key := avs{"pk": s("RL#" + id), "sk": s("HASH")}
	item := ratelimit.ParamsFor(4).Attributes()
	item["pk"], item["sk"] = key["pk"], key["sk"]
	base := time.Date(2026, 3, 1, 12, 0, 3, 0, time.UTC)
	var trace [2][]string
	for i, db := range []*dynamodb.Client{fx.DB, mem} {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &fx.Tables.APIKeys, Item: item}); err != nil {
			t.Fatal(err)
		}
		l := ratelimit.New(db, fx.Tables.APIKeys)
		for k := 0; k < 40; k++ {
			at := base.Add(time.Duration(k*k) * 700 * time.Millisecond)
			r, err := l.Take(ctx, key, ratelimit.Guard{}, fmt.Sprintf("req-%d", k%7), at)
			if err != nil {
				t.Fatal(err)
			}
			line := fmt.Sprintf("%d %s dup=%v rem=%d reset=%d retry=%d", k, r.Outcome, r.Duplicate, r.Remaining, r.Reset, r.RetryAfter)
			if k%5 == 4 {
				r2, err := l.Refund(ctx, r)
				if err != nil {
					t.Fatal(err)
				}
				line += fmt.Sprintf(" refund rem=%d", r2.Remaining)
			}
			trace[i] = append(trace[i], line)
		}
	}
	if a, b := strings.Join(trace[0], "\n"), strings.Join(trace[1], "\n"); a != b {
		t.Fatalf("decisions differ\nmoto:\n%s\nmemdb:\n%s", a, b)
	}
}

// Anything memdb does not implement is an error, never a silent answer.
func TestRefusesWhatItDoesNotImplement(t *testing.T) {
	ctx := context.Background()
	mem, _ := newMem(t)
	_, err := mem.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		fx.Tables.APIKeys: {Keys: []map[string]types.AttributeValue{{"pk": s("a"), "sk": s("b")}}}}})
	if err == nil {
		t.Fatal("BatchGetItem answered")
	}
	_, err = mem.GetItem(ctx, &dynamodb.GetItemInput{TableName: &fx.Tables.APIKeys, Key: avs{"pk": s("a"), "sk": s("b")},
		AttributesToGet: []string{"x"}})
	if err == nil {
		t.Fatal("a legacy parameter was accepted")
	}
	_, err = mem.GetItem(ctx, &dynamodb.GetItemInput{TableName: &fx.Tables.APIKeys, Key: avs{"pk": s("a"), "sk": s("b")},
		ProjectionExpression: aws.String("a.b")})
	if err == nil {
		t.Fatal("a nested path was accepted")
	}
}

// Where moto is not a reference (it answers UPDATED_NEW with the key, and
// fails with a 500 on a comparison across types), memdb answers as
// DynamoDB documents.
func TestDocumentedSemantics(t *testing.T) {
	ctx := context.Background()
	mem, _ := newMem(t)
	tb := fx.Tables.APIKeys
	key := avs{"pk": s("D"), "sk": s("1")}
	out, err := mem.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &tb, Key: key,
		UpdateExpression: aws.String("SET a = :a, b = :b"), ExpressionAttributeValues: avs{":a": n("1"), ":b": s("x")},
		ReturnValues: types.ReturnValueUpdatedNew})
	if err != nil {
		t.Fatal(err)
	}
	if got := outcome(out, nil); got != `{"attributes":{"a":"N:1","b":"S:x"}}` {
		t.Errorf("UPDATED_NEW: %s", got)
	}
	_, err = mem.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &tb, Key: key,
		UpdateExpression: aws.String("SET c = :a"), ConditionExpression: aws.String("b < :a"),
		ExpressionAttributeValues: avs{":a": n("1")}})
	if !strings.Contains(outcome(nil, err), "ConditionalCheckFailedException") {
		t.Errorf("a comparison across types: %v", err)
	}
}

// A transaction's client token makes a repeat a no-op, as the SDK's
// retries rely on; a different request under the same token is refused.
func TestTransactionTokens(t *testing.T) {
	ctx := context.Background()
	mem, _ := newMem(t)
	tb := fx.Tables.APIKeys
	add := func(token string, by string) error {
		_, err := mem.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{ClientRequestToken: aws.String(token),
			TransactItems: []types.TransactWriteItem{{Update: &types.Update{TableName: &tb, Key: avs{"pk": s("T"), "sk": s("1")},
				UpdateExpression: aws.String("ADD n :by"), ExpressionAttributeValues: avs{":by": n(by)}}}}})
		return err
	}
	for _, by := range []string{"1", "1"} {
		if err := add("tok-1", by); err != nil {
			t.Fatal(err)
		}
	}
	if err := add("tok-1", "2"); !strings.Contains(outcome(nil, err), "IdempotentParameterMismatch") {
		t.Fatalf("a different request under a used token: %v", err)
	}
	if err := add("tok-2", "1"); err != nil {
		t.Fatal(err)
	}
	got, err := mem.GetItem(ctx, &dynamodb.GetItemInput{TableName: &tb, Key: avs{"pk": s("T"), "sk": s("1")}})
	if err != nil {
		t.Fatal(err)
	}
	if o := outcome(got, nil); !strings.Contains(o, `"n":"N:2"`) {
		t.Fatalf("after two tokens: %s", o)
	}
}
