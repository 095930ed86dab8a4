package session_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/waickoff/waickoff/shared/account"
	"github.com/waickoff/waickoff/shared/session"
)

// FuzzLeaseOf: the stream handler's record decoding never panics on any
// stream event, and takes a record for a lease's TTL removal only when it
// is a REMOVE by dynamodb.amazonaws.com of LEASE#<session_id>/LEASE whose
// old image names a well-formed account and the same, well-formed session.
func FuzzLeaseOf(f *testing.F) {
	raw, err := os.ReadFile(filepath.Join(fx.Root, "events", "ttl-removal.json"))
	if err != nil {
		f.Fatal(err)
	}
	base := string(raw)
	f.Add([]byte(base))
	f.Add([]byte(strings.Replace(base, `"REMOVE"`, `"MODIFY"`, 1)))
	f.Add([]byte(strings.Replace(base, `"Service"`, `"User"`, 1)))
	f.Add([]byte(strings.Replace(base, `"S": "acc_7b2f9d41c0e8a1b2"`, `"N": "7"`, 1)))
	f.Add([]byte(strings.Replace(base, `"S": "acc_7b2f9d41c0e8a1b2"`, `"S": "acc_#injected"`, 1)))
	f.Add([]byte(strings.Replace(base, `"OldImage"`, `"NewImage"`, 1)))
	f.Add([]byte(strings.Replace(base, `LEASE#ses_019abde395000a1b2c3d4e`, `LEASE#ses_x`, 2)))
	f.Add([]byte(`{"Records":[{}]}`))
	f.Add([]byte(`{"Records":[{"eventName":"REMOVE","userIdentity":{"type":"Service","principalId":"dynamodb.amazonaws.com"},"dynamodb":{"Keys":{"pk":{"M":{"S":{"S":"LEASE#"}}}}}}]}`))
	f.Add([]byte(`{"Records":[{"dynamodb":{"Keys":{"pk":{"NULL":true},"sk":{"L":[]}},"OldImage":{"ttl":{"N":"1e999"}}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev events.DynamoDBEvent
		if json.Unmarshal(data, &ev) != nil {
			return // the Lambda runtime refuses it before the handler
		}
		for i := range ev.Records {
			rec := &ev.Records[i]
			l, err := session.LeaseOf(rec)
			if err != nil {
				continue
			}
			u := rec.UserIdentity
			if rec.EventName != "REMOVE" || u == nil || u.Type != "Service" || u.PrincipalID != "dynamodb.amazonaws.com" {
				t.Fatalf("took %+v as a TTL removal", rec)
			}
			keys, old := rec.Change.Keys, rec.Change.OldImage
			if imageString(keys, "pk") != "LEASE#"+l.SessionID || imageString(keys, "sk") != "LEASE" || !session.ValidID(l.SessionID) ||
				!account.ValidID(l.AccountID) || imageString(old, "account_id") != l.AccountID || imageString(old, "session_id") != l.SessionID {
				t.Fatalf("lease %+v from keys %v and image %v", l, keys, old)
			}
		}
	})
}

// imageString is a string attribute of a stream image ("" when absent
// or of another type).
func imageString(m map[string]events.DynamoDBAttributeValue, name string) string {
	v, ok := m[name]
	if !ok || v.DataType() != events.DataTypeString {
		return ""
	}
	return v.String()
}
