package session_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/sessions"
	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/session"
	"github.com/waickoff/waickoff/shared/session/sessiontest"
)

// fixture loads events/ttl-removal.json: one TTL removal of a lease.
func fixture(t *testing.T) events.DynamoDBEventRecord {
	t.Helper()
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(read(t, fx.Root+"/events/ttl-removal.json"), &ev); err != nil {
		t.Fatal(err)
	}
	if len(ev.Records) != 1 {
		t.Fatalf("fixture has %d records", len(ev.Records))
	}
	return ev.Records[0]
}

var seq int

// removal is the fixture's record for the lease of the given session.
func removal(t *testing.T, accountID, sessionID string, expires time.Time) events.DynamoDBEventRecord {
	t.Helper()
	rec := fixture(t)
	seq++
	rec.Change.SequenceNumber = strconv.Itoa(1000 + seq)
	pk := events.NewStringAttribute("LEASE#" + sessionID)
	rec.Change.Keys = map[string]events.DynamoDBAttributeValue{"pk": pk, "sk": events.NewStringAttribute("LEASE")}
	rec.Change.OldImage = map[string]events.DynamoDBAttributeValue{
		"pk": pk, "sk": events.NewStringAttribute("LEASE"),
		"account_id": events.NewStringAttribute(accountID), "session_id": events.NewStringAttribute(sessionID),
		"expires_at": events.NewNumberAttribute(strconv.FormatInt(expires.UnixMilli(), 10)),
		"ttl":        events.NewNumberAttribute(strconv.FormatInt((expires.UnixMilli()+999)/1000, 10)),
	}
	return rec
}

func TestFixtureIsALeaseRemoval(t *testing.T) {
	rec := fixture(t)
	l, err := session.LeaseOf(&rec)
	if err != nil || l.AccountID != "acc_7b2f9d41c0e8a1b2" || !session.ValidID(l.SessionID) || l.TTL.IsZero() {
		t.Fatalf("lease %+v %v", l, err)
	}
}

func (e *env) expiry() app.StreamHandler {
	e.t.Helper()
	h, err := sessions.Expiry(e.d)
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

func startSession(t *testing.T, e *env, acc string) (string, time.Time) {
	t.Helper()
	r := e.start(acc)
	exp, err := time.Parse(time.RFC3339Nano, r.Str("expires_at"))
	if err != nil {
		t.Fatal(err)
	}
	return r.Str("session_id"), exp
}

// The same TTL record three times in a batch, and again later, ends the
// session once.
func TestExpiryIsIdempotent(t *testing.T) {
	e := newEnv(t, map[string]string{"SESSION_TTL": "1h"})
	h := e.expiry()
	acc := e.account(1)
	id, exp := startSession(t, e, acc)
	e.clock.Advance(time.Hour + time.Second)
	rec := removal(t, acc, id, exp)
	for _, batch := range [][]events.DynamoDBEventRecord{{rec, rec, rec}, {rec}} {
		resp, err := h(context.Background(), events.DynamoDBEvent{Records: batch})
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("resp %+v err %v", resp, err)
		}
	}
	s, err := e.store.Get(context.Background(), acc, id)
	if err != nil || s.Status != session.Ended || s.EndReason != session.Expired || !s.EndedAt.Equal(exp) {
		t.Fatalf("session %+v %v", s, err)
	}
	if str(e.hub(acc), "active_session_id") != "" {
		t.Fatal("hub pointer not cleared")
	}
	if n := e.logs.metric("SessionsEnded", map[string]any{"reason": "expired"}); n != 1 {
		t.Fatalf("SessionsEnded{expired} = %v, want 1", n)
	}
}

// A terminate and the TTL record in either order: the first end stands.
func TestExpiryAndTerminateInEitherOrder(t *testing.T) {
	e := newEnv(t, map[string]string{"SESSION_TTL": "1h"})
	h := e.expiry()
	ctx := context.Background()
	t.Run("terminate first", func(t *testing.T) {
		acc := e.account(1)
		id, exp := startSession(t, e, acc)
		w := sessiontest.Key(acc, caller.Write)
		term := e.do("terminate", sessiontest.Request{Method: "POST", Path: pathOf("sessions", id, "terminate"), Caller: &w})
		if term.Status != 200 {
			t.Fatalf("terminate %s", term.Raw)
		}
		before, _ := e.store.Get(ctx, acc, id)
		resp, _ := h(ctx, events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{removal(t, acc, id, exp)}})
		after, _ := e.store.Get(ctx, acc, id)
		if len(resp.BatchItemFailures) != 0 || after != before || after.EndReason != session.Terminated {
			t.Fatalf("before %+v after %+v resp %+v", before, after, resp)
		}
	})
	t.Run("expiry first", func(t *testing.T) {
		acc := e.account(1)
		id, exp := startSession(t, e, acc)
		e.clock.Advance(time.Hour)
		resp, _ := h(ctx, events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{removal(t, acc, id, exp)}})
		w := sessiontest.Key(acc, caller.Write)
		term := e.do("terminate", sessiontest.Request{Method: "POST", Path: pathOf("sessions", id, "terminate"), Caller: &w})
		after, _ := e.store.Get(ctx, acc, id)
		if len(resp.BatchItemFailures) != 0 || term.Status != 409 || after.EndReason != session.Expired {
			t.Fatalf("terminate %d, session %+v", term.Status, after)
		}
	})
}

// Records that are not TTL removals of a lease are skipped; a record
// whose processing fails is reported alone and the rest succeed.
func TestExpiryBatch(t *testing.T) {
	e := newEnv(t, map[string]string{"SESSION_TTL": "1h"})
	h := e.expiry()
	ctx := context.Background()
	acc1, acc2 := e.account(1), e.account(1)
	id1, exp1 := startSession(t, e, acc1)
	id2, exp2 := startSession(t, e, acc2)
	e.clock.Advance(time.Hour)

	insert := removal(t, acc1, id1, exp1)
	insert.EventName = "INSERT"
	byUser := removal(t, acc1, id1, exp1)
	byUser.UserIdentity = nil
	notLease := removal(t, acc1, id1, exp1)
	notLease.Change.Keys["pk"] = events.NewStringAttribute("ACCOUNT#" + acc1)
	noImage := removal(t, acc1, id1, exp1)
	noImage.Change.OldImage = nil
	wrongType := removal(t, acc1, id1, exp1)
	wrongType.Change.OldImage["account_id"] = events.NewNumberAttribute("12")
	// A well-formed lease of a session whose item is garbage: ending it
	// fails every time, so it is a poison record.
	accP := e.account(0)
	idP := session.NewID(e.clock.Now())
	bad := session.Key(accP, idP)
	bad["status"] = &types.AttributeValueMemberS{Value: "bogus"}
	if _, err := fx.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(fx.Tables.Sessions), Item: bad}); err != nil {
		t.Fatal(err)
	}
	poison := removal(t, accP, idP, exp1)
	good1, good2 := removal(t, acc1, id1, exp1), removal(t, acc2, id2, exp2)

	batch := []events.DynamoDBEventRecord{insert, byUser, notLease, noImage, wrongType, good1, poison, good2}
	resp, err := h(ctx, events.DynamoDBEvent{Records: batch})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != poison.Change.SequenceNumber {
		t.Fatalf("failures %+v, want only %s", resp.BatchItemFailures, poison.Change.SequenceNumber)
	}
	for acc, id := range map[string]string{acc1: id1, acc2: id2} {
		if s, _ := e.store.Get(ctx, acc, id); s.Status != session.Ended || s.EndReason != session.Expired {
			t.Fatalf("session %s: %+v", id, s)
		}
	}
	// The skipped shapes alone change nothing and fail nothing.
	acc3 := e.account(1)
	id3, exp3 := startSession(t, e, acc3)
	rec := removal(t, acc3, id3, exp3)
	rec.EventName = "MODIFY"
	resp, _ = h(ctx, events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{rec}})
	if s, _ := e.store.Get(ctx, acc3, id3); len(resp.BatchItemFailures) != 0 || s.Status != session.Active {
		t.Fatalf("a MODIFY record changed the session: %+v", s)
	}
}

// A lease removed while its session is exhausted ends it as exhausted.
func TestExpiryOfExhaustedSession(t *testing.T) {
	e := newEnv(t, map[string]string{"SESSION_TTL": "1h", "SESSION_TOKEN_LIMIT": "10"})
	h := e.expiry()
	ctx := context.Background()
	acc := e.account(1)
	id, exp := startSession(t, e, acc)
	// The table says active with tokens over the limit (as after a
	// charge whose ending write was lost).
	_, err := fx.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(fx.Tables.Sessions),
		Key: session.Key(acc, id), UpdateExpression: aws.String("SET tokens_used = :n"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": &types.AttributeValueMemberN{Value: "12"}}})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	resp, _ := h(ctx, events.DynamoDBEvent{Records: []events.DynamoDBEventRecord{removal(t, acc, id, exp)}})
	s, _ := e.store.Get(ctx, acc, id)
	if len(resp.BatchItemFailures) != 0 || s.Status != session.Ended || s.EndReason != session.Exhausted || s.TokensUsed != 12 {
		t.Fatalf("session %+v", s)
	}
}
