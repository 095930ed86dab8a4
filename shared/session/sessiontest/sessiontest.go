// Package sessiontest holds test helpers for the session, quota and
// metering packages: accounts written as account creation writes them
// (DESIGN.md), API Gateway proxy events carrying an authorizer context as
// API Gateway delivers it (every value a string), and their responses.
package sessiontest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/caller"
)

// Account writes a new account's hub item in the QuotasTable named
// table, with purchased = remaining = quota and used = 0, and returns its
// id. (The quota is written directly, without a ledger entry, unless the
// test adds one.)
func Account(t testing.TB, db *dynamodb.Client, table string, quota int64) string {
	t.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:])
	id := "acc_" + hex.EncodeToString(b[:])
	n := func(v int64) types.AttributeValue {
		return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
	}
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	_, err := db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table),
		Item: map[string]types.AttributeValue{
			"pk": s("ACCOUNT#" + id), "sk": s("ACCOUNT"), "account_id": s(id), "name": s("test"),
			"created_at": n(time.Now().UnixMilli()), "purchased": n(quota), "used": n(0), "remaining": n(quota),
			"gsi1pk": s("ACCOUNT"), "gsi1sk": s(id),
		}})
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	return id
}

// Key returns a caller of the account with the given permission.
func Key(accountID string, p caller.Permission) caller.Caller {
	return caller.Caller{AccountID: accountID, KeyID: "key_" + accountID[4:], Permission: p,
		RateLimit: 60, RateRemaining: 59, RateReset: 1}
}

// Master is the operator's caller.
var Master = caller.Caller{Permission: caller.Master}

// Request is one API call.
type Request struct {
	Method, Path, Body string
	Query              map[string]string
	// RequestID is API Gateway's request id (random when empty).
	RequestID string
	Caller    *caller.Caller
}

// Event returns the proxy event API Gateway sends for r.
func (r Request) Event() events.APIGatewayProxyRequest {
	id := r.RequestID
	if id == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	ev := events.APIGatewayProxyRequest{HTTPMethod: r.Method, Path: r.Path, Body: r.Body,
		QueryStringParameters: r.Query,
		Headers:               map[string]string{"Content-Type": "application/json"},
		RequestContext:        events.APIGatewayProxyRequestContext{RequestID: id, Stage: "v1stage"}}
	if r.Caller != nil {
		ev.RequestContext.Authorizer = map[string]any{}
		for k, v := range r.Caller.Context() {
			ev.RequestContext.Authorizer[k] = fmt.Sprint(v)
		}
	}
	return ev
}

// Response is a decoded proxy response.
type Response struct {
	Status int
	Raw    string
	Body   map[string]any
	Header http.Header
}

// Code is the problem code of an error response ("" otherwise).
func (r Response) Code() string {
	c, _ := r.Body["code"].(string)
	return c
}

// Int reads a numeric field of the body (0 when absent).
func (r Response) Int(field string) int64 {
	f, _ := r.Body[field].(float64)
	return int64(f)
}

// Str reads a string field of the body.
func (r Response) Str(field string) string {
	s, _ := r.Body[field].(string)
	return s
}

// Handler is a function's Lambda handler (httpapi.Server.Lambda()).
type Handler func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)

// Do sends r to h and decodes the answer.
func Do(t testing.TB, h Handler, r Request) Response {
	t.Helper()
	resp, err := h(context.Background(), r.Event())
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	out := Response{Status: resp.StatusCode, Raw: resp.Body, Header: http.Header{}}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			out.Header.Add(k, v)
		}
	}
	for k, v := range resp.Headers {
		if out.Header.Get(k) == "" {
			out.Header.Set(k, v)
		}
	}
	if resp.Body != "" {
		_ = json.Unmarshal([]byte(resp.Body), &out.Body)
	}
	return out
}
