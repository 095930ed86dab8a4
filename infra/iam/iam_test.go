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
