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

var hashKeys = map[string]string{"Keys-1": "pk", "Quotas-1": "pk", "Usage-1": "pk", "Sessions-1": "pk"}

func TestNeeds(t *testing.T) {
	tests := []struct {
		name string
		op   string
		body string
		want []iam.Need
	}{
		{"get", "GetItem", `{"TableName":"Keys-1","Key":{}}`, []iam.Need{{Action: "GetItem", Table: "Keys-1"}}},
		{"query on an index", "Query", `{"TableName":"Quotas-1","IndexName":"gsi1"}`, []iam.Need{{Action: "Query", Table: "Quotas-1", Index: "gsi1"}}},
		{"query names its partition", "Query", `{"TableName":"Quotas-1","KeyConditionExpression":"#p = :pk AND begins_with(sk, :s)",
			"ExpressionAttributeNames":{"#p":"pk"},"ExpressionAttributeValues":{":pk":{"S":"ACCOUNT#a"},":s":{"S":"x"}}}`,
			[]iam.Need{{Action: "Query", Table: "Quotas-1", Keys: []string{"ACCOUNT#a"}}}},
		{"item keys", "UpdateItem", `{"TableName":"Keys-1","Key":{"pk":{"S":"HASH#h"},"sk":{"S":"HASH"}}}`,
			[]iam.Need{{Action: "UpdateItem", Table: "Keys-1", Keys: []string{"HASH#h"}}}},
		{"put item", "PutItem", `{"TableName":"Keys-1","Item":{"pk":{"S":"HASH#h"},"sk":{"S":"HASH"}}}`,
			[]iam.Need{{Action: "PutItem", Table: "Keys-1", Keys: []string{"HASH#h"}}}},
		{"batch keys", "BatchWriteItem", `{"RequestItems":{"Usage-1":[{"PutRequest":{"Item":{"pk":{"S":"A"}}}},{"DeleteRequest":{"Key":{"pk":{"S":"B"}}}}]}}`,
			[]iam.Need{{Action: "BatchWriteItem", Table: "Usage-1", Keys: []string{"A", "B"}}}},
		{"table by ARN", "UpdateItem", `{"TableName":"arn:aws:dynamodb:us-east-1:123456789012:table/Keys-1"}`, []iam.Need{{Action: "UpdateItem", Table: "Keys-1"}}},
		{"transaction, item by item", "TransactWriteItems", `{"TransactItems":[
			{"Put":{"TableName":"Usage-1"}},{"Update":{"TableName":"Sessions-1"}},{"Update":{"TableName":"Sessions-1"}},
			{"ConditionCheck":{"TableName":"Quotas-1"}},{"Delete":{"TableName":"Sessions-1"}}]}`,
			[]iam.Need{{Action: "ConditionCheckItem", Table: "Quotas-1"}, {Action: "DeleteItem", Table: "Sessions-1"}, {Action: "UpdateItem", Table: "Sessions-1"}, {Action: "PutItem", Table: "Usage-1"}}},
		{"transactional get", "TransactGetItems", `{"TransactItems":[{"Get":{"TableName":"Keys-1"}}]}`, []iam.Need{{Action: "GetItem", Table: "Keys-1"}}},
		{"batch", "BatchWriteItem", `{"RequestItems":{"Usage-1":[],"Keys-1":[]}}`, []iam.Need{{Action: "BatchWriteItem", Table: "Keys-1"}, {Action: "BatchWriteItem", Table: "Usage-1"}}},
		{"no table", "ListTables", `{}`, []iam.Need{{Action: "ListTables", Table: ""}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := iam.Needs(tc.op, []byte(tc.body), hashKeys)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Needs = %v %v, want %v", got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{`{`, `{"TransactItems":[{"Teleport":{"TableName":"x"}}]}`} {
		if _, err := iam.Needs("TransactWriteItems", []byte(bad), hashKeys); err == nil {
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

func crud(table string) samtemplate.Statement {
	arn := "arn:aws:dynamodb:us-east-1:123456789012:table/" + table
	return samtemplate.Statement{Effect: "Allow", Action: []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
		"dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:ConditionCheckItem"}, Resource: []string{arn, arn + "/index/*"}}
}

func policy(sts ...samtemplate.Statement) iam.Policy {
	return iam.Policy{Statements: sts, HashKeys: hashKeys,
		TableARN:  func(n string) string { return "arn:aws:dynamodb:us-east-1:123456789012:table/" + n },
		SecretARN: func(n string) string { return "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + n + "-abcdef" }}
}

func TestClientAllowsWhatThePoliciesGrant(t *testing.T) {
	read := samtemplate.Statement{Effect: "Allow", Action: []string{"dynamodb:GetItem", "dynamodb:Query"},
		Resource: []string{"arn:aws:dynamodb:us-east-1:123456789012:table/Quotas-1", "arn:aws:dynamodb:us-east-1:123456789012:table/Quotas-1/index/*"}}
	store := &passed{}
	c, err := iam.New("F", policy(crud("Keys-1"), read), store)
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
	if got := c.Denied(); len(got) != len(denied) || got[0] != "dynamodb:UpdateItem on arn:aws:dynamodb:us-east-1:123456789012:table/Quotas-1" {
		t.Fatalf("denied %v", got)
	}
	for range 200 {
		call(t, c, "GetItem", `{"TableName":"Usage-1"}`)
	}
	if got := c.Denied(); len(got) != 101 || got[100] != "and 105 more" {
		t.Fatalf("after 205 denials: %d lines, last %q", len(got), got[len(got)-1])
	}
}

// Every function of the template has policies the local run can emulate.
func TestEveryTemplateFunctionIsEmulated(t *testing.T) {
	tpl, _, err := samtemplate.LoadNearest()
	if err != nil {
		t.Fatal(err)
	}
	for _, params := range []map[string]string{{}, {"Stage": "prod", "MasterKeySecret": "m", "AllowMasterKey": "true"}} {
		r, err := tpl.Resolve(samtemplate.Stack{Parameters: params})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range tpl.FunctionIDs() {
			sts, err := r.Policies(id)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := iam.New(id, policy(sts...), &passed{}); err != nil {
				t.Error(err)
			}
		}
	}
	odd := samtemplate.Statement{Effect: "Allow", Action: []string{"dynamodb:GetItem"}, Resource: []string{"*"},
		Condition: map[string]map[string][]string{"StringEquals": {"dynamodb:Attributes": {"a"}}}}
	if _, err := iam.New("F", policy(odd), &passed{}); err == nil {
		t.Error("a condition the emulation does not know was accepted")
	}
}

// The internet-facing authorizer can update a key's rate limit and the
// master key's, and nothing else in ApiKeysTable: it cannot mint a
// lookup item with PutItem, read or list keys, or touch a key's record.
func TestAuthorizerHoldsOnlyTheRateLimit(t *testing.T) {
	tpl, _, err := samtemplate.LoadNearest()
	if err != nil {
		t.Fatal(err)
	}
	r, err := tpl.Resolve(samtemplate.Stack{Parameters: map[string]string{"Stage": "prod", "MasterKeySecret": "m", "AllowMasterKey": "true"},
		Region: "us-east-1", AccountID: "123456789012", Partition: "aws",
		Ref: func(id, typ string) (string, bool) { return id + "-1", typ == "AWS::DynamoDB::Table" },
		GetAtt: func(id, typ, attr string) (string, bool) {
			return "arn:aws:dynamodb:us-east-1:123456789012:table/" + id + "-1", typ == "AWS::DynamoDB::Table" && attr == "Arn"
		}})
	if err != nil {
		t.Fatal(err)
	}
	sts, err := r.Policies(tpl.DefaultAuthorizer)
	if err != nil {
		t.Fatal(err)
	}
	p := policy(sts...)
	for _, tc := range []struct {
		need iam.Need
		want bool
	}{
		{iam.Need{Action: "UpdateItem", Table: "ApiKeysTable-1", Keys: []string{"HASH#ab12"}}, true},
		{iam.Need{Action: "UpdateItem", Table: "ApiKeysTable-1", Keys: []string{"LIMIT#master"}}, true},
		{iam.Need{Action: "PutItem", Table: "ApiKeysTable-1", Keys: []string{"HASH#ab12"}}, false},
		{iam.Need{Action: "GetItem", Table: "ApiKeysTable-1", Keys: []string{"HASH#ab12"}}, false},
		{iam.Need{Action: "Scan", Table: "ApiKeysTable-1"}, false},
		{iam.Need{Action: "Query", Table: "ApiKeysTable-1", Keys: []string{"ACCOUNT#acc_1"}}, false},
		{iam.Need{Action: "UpdateItem", Table: "ApiKeysTable-1", Keys: []string{"ACCOUNT#acc_1"}}, false},
		{iam.Need{Action: "UpdateItem", Table: "ApiKeysTable-1", Keys: []string{"LIMIT#other"}}, false},
		{iam.Need{Action: "UpdateItem", Table: "ApiKeysTable-1", Keys: []string{"HASH#ab12", "ACCOUNT#acc_1"}}, false},
		{iam.Need{Action: "PutItem", Table: "UsageTable-1", Keys: []string{"REQ#r"}}, false},
	} {
		if got := p.Allows(tc.need); got != tc.want {
			t.Errorf("authorizer %s on %s %v: allowed %v, want %v", tc.need.Action, tc.need.Table, tc.need.Keys, got, tc.want)
		}
	}
}

func TestUnused(t *testing.T) {
	const keys = "arn:aws:dynamodb:us-east-1:123456789012:table/Keys"
	st := func(actions []string, res []string, leading ...string) samtemplate.Statement {
		s := samtemplate.Statement{Effect: "Allow", Action: actions, Resource: res}
		if len(leading) > 0 {
			s.Condition = map[string]map[string][]string{"ForAllValues:StringLike": {"dynamodb:LeadingKeys": leading}}
		}
		return s
	}
	update := iam.Use{Action: "dynamodb:UpdateItem", Resource: keys, Keys: []string{"HASH#1", "LIMIT#master"}}
	onIndex := iam.Use{Action: "dynamodb:Query", Resource: keys + "/index/gsi1", Keys: []string{""}}
	tests := []struct {
		name string
		sts  []samtemplate.Statement
		uses []iam.Use
		want []string
	}{
		{"exact", []samtemplate.Statement{st([]string{"dynamodb:UpdateItem"}, []string{keys}, "HASH#*", "LIMIT#master")}, []iam.Use{update}, nil},
		{"surplus action", []samtemplate.Statement{st([]string{"dynamodb:UpdateItem", "dynamodb:PutItem"}, []string{keys})}, []iam.Use{update},
			[]string{"dynamodb:PutItem on " + keys}},
		{"surplus resource", []samtemplate.Statement{st([]string{"dynamodb:UpdateItem"}, []string{keys, keys + "/index/*"})}, []iam.Use{update},
			[]string{"dynamodb:UpdateItem on " + keys + "/index/*"}},
		{"surplus key", []samtemplate.Statement{st([]string{"dynamodb:UpdateItem"}, []string{keys}, "HASH#*", "ACCOUNT#*")}, []iam.Use{update},
			[]string{"dynamodb:UpdateItem on " + keys + " for dynamodb:LeadingKeys ACCOUNT#*"}},
		{"a use the condition refuses needs nothing", []samtemplate.Statement{st([]string{"dynamodb:UpdateItem"}, []string{keys}, "SESSION#*")},
			[]iam.Use{update}, []string{"dynamodb:UpdateItem on " + keys}},
		{"wildcard action", []samtemplate.Statement{st([]string{"dynamodb:*"}, []string{keys})}, []iam.Use{update},
			[]string{"dynamodb:* (a wildcard) on " + keys}},
		{"index, keyless", []samtemplate.Statement{st([]string{"dynamodb:Query"}, []string{keys + "/index/gsi1"})}, []iam.Use{onIndex}, nil},
		{"deny is not a grant", []samtemplate.Statement{{Effect: "Deny", Action: []string{"dynamodb:Scan"}, Resource: []string{"*"}}}, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := iam.Unused(tc.sts, tc.uses); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Unused = %q, want %q", got, tc.want)
			}
		})
	}
}

// A recorder adds up what clients allowed, tables under their logical
// IDs, and keeps example keys.
func TestRecorder(t *testing.T) {
	rec := iam.NewRecorder()
	p := policy(crud("Keys-1"))
	p.TableIDs = map[string]string{"Keys-1": "ApiKeysTable"}
	for range 2 {
		c, err := iam.New("F", p, &passed{})
		if err != nil {
			t.Fatal(err)
		}
		c.RecordInto(rec)
		call(t, c, "UpdateItem", `{"TableName":"Keys-1","Key":{"pk":{"S":"HASH#h"}}}`)
		call(t, c, "PutItem", `{"TableName":"Usage-1","Item":{"pk":{"S":"REQ#r"}}}`) // denied: not recorded
		call(t, c, "Query", `{"TableName":"Keys-1","IndexName":"gsi1"}`)
	}
	want := []iam.Use{
		{Action: "dynamodb:UpdateItem", Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/ApiKeysTable", Keys: []string{"HASH#h"}},
		{Action: "dynamodb:Query", Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/ApiKeysTable/index/gsi1", Keys: []string{""}},
	}
	if got := rec.Uses("F"); !reflect.DeepEqual(got, want) {
		t.Fatalf("Uses = %+v, want %+v", got, want)
	}
}
