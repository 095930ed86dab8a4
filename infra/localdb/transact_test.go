package localdb_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/dynamo"
)

// infra/moto/server.py replaces moto's rollback of TransactWriteItems
// (a deep copy of every touched table) with a backup of the touched items
// and of the stream's length. These tests hold it to DynamoDB's promise:
// a cancelled transaction changes nothing (items, GSIs, streams), whatever
// the actions and the key schema, and a successful one applies everything.

// txnTable is a table the transaction tests write to.
type txnTable struct {
	name   string // or ARN
	label  string // the subtest's name, if not name
	hash   string // hash key attribute
	rng    string // range key attribute, "" if none
	gsi    string // a GSI on gsi1pk/gsi1sk, "" if none
	stream bool
}

func (tt txnTable) key(id string) map[string]types.AttributeValue {
	k := map[string]types.AttributeValue{tt.hash: dynamo.S("ITEM#" + id)}
	if tt.rng != "" {
		k[tt.rng] = dynamo.S("SK#" + id)
	}
	return k
}

// item is a full item under id: in the GSI's partition, with a counter and
// nested values that an Update changes in place.
func (tt txnTable) item(id, group string) map[string]types.AttributeValue {
	it := tt.key(id)
	it["gsi1pk"] = dynamo.S(group)
	it["gsi1sk"] = dynamo.S(id)
	it["n"] = dynamo.N(7)
	it["m"] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"a": dynamo.S("x"), "b": dynamo.N(1)}}
	it["l"] = &types.AttributeValueMemberL{Value: []types.AttributeValue{dynamo.S("first"), dynamo.S("second")}}
	it["extra"] = dynamo.S("to be removed")
	return it
}

// createTable creates a table of a name random to the test. An SDK retry
// of a CreateTable whose first attempt was applied but answered late
// finds the table there (ResourceInUseException); with a random name that
// table can only be this test's own, so it is not an error.
func createTable(ctx context.Context, in *dynamodb.CreateTableInput) error {
	_, err := fx.DB.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	if errors.As(err, &inUse) {
		_, err = fx.DB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName})
	}
	return err
}

func randomTag(t *testing.T) string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// hashOnlyTable creates a table with only a hash key, a GSI and a stream
// (the template's tables all have range keys).
func hashOnlyTable(t *testing.T) txnTable {
	t.Helper()
	ctx := context.Background()
	tt := txnTable{name: "TxnHashOnly-" + randomTag(t), hash: "id", gsi: "gsi1", stream: true}
	err := createTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(tt.name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("gsi1pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("gsi1sk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("gsi1"),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("gsi1pk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("gsi1sk"), KeyType: types.KeyTypeRange}},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll}}},
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = fx.DB.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(tt.name)})
	})
	return tt
}

// txnTables are the shapes a transaction is tested on: QuotasTable (hash
// and range key, gsi1), SessionsTable (hash and range key, stream), a
// hash-only table with a GSI and a stream, and SessionsTable named by ARN.
func txnTables(t *testing.T) []txnTable {
	quotas := txnTable{name: fx.Tables.Quotas, hash: "pk", rng: "sk"}
	sessions := txnTable{name: fx.Tables.Sessions, hash: "pk", rng: "sk"}
	for id, tab := range fx.Template.Tables {
		switch id {
		case "QuotasTable":
			for _, g := range tab.GSIs {
				if g.Name == "gsi1" && g.HashKey == "gsi1pk" && g.RangeKey == "gsi1sk" {
					quotas.gsi = "gsi1"
				}
			}
		case "SessionsTable":
			sessions.stream = tab.StreamView != ""
		}
	}
	if quotas.gsi == "" {
		t.Fatal("QuotasTable has no gsi1 on gsi1pk/gsi1sk any more; adapt the test")
	}
	if !sessions.stream {
		t.Fatal("SessionsTable has no stream any more; adapt the test")
	}
	// Named by ARN: stock moto backed up only tables named by name, so it
	// left a transaction on an ARN-named table half applied.
	out, err := fx.DB.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(fx.Tables.Sessions)})
	if err != nil {
		t.Fatal(err)
	}
	byARN := sessions
	byARN.name, byARN.label = aws.ToString(out.Table.TableArn), "SessionsTable by ARN"
	return []txnTable{quotas, sessions, hashOnlyTable(t), byARN}
}

func (tt txnTable) String() string {
	if tt.label != "" {
		return tt.label
	}
	return tt.name
}

// snapshot is everything of a table a transaction could change, rendered
// canonically.
type snapshot struct {
	items   map[string]string // GetItem (consistent) by id, "" if absent
	table   []string          // a consistent Scan, sorted
	index   []string          // a Query on the GSI's partition, in index order
	records int               // stream records, -1 without a stream
}

func take(t *testing.T, tt txnTable, group string, ids ...string) snapshot {
	t.Helper()
	ctx := context.Background()
	s := snapshot{items: map[string]string{}, records: -1}
	for _, id := range ids {
		out, err := fx.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tt.name), Key: tt.key(id), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if out.Item != nil {
			s.items[id] = render(&types.AttributeValueMemberM{Value: out.Item})
		} else {
			s.items[id] = ""
		}
	}
	p := dynamodb.NewScanPaginator(fx.DB, &dynamodb.ScanInput{TableName: aws.String(tt.name), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			s.table = append(s.table, render(&types.AttributeValueMemberM{Value: it}))
		}
	}
	sort.Strings(s.table)
	if tt.gsi != "" {
		out, err := fx.DB.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(tt.name), IndexName: aws.String(tt.gsi),
			KeyConditionExpression:    aws.String("gsi1pk = :g"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":g": dynamo.S(group)}})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range out.Items {
			s.index = append(s.index, render(&types.AttributeValueMemberM{Value: it}))
		}
	}
	if tt.stream {
		s.records = streamRecords(t, tt.name)
	}
	return s
}

func (s snapshot) diff(o snapshot) string {
	var d []string
	for id, v := range s.items {
		if o.items[id] != v {
			d = append(d, fmt.Sprintf("item %s: %q, was %q", id, o.items[id], v))
		}
	}
	if strings.Join(s.table, "\n") != strings.Join(o.table, "\n") {
		d = append(d, fmt.Sprintf("scan:\n  %s\nwas\n  %s", strings.Join(o.table, "\n  "), strings.Join(s.table, "\n  ")))
	}
	if strings.Join(s.index, "\n") != strings.Join(o.index, "\n") {
		d = append(d, fmt.Sprintf("GSI query:\n  %s\nwas\n  %s", strings.Join(o.index, "\n  "), strings.Join(s.index, "\n  ")))
	}
	if s.records != o.records {
		d = append(d, fmt.Sprintf("%d stream records, was %d", o.records, s.records))
	}
	sort.Strings(d)
	return strings.Join(d, "\n")
}

// render writes an attribute value canonically (map keys sorted).
func render(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return fmt.Sprintf("S:%q", v.Value)
	case *types.AttributeValueMemberN:
		return "N:" + v.Value
	case *types.AttributeValueMemberBOOL:
		return fmt.Sprintf("BOOL:%v", v.Value)
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberB:
		return fmt.Sprintf("B:%x", v.Value)
	case *types.AttributeValueMemberSS:
		ss := append([]string(nil), v.Value...)
		sort.Strings(ss)
		return fmt.Sprintf("SS:%q", ss)
	case *types.AttributeValueMemberNS:
		ns := append([]string(nil), v.Value...)
		sort.Strings(ns)
		return fmt.Sprintf("NS:%v", ns)
	case *types.AttributeValueMemberL:
		parts := make([]string, len(v.Value))
		for i, e := range v.Value {
			parts[i] = render(e)
		}
		return "L:[" + strings.Join(parts, ",") + "]"
	case *types.AttributeValueMemberM:
		keys := make([]string, 0, len(v.Value))
		for k := range v.Value {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%q:%s", k, render(v.Value[k]))
		}
		return "{" + strings.Join(parts, ",") + "}"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// streamRecords counts the records of the table's stream, through the
// DynamoDB Streams API that moto serves on the same endpoint (the module
// does not depend on the Streams SDK, so the JSON calls are made by hand).
func streamRecords(t *testing.T, table string) int {
	t.Helper()
	out, err := fx.DB.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.Table.LatestStreamArn)
	if arn == "" {
		t.Fatalf("%s has no stream", table)
	}
	var desc struct {
		StreamDescription struct{ Shards []struct{ ShardId string } }
	}
	streamsCall(t, "DescribeStream", map[string]any{"StreamArn": arn}, &desc)
	n := 0
	for _, sh := range desc.StreamDescription.Shards {
		var it struct{ ShardIterator string }
		streamsCall(t, "GetShardIterator", map[string]any{"StreamArn": arn, "ShardId": sh.ShardId, "ShardIteratorType": "TRIM_HORIZON"}, &it)
		for iter := it.ShardIterator; iter != ""; {
			var recs struct {
				Records           []json.RawMessage
				NextShardIterator string
			}
			streamsCall(t, "GetRecords", map[string]any{"ShardIterator": iter, "Limit": 1000}, &recs)
			if len(recs.Records) == 0 {
				break
			}
			n += len(recs.Records)
			iter = recs.NextShardIterator
		}
	}
	return n
}

func streamsCall(t *testing.T, action string, in map[string]any, out any) {
	t.Helper()
	body, _ := json.Marshal(in)
	req, err := http.NewRequest(http.MethodPost, fx.Endpoint+"/", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDBStreams_20120810."+action)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("streams %s: %s: %s", action, resp.Status, buf.String())
	}
	if err := json.Unmarshal(buf.Bytes(), out); err != nil {
		t.Fatalf("streams %s: %v: %s", action, err, buf.String())
	}
}

func seed(t *testing.T, tt txnTable, group string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		_, err := fx.DB.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(tt.name), Item: tt.item(id, group)})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// writes is a transaction over five items of the group: a Put of a new
// item, an Update of an existing one (a counter, the GSI sort key, a
// nested value and a list element set in place, an attribute removed), a
// ConditionCheck on a third (passing or not), a Delete of a fourth and an
// Update of a missing one (which creates it).
func writes(tt txnTable, p, group string, checkPasses bool) []types.TransactWriteItem {
	cond := "attribute_not_exists(#h)"
	if checkPasses {
		cond = "attribute_exists(#h)"
	}
	return []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(tt.name), Item: tt.item(p+"new", group),
			ConditionExpression: aws.String("attribute_not_exists(#h)"), ExpressionAttributeNames: map[string]string{"#h": tt.hash}}},
		{Update: &types.Update{TableName: aws.String(tt.name), Key: tt.key(p + "upd"),
			UpdateExpression: aws.String("SET n = n + :one, gsi1sk = :moved, m.a = :y, l[0] = :y REMOVE extra"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":one": dynamo.N(1), ":moved": dynamo.S("zz-moved"), ":y": dynamo.S("changed")}}},
		{ConditionCheck: &types.ConditionCheck{TableName: aws.String(tt.name), Key: tt.key(p + "chk"),
			ConditionExpression: aws.String(cond), ExpressionAttributeNames: map[string]string{"#h": tt.hash}}},
		{Delete: &types.Delete{TableName: aws.String(tt.name), Key: tt.key(p + "del"),
			ConditionExpression: aws.String("attribute_exists(#h)"), ExpressionAttributeNames: map[string]string{"#h": tt.hash}}},
		{Update: &types.Update{TableName: aws.String(tt.name), Key: tt.key(p + "ups"),
			UpdateExpression: aws.String("SET n = :one, gsi1pk = :g, gsi1sk = :s"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":one": dynamo.N(1), ":g": dynamo.S(group), ":s": dynamo.S(p + "ups")}}},
	}
}

// A cancelled transaction changes nothing: not the items it names, not the
// rest of the table, not the GSI, not the stream. moto carries on with the
// actions after a failed condition before it cancels, so every action here
// has been applied by the time it rolls back.
func TestCancelledTransactionChangesNothing(t *testing.T) {
	ctx := context.Background()
	for _, tt := range txnTables(t) {
		t.Run(tt.String(), func(t *testing.T) {
			p, group := "cancel-"+randomTag(t)+"-", "G#"+randomTag(t)
			seed(t, tt, group, p+"upd", p+"chk", p+"del", p+"other")
			ids := []string{p + "new", p + "upd", p + "chk", p + "del", p + "ups", p + "other"}
			before := take(t, tt, group, ids...)
			if before.items[p+"new"] != "" || before.items[p+"ups"] != "" || before.items[p+"del"] == "" || (tt.gsi != "" && len(before.index) != 4) {
				t.Fatalf("seeding went wrong: %+v", before)
			}

			_, err := fx.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes(tt, p, group, false)})
			reasons := dynamo.CancellationReasons(err)
			if reasons == nil {
				t.Fatalf("transaction not cancelled: %v", err)
			}
			for i, want := range []string{"None", "None", "ConditionalCheckFailed", "None", "None"} {
				if !dynamo.ReasonIs(reasons, i, want) {
					t.Errorf("reason %d: %v, want %s", i, aws.ToString(reasons[i].Code), want)
				}
			}
			if d := before.diff(take(t, tt, group, ids...)); d != "" {
				t.Fatalf("the cancelled transaction changed the table:\n%s", d)
			}
		})
	}
}

// A transaction refused for naming one item twice is cancelled after moto
// has applied the actions before the duplicate: those are undone too.
func TestRefusedTransactionChangesNothing(t *testing.T) {
	ctx := context.Background()
	for _, tt := range txnTables(t) {
		t.Run(tt.String(), func(t *testing.T) {
			p, group := "dup-"+randomTag(t)+"-", "G#"+randomTag(t)
			seed(t, tt, group, p+"upd", p+"chk", p+"del")
			ids := []string{p + "new", p + "upd", p + "chk", p + "del", p + "ups"}
			before := take(t, tt, group, ids...)
			items := writes(tt, p, group, true)
			items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(tt.name), Key: tt.key(p + "upd")}})
			_, err := fx.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
			if err == nil {
				t.Fatal("a transaction naming an item twice was accepted")
			}
			if d := before.diff(take(t, tt, group, ids...)); d != "" {
				t.Fatalf("the refused transaction (%v) changed the table:\n%s", err, d)
			}
		})
	}
}

// A successful transaction applies every action, and the GSI and the
// stream follow.
func TestSuccessfulTransactionAppliesAll(t *testing.T) {
	ctx := context.Background()
	for _, tt := range txnTables(t) {
		t.Run(tt.String(), func(t *testing.T) {
			p, group := "ok-"+randomTag(t)+"-", "G#"+randomTag(t)
			seed(t, tt, group, p+"upd", p+"chk", p+"del", p+"other")
			ids := []string{p + "new", p + "upd", p + "chk", p + "del", p + "ups", p + "other"}
			before := take(t, tt, group, ids...)
			if _, err := fx.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: writes(tt, p, group, true)}); err != nil {
				t.Fatal(err)
			}
			after := take(t, tt, group, ids...)

			want := map[string]string{
				p + "new":   render(&types.AttributeValueMemberM{Value: tt.item(p+"new", group)}),
				p + "chk":   before.items[p+"chk"],
				p + "other": before.items[p+"other"],
				p + "del":   "",
			}
			upd := tt.item(p+"upd", group)
			upd["n"], upd["gsi1sk"] = dynamo.N(8), dynamo.S("zz-moved")
			upd["m"] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"a": dynamo.S("changed"), "b": dynamo.N(1)}}
			upd["l"] = &types.AttributeValueMemberL{Value: []types.AttributeValue{dynamo.S("changed"), dynamo.S("second")}}
			delete(upd, "extra")
			want[p+"upd"] = render(&types.AttributeValueMemberM{Value: upd})
			ups := tt.key(p + "ups")
			ups["n"], ups["gsi1pk"], ups["gsi1sk"] = dynamo.N(1), dynamo.S(group), dynamo.S(p+"ups")
			want[p+"ups"] = render(&types.AttributeValueMemberM{Value: ups})
			for id, w := range want {
				if after.items[id] != w {
					t.Errorf("item %s:\n  %s\nwant\n  %s", id, after.items[id], w)
				}
			}
			if got, w := len(after.table), len(before.table)+1; got != w { // +new +ups -del
				t.Errorf("%d items in the table, want %d", got, w)
			}
			if tt.gsi != "" {
				var order []string
				for _, id := range []string{"chk", "new", "other", "ups", "upd"} { // gsi1sk order; upd moved to "zz-moved"
					order = append(order, want[p+id])
				}
				if strings.Join(after.index, "\n") != strings.Join(order, "\n") {
					t.Errorf("GSI query:\n  %s\nwant\n  %s", strings.Join(after.index, "\n  "), strings.Join(order, "\n  "))
				}
			}
			if tt.stream && after.records < before.records+4 {
				t.Errorf("%d stream records after 4 writes, %d before", after.records, before.records)
			}
		})
	}
}

// A transaction costs the same on a table of 100 items as on one of 5000
// (moto used to deep-copy the whole table for each action). Only the
// outcome is asserted; the timings are logged (go test -v -run
// TestTransactionCostIndependentOfTableSize ./infra/localdb).
func TestTransactionCostIndependentOfTableSize(t *testing.T) {
	ctx := context.Background()
	// Its own table, so that the other tests' scans stay small.
	tt := txnTable{name: "TxnSize-" + randomTag(t), hash: "id", rng: "sk"}
	err := createTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(tt.name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = fx.DB.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(tt.name)})
	})

	filled := 0
	fill := func(n int) {
		for filled < n {
			var reqs []types.WriteRequest
			for ; filled < n && len(reqs) < 25; filled++ {
				reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: tt.item(fmt.Sprintf("fill-%05d", filled), "G#fill")}})
			}
			for len(reqs) > 0 {
				out, err := fx.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{tt.name: reqs}})
				if err != nil {
					t.Fatal(err)
				}
				reqs = out.UnprocessedItems[tt.name]
			}
		}
	}
	const txns = 50
	counter := tt.key("counter")
	run := func(phase string) time.Duration {
		start, attempts := time.Now(), fx.Counter.Count()
		for i := 0; i < txns; i++ {
			items := []types.TransactWriteItem{
				{Update: &types.Update{TableName: aws.String(tt.name), Key: counter, UpdateExpression: aws.String("ADD n :one"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":one": dynamo.N(1)}}},
				{Put: &types.Put{TableName: aws.String(tt.name), Item: tt.item(fmt.Sprintf("%s-%02d", phase, i), "G#txn")}},
			}
			cancel := i%2 == 1
			if cancel {
				items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: aws.String(tt.name),
					Key: tt.key("fill-00000"), ConditionExpression: aws.String("attribute_not_exists(id)")}})
			}
			_, err := fx.DB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
			if cancel != (dynamo.CancellationReasons(err) != nil) || (!cancel && err != nil) {
				t.Fatalf("%s transaction %d: %v", phase, i, err)
			}
		}
		elapsed := time.Since(start)
		// SDK retries resend a transaction with its ClientRequestToken,
		// which the server honours; say so when they happened.
		if n := fx.Counter.Count() - attempts - txns; n > 0 {
			t.Logf("%s: the SDK retried %d transaction calls", phase, n)
		}
		for i := 0; i < txns; i++ {
			out, err := fx.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tt.name),
				Key: tt.key(fmt.Sprintf("%s-%02d", phase, i)), ConsistentRead: aws.Bool(true)})
			if err != nil {
				t.Fatal(err)
			}
			if applied := out.Item != nil; applied != (i%2 == 0) {
				t.Errorf("%s transaction %d: applied %v", phase, i, applied)
			}
		}
		return elapsed
	}
	count := func() int64 {
		out, err := fx.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tt.name), Key: counter, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return dynamo.Int(out.Item, "n")
	}

	fill(100)
	small := run("small")
	if n := count(); n != txns/2 {
		t.Fatalf("counter %d after %d transactions, half of them cancelled", n, txns)
	}
	fill(5000)
	large := run("large")
	if n := count(); n != txns {
		t.Fatalf("counter %d after %d transactions, half of them cancelled", n, 2*txns)
	}
	t.Logf("%d transactions (3 actions when cancelled, 2 otherwise): %d items %v (%v each), %d items %v (%v each), ratio %.2f",
		txns, 100, small, small/txns, filled, large, large/txns, float64(large)/float64(small))
}
