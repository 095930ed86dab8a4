package authorizer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/apikey"
	"github.com/waickoff/waickoff/shared/authorizer"
	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/shared/ratelimit"
)

// The benchmarks measure the authorizer's own CPU time per request with
// the database round trip taken out: the DynamoDB answer is canned.

// lookupItem is a key's lookup item as UpdateItem returns it (ALL_NEW).
func lookupItem(now time.Time) map[string]types.AttributeValue {
	p := ratelimit.ParamsFor(60)
	tat := now.UnixMicro() + p.Period
	n := func(v int64) types.AttributeValue {
		return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
	}
	item := map[string]types.AttributeValue{
		"pk":                    &types.AttributeValueMemberS{Value: "HASH#0123"},
		"sk":                    &types.AttributeValueMemberS{Value: "HASH"},
		"account_id":            &types.AttributeValueMemberS{Value: "acc_0123456789abcdef"},
		"key_id":                &types.AttributeValueMemberS{Value: "key_0190f1e2d3c4a1b2c3d4"},
		"permission":            &types.AttributeValueMemberS{Value: "READ"},
		"rate_limit_per_minute": n(60),
		"expires_at":            n(0),
		"revoked":               &types.AttributeValueMemberBOOL{Value: false},
		ratelimit.AttrTAT:       n(tat),
		ratelimit.AttrNext:      n(tat + p.Period),
		ratelimit.AttrGate:      n(tat + p.Period - 60*p.Period),
	}
	for k := range ratelimit.RingSize { // a full marker ring, as on a busy key
		item[fmt.Sprintf("rl_m%d", k)] = &types.AttributeValueMemberS{Value: fmt.Sprintf("AAAAAAAAAA%02d", k)}
	}
	for k, v := range p.Attributes() {
		item[k] = v
	}
	return item
}

// cannedDB answers UpdateItem with a fixed item and nothing else.
type cannedDB struct {
	item map[string]types.AttributeValue
}

func (c cannedDB) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return &dynamodb.UpdateItemOutput{Attributes: c.item}, nil
}

func (cannedDB) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return nil, errors.New("not used")
}

func (cannedDB) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return nil, errors.New("not used")
}

func (cannedDB) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return nil, errors.New("not used")
}

func benchAuthorizer(b *testing.B, keys authorizer.Keys) {
	key, _ := apikey.Generate()
	a := authorizer.New(authorizer.Options{Keys: keys, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	req := request(b, plain, key)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Handle(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthorize: header parsing, key check and hash, building the
// conditional update, reading the answer, policy and context, and the
// log line; the store answers from memory.
func BenchmarkAuthorize(b *testing.B) {
	benchAuthorizer(b, apikey.NewStore(cannedDB{item: lookupItem(time.Now())}, "ApiKeysTable"))
}

// cannedHTTP answers every DynamoDB call with the same JSON body.
type cannedHTTP struct{ body []byte }

func (c cannedHTTP) Do(req *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, req.Body)
	return &http.Response{StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"},
			"X-Amz-Crc32": {strconv.FormatUint(uint64(crc32.ChecksumIEEE(c.body)), 10)}},
		Body:          io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: int64(len(c.body)), Request: req}, nil
}

// attributesJSON renders an UpdateItem answer in DynamoDB's wire format.
func attributesJSON(item map[string]types.AttributeValue) []byte {
	var b bytes.Buffer
	b.WriteString(`{"Attributes":{`)
	first := true
	for k, v := range item {
		if !first {
			b.WriteByte(',')
		}
		first = false
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			fmt.Fprintf(&b, "%q:{\"S\":%q}", k, v.Value)
		case *types.AttributeValueMemberN:
			fmt.Fprintf(&b, "%q:{\"N\":%q}", k, v.Value)
		case *types.AttributeValueMemberBOOL:
			fmt.Fprintf(&b, "%q:{\"BOOL\":%t}", k, v.Value)
		case *types.AttributeValueMemberSS:
			fmt.Fprintf(&b, "%q:{\"SS\":[", k)
			for i, s := range v.Value {
				if i > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, "%q", s)
			}
			b.WriteString("]}")
		}
	}
	b.WriteString("}}")
	return b.Bytes()
}

// BenchmarkAuthorizeSDK adds the SDK's work (serialising, signing,
// deserialising the request and answer) with the HTTP round trip taken
// out: what the Lambda spends in CPU per request.
func BenchmarkAuthorizeSDK(b *testing.B) {
	db, err := dynamo.NewClient(context.Background(), dynamo.Options{Region: "us-east-1", Endpoint: "http://dynamodb.invalid",
		HTTPClient: cannedHTTP{body: attributesJSON(lookupItem(time.Now()))}})
	if err != nil {
		b.Fatal(err)
	}
	benchAuthorizer(b, apikey.NewStore(db, "ApiKeysTable"))
}

// The SDK path decodes the canned answer into a working caller.
func TestCannedSDKAnswerDecodes(t *testing.T) {
	db, err := dynamo.NewClient(context.Background(), dynamo.Options{Region: "us-east-1", Endpoint: "http://dynamodb.invalid",
		HTTPClient: cannedHTTP{body: attributesJSON(lookupItem(time.Now()))}})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := apikey.Generate()
	a := authorizer.New(authorizer.Options{Keys: apikey.NewStore(db, "ApiKeysTable"), Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))})
	req := request(t, plain, key)
	resp, err := a.Handle(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if c := callerOf(t, req, resp); c.AccountID != "acc_0123456789abcdef" || c.RateLimit != 60 || c.RateRemaining != 59 {
		t.Fatalf("caller %+v", c)
	}
}
