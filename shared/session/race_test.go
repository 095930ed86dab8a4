package session_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/shared/session"
)

// interleave is the fixture's store with a hook that runs once, just
// before the first transaction that before selects is sent: what another
// writer does between a read and the write that was decided on it.
type interleave struct {
	*dynamodb.Client
	mu     sync.Mutex
	before func(in *dynamodb.TransactWriteItemsInput) bool
	hook   func()
}

func (d *interleave) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	d.mu.Lock()
	var run func()
	if d.hook != nil && d.before(in) {
		run, d.hook = d.hook, nil
	}
	d.mu.Unlock()
	if run != nil {
		run()
	}
	return d.Client.TransactWriteItems(ctx, in, opts...)
}

// The hub's quota drops to zero between Start's read and its write (the
// reconciler repairing it, say): the write's own `remaining > 0` must
// refuse, and nothing is spent or started.
func TestStartRechecksQuotaAtTheWrite(t *testing.T) {
	ctx := context.Background()
	e := &env{t: t}
	acc := e.account(1)
	db := &interleave{Client: fx.DB, before: func(*dynamodb.TransactWriteItemsInput) bool { return true }}
	db.hook = func() {
		_, err := fx.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(fx.Tables.Quotas),
			Key: session.HubKey(acc), UpdateExpression: aws.String("SET remaining = :zero"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":zero": dynamo.N(0)}})
		if err != nil {
			t.Error(err)
		}
	}
	store := session.NewStore(db, fx.Tables, session.Options{TTL: time.Hour, TokenLimit: 1000})
	ses, err := store.Start(ctx, acc, time.Now())
	if !errors.Is(err, session.ErrNoQuota) {
		t.Fatalf("start with the quota gone at the write: %+v, %v; want ErrNoQuota", ses, err)
	}
	if db.hook != nil {
		t.Fatal("the hook never ran")
	}
	hub := e.hub(acc)
	if num(hub, "remaining") != 0 || num(hub, "used") != 0 || str(hub, "active_session_id") != "" {
		t.Fatalf("hub after a refused start: %v", hub)
	}
	list, _, err := store.List(ctx, acc, "", 10, "", time.Now())
	if err != nil || len(list) != 0 {
		t.Fatalf("sessions after a refused start: %+v %v", list, err)
	}
}

// The stream's TTL record and a terminate race: the terminate lands
// between the stream handler's read of the session and its write. The
// terminate's end stands (the write is conditional on status active),
// and the session is counted as ended once.
func TestExpiryRacesTerminate(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, map[string]string{"SESSION_TTL": "1h"})
	acc := e.account(1)
	id, exp := startSession(t, e, acc)
	termAt := exp.Add(-time.Millisecond)
	// The stream handler's end is the transaction whose first item ends
	// this session as expired.
	endsExpired := func(in *dynamodb.TransactWriteItemsInput) bool {
		u := in.TransactItems[0].Update
		return u != nil && aws.ToString(u.TableName) == fx.Tables.Sessions &&
			dynamo.String(u.ExpressionAttributeValues, ":reason") == string(session.Expired)
	}
	db := &interleave{Client: fx.DB, before: endsExpired}
	var terminated session.Session
	db.hook = func() {
		var err error
		if terminated, err = e.store.Terminate(ctx, acc, id, termAt); err != nil {
			t.Errorf("terminate just before expiry: %v", err)
		}
	}
	stream := session.NewExpiry(session.NewStore(db, fx.Tables, session.Options{TTL: time.Hour, TokenLimit: 1000}),
		func() time.Time { return exp.Add(2 * time.Second) })
	resp, err := stream.Handle(ctx, events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{removal(t, acc, id, exp)}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("stream: %+v %v", resp, err)
	}
	if db.hook != nil {
		t.Fatal("the terminate never ran inside the stream handler's end")
	}
	got, err := e.store.Get(ctx, acc, id)
	if err != nil || got.Status != session.Ended || got.EndReason != session.Terminated ||
		!got.EndedAt.Equal(termAt.UTC().Truncate(time.Millisecond)) || terminated.EndReason != session.Terminated {
		t.Fatalf("after the race: %+v %v; want the terminate's end at %s", got, err, termAt)
	}
	if str(e.hub(acc), "active_session_id") != "" {
		t.Fatal("hub pointer not cleared")
	}
}
