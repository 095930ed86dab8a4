package iam_test

import (
	"bytes"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/waickoff/waickoff/infra/iam"
	"github.com/waickoff/waickoff/shared/samtemplate"
)

func TestNeeds(t *testing.T) {
	tests := []struct {
		name string
		op   string
		body string
		want []iam.Need
	}{
		{"get", "GetItem", `{"TableName":"Keys-1","Key":{}}`, []iam.Need{{"GetItem", "Keys-1"}}},
		{"query on an index", "Query", `{"TableName":"Quotas-1","IndexName":"gsi1"}`, []iam.Need{{"Query", "Quotas-1"}}},
		{"table by ARN", "UpdateItem", `{"TableName":"arn:aws:dynamodb:us-east-1:123456789012:table/Keys-1"}`, []iam.Need{{"UpdateItem", "Keys-1"}}},
		{"transaction, item by item", "TransactWriteItems", `{"TransactItems":[
			{"Put":{"TableName":"Usage-1"}},{"Update":{"TableName":"Sessions-1"}},{"Update":{"TableName":"Sessions-1"}},
			{"ConditionCheck":{"TableName":"Quotas-1"}},{"Delete":{"TableName":"Sessions-1"}}]}`,
			[]iam.Need{{"ConditionCheckItem", "Quotas-1"}, {"DeleteItem", "Sessions-1"}, {"UpdateItem", "Sessions-1"}, {"PutItem", "Usage-1"}}},
		{"transactional get", "TransactGetItems", `{"TransactItems":[{"Get":{"TableName":"Keys-1"}}]}`, []iam.Need{{"GetItem", "Keys-1"}}},
		{"batch", "BatchWriteItem", `{"RequestItems":{"Usage-1":[],"Keys-1":[]}}`, []iam.Need{{"BatchWriteItem", "Keys-1"}, {"BatchWriteItem", "Usage-1"}}},
		{"no table", "ListTables", `{}`, []iam.Need{{"ListTables", ""}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := iam.Needs(tc.op, []byte(tc.body))
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Needs = %v %v, want %v", got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{`{`, `{"TransactItems":[{"Teleport":{"TableName":"x"}}]}`} {
		if _, err := iam.Needs("TransactWriteItems", []byte(bad)); err == nil {
			t.Errorf("Needs accepted %s", bad)
		}
	}
}

// passed records what reached the store.
type passed struct{ calls []string }

func (p *passed) Do(r *http.Request) (*http.Response, error) {
	p.calls = append(p.calls, r.Header.Get("X-Amz-Target"))
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
}

func call(t *testing.T, c *iam.Client, op, body string) *http.Response {
	t.Helper()
	r, _ := http.NewRequest("POST", "http://db.local/", bytes.NewReader([]byte(body)))
	r.Header.Set("X-Amz-Target", "DynamoDB_20120810."+op)
	resp, err := c.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestClientAllowsWhatThePoliciesGrant(t *testing.T) {
	fn := samtemplate.Function{LogicalID: "F", Policies: []samtemplate.Policy{
		{Template: "DynamoDBCrudPolicy", Table: "Keys"}, {Template: "DynamoDBReadPolicy", Table: "Quotas"}}}
	tables := map[string]string{"Keys": "Keys-1", "Quotas": "Quotas-1", "Usage": "Usage-1"}
	store := &passed{}
	c, err := iam.New(fn, tables, store)
	if err != nil {
		t.Fatal(err)
	}
	allowed := []struct{ op, body string }{
		{"UpdateItem", `{"TableName":"Keys-1"}`},
		{"GetItem", `{"TableName":"Quotas-1"}`},
		{"Query", `{"TableName":"Quotas-1","IndexName":"gsi1"}`},
		{"TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"Keys-1"}},{"ConditionCheck":{"TableName":"Keys-1"}}]}`},
	}
	denied := []struct{ op, body string }{
		{"UpdateItem", `{"TableName":"Quotas-1"}`}, // read only
		{"GetItem", `{"TableName":"Usage-1"}`},     // no grant
		{"TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"Keys-1"}},{"ConditionCheck":{"TableName":"Quotas-1"}}]}`},
		{"ListTables", `{}`},
		{"GetItem", `not json`},
	}
	for _, a := range allowed {
		if resp := call(t, c, a.op, a.body); resp.StatusCode != 200 {
			t.Errorf("%s %s refused", a.op, a.body)
		}
	}
	if len(store.calls) != len(allowed) {
		t.Fatalf("%d calls reached the store, want %d", len(store.calls), len(allowed))
	}
	for _, d := range denied {
		resp := call(t, c, d.op, d.body)
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 400 || !strings.Contains(string(b), "AccessDeniedException") || !strings.Contains(string(b), "not authorized") {
			t.Errorf("%s %s: %d %s, want AccessDeniedException", d.op, d.body, resp.StatusCode, b)
		}
	}
	if len(store.calls) != len(allowed) {
		t.Fatalf("a denied call reached the store: %v", store.calls)
	}
	if got := c.Denied(); len(got) != len(denied) || got[0] != "dynamodb:UpdateItem on arn:aws:dynamodb:local:000000000000:table/Quotas-1" {
		t.Fatalf("denied %v", got)
	}
	for range 200 {
		call(t, c, "GetItem", `{"TableName":"Usage-1"}`)
	}
	if got := c.Denied(); len(got) != 101 || got[100] != "and 105 more" {
		t.Fatalf("after 205 denials: %d lines, last %q", len(got), got[len(got)-1])
	}
}

// Every function of the template has policies the local run can emulate,
// naming tables the template defines.
func TestEveryTemplateFunctionIsEmulated(t *testing.T) {
	tpl, _, err := samtemplate.LoadNearest()
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string]string{}
	for id := range tpl.Tables {
		tables[id] = id
	}
	for _, id := range tpl.FunctionIDs() {
		if _, err := iam.New(tpl.Functions[id], tables, &passed{}); err != nil {
			t.Error(err)
		}
		// One grant a table: a second one is either redundant or a
		// broader grant than the first suggests.
		seen := map[string]bool{}
		for _, p := range tpl.Functions[id].Policies {
			if seen[p.Table] {
				t.Errorf("%s: more than one policy on %s", id, p.Table)
			}
			seen[p.Table] = true
		}
	}
	if _, err := iam.New(samtemplate.Function{LogicalID: "F", Policies: []samtemplate.Policy{{Template: "AmazonDynamoDBFullAccess"}}}, tables, &passed{}); err == nil {
		t.Error("a policy the emulation does not know was accepted")
	}
}
