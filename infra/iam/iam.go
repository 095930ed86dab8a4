// Package iam holds the local run to the permissions template.yaml grants
// each function. In AWS every function runs with its own role made from
// its Policies, and a call the role does not allow fails with
// AccessDeniedException; locally every function shares one store, so a
// missing permission would first show in production. Each function's
// DynamoDB (and Secrets Manager) client gets a Client here, which evaluates the
// function's statements (template.yaml resolved, SAM policy templates
// expanded: samtemplate.Resolved.Policies) as IAM does, answers a call
// they do not allow as the service would, and records both the refused
// calls and the allowed ones.
//
// Transactions are checked item by item, as IAM does (Put needs
// dynamodb:PutItem, Update dynamodb:UpdateItem, Delete dynamodb:DeleteItem,
// ConditionCheck dynamodb:ConditionCheckItem); a batch needs its batch
// action on every table it names; a Query or Scan of an index needs its
// action on table/<name>/index/<index>. dynamodb:LeadingKeys holds the
// partition key values a call names (none for a Scan or a Query of an
// index, where ForAllValues conditions hold vacuously, as in IAM).
//
// The other half of least privilege: a Recorder adds up the calls that
// clients allowed, over any number of local runs, and Unused names each
// grant none of them needed (the end-to-end suite fails on any).
package iam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/waickoff/waickoff/shared/samtemplate"
)

// Client is one function's DynamoDB HTTP client under its policies.
type Client struct {
	next     aws.HTTPClient
	function string
	policy   Policy

	mu      sync.Mutex
	denied  []string // the first maxDenied, described
	ndenied int
	used    map[string]bool  // "dynamodb:Action on table" of allowed calls
	calls   map[string]int64 // by operation, allowed or not
	rec     *Recorder
}

// Policy is a function's role: its statements (template.yaml's Policies,
// resolved) and how to name a table in them.
type Policy struct {
	Statements []samtemplate.Statement
	// TableARN returns the ARN of a physical table name.
	TableARN func(name string) string
	// HashKeys maps each physical table name to its partition key
	// attribute (for dynamodb:LeadingKeys).
	HashKeys map[string]string
	// SecretARN returns the ARN of a Secrets Manager secret given by
	// name or ARN ("" when there is no such secret).
	SecretARN func(id string) string
	// TableIDs maps each physical table name to its logical ID: a
	// Recorder names tables by logical ID, so that runs on differently
	// named tables add up.
	TableIDs map[string]string
}

// maxDenied bounds the denials a client describes; past it they are only
// counted (a broken template denies every call of a long run).
const maxDenied = 100

// New returns function's client over next. It refuses a statement it
// cannot evaluate (an unknown condition operator or key), so that nothing
// is granted or refused by accident.
func New(function string, p Policy, next aws.HTTPClient) (*Client, error) {
	for _, st := range p.Statements {
		if !appliesToDynamoDB(st.Action) {
			continue
		}
		for op, keys := range st.Condition {
			if _, ok := operators[op]; !ok {
				return nil, fmt.Errorf("function %s: condition operator %s cannot be emulated", function, op)
			}
			for k := range keys {
				if !knownConditionKeys[k] {
					return nil, fmt.Errorf("function %s: condition key %s cannot be emulated", function, k)
				}
			}
		}
	}
	return &Client{next: next, function: function, policy: p, used: map[string]bool{}, calls: map[string]int64{}}, nil
}

// RecordInto makes c record each call it allows into r as well, and
// returns c.
func (c *Client) RecordInto(r *Recorder) *Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rec = r
	return c
}

// Calls returns the DynamoDB calls the function made so far by operation
// ("UpdateItem": 3), denied ones included: what the function would be
// billed for.
func (c *Client) Calls() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int64, len(c.calls))
	for op, n := range c.calls {
		out[op] = n
	}
	return out
}

// Used returns the actions the function was allowed and called, as
// "dynamodb:Action on table" (physical names), sorted.
func (c *Client) Used() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.used))
	for u := range c.used {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// Denied returns the calls refused so far, as "dynamodb:Action on table"
// (the first 100, then a line counting the rest).
func (c *Client) Denied() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]string(nil), c.denied...)
	if more := c.ndenied - len(c.denied); more > 0 {
		out = append(out, fmt.Sprintf("and %d more", more))
	}
	return out
}

// Do passes the call on when the function's policies allow every action
// it needs, and otherwise answers AccessDeniedException without sending it.
func (c *Client) Do(r *http.Request) (*http.Response, error) {
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "DynamoDB_20120810.")
	smOp, isSM := strings.CutPrefix(target, "secretsmanager.")
	if !ok && !isSM {
		return c.next.Do(r)
	}
	if ok {
		c.mu.Lock()
		c.calls[op]++
		c.mu.Unlock()
	}
	var body []byte
	if r.Body != nil {
		b, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	if isSM {
		return c.secret(r, smOp, body)
	}
	needs, err := Needs(op, body, c.policy.HashKeys)
	if err != nil {
		return c.deny(r, "dynamodb:"+op, err.Error()), nil
	}
	for _, n := range needs {
		if !c.policy.Allows(n) {
			return c.deny(r, "dynamodb:"+n.Action, c.policy.TableARN(n.Table)), nil
		}
	}
	c.mu.Lock()
	rec := c.rec
	for _, n := range needs {
		c.used["dynamodb:"+n.Action+" on "+n.Table] = true
	}
	c.mu.Unlock()
	if rec != nil {
		for _, n := range needs {
			table := n.Table
			if id, ok := c.policy.TableIDs[table]; ok {
				table = id
			}
			arn := c.policy.TableARN(table)
			if n.Index != "" {
				arn += "/index/" + n.Index
			}
			rec.add(c.function, "dynamodb:"+n.Action, arn, n.Keys)
		}
	}
	return c.next.Do(r)
}

// secret checks a Secrets Manager call that names one secret
// (GetSecretValue).
func (c *Client) secret(r *http.Request, op string, body []byte) (*http.Response, error) {
	var in struct {
		SecretID string `json:"SecretId"`
	}
	action := "secretsmanager:" + op
	if err := json.Unmarshal(body, &in); err != nil || in.SecretID == "" || c.policy.SecretARN == nil {
		return c.deny(r, action, "a Secrets Manager call the local run cannot check"), nil
	}
	arn := c.policy.SecretARN(in.SecretID)
	if arn == "" {
		// No such secret: the service answers that, after IAM lets the
		// call through.
		return c.next.Do(r)
	}
	if !c.policy.allows(action, arn, Need{}) {
		return c.deny(r, action, arn), nil
	}
	c.mu.Lock()
	c.used[action+" on "+in.SecretID] = true
	rec := c.rec
	c.mu.Unlock()
	if rec != nil {
		rec.add(c.function, action, arn, nil)
	}
	return c.next.Do(r)
}

func (c *Client) deny(r *http.Request, action, resource string) *http.Response {
	c.mu.Lock()
	c.ndenied++
	if len(c.denied) < maxDenied {
		c.denied = append(c.denied, action+" on "+resource)
	}
	c.mu.Unlock()
	msg := fmt.Sprintf("User: arn:aws:sts::000000000000:assumed-role/%s-role/%s is not authorized to perform: %s on resource: %s "+
		"because no identity-based policy allows the %s action", c.function, c.function, action, resource, action)
	b, _ := json.Marshal(map[string]string{"__type": "com.amazon.coral.service#AccessDeniedException", "Message": msg})
	return &http.Response{StatusCode: http.StatusBadRequest, Status: "400 Bad Request", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/x-amz-json-1.0"}, "X-Amzn-Requestid": {"local-iam-denied"}},
		Body:          io.NopCloser(bytes.NewReader(b)),
		ContentLength: int64(len(b)), Request: r}
}

// Need is one action a call needs on one table or index.
type Need struct {
	Action string // without the "dynamodb:" prefix
	Table  string // physical name
	Index  string // the index a Query or Scan reads, "" for the table
	// Keys are the partition key values the call names on the table
	// (dynamodb:LeadingKeys), sorted; empty for a Scan or a Query on an
	// index.
	Keys []string
}

// Needs returns the actions a DynamoDB call needs, sorted and without
// repeats; hashKeys names each table's partition key attribute. It fails
// on a body it cannot read.
func Needs(op string, body []byte, hashKeys map[string]string) ([]Need, error) {
	type keyed struct {
		TableName                 string
		IndexName                 string
		Key                       map[string]map[string]any
		Item                      map[string]map[string]any
		KeyConditionExpression    string
		ExpressionAttributeNames  map[string]string
		ExpressionAttributeValues map[string]map[string]any
	}
	var in struct {
		keyed
		TransactItems []map[string]keyed
		RequestItems  map[string]json.RawMessage
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, fmt.Errorf("unreadable %s request: %w", op, err)
		}
	}
	type slot struct{ action, table, index string }
	set := map[slot]map[string]bool{}
	add := func(action string, k keyed, item map[string]map[string]any) {
		sl := slot{action, tableName(k.TableName), k.IndexName}
		if set[sl] == nil {
			set[sl] = map[string]bool{}
		}
		hk := hashKeys[sl.table]
		if v, ok := attrString(item[hk]); ok {
			set[sl][v] = true
		}
		if k.KeyConditionExpression != "" && k.IndexName == "" {
			for _, m := range equality.FindAllStringSubmatch(k.KeyConditionExpression, -1) {
				name := m[1]
				if n, ok := k.ExpressionAttributeNames[name]; ok {
					name = n
				}
				if name == hk {
					if v, ok := attrString(k.ExpressionAttributeValues[m[2]]); ok {
						set[sl][v] = true
					}
				}
			}
		}
	}
	switch op {
	case "TransactWriteItems", "TransactGetItems":
		actions := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
			"ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
		for _, item := range in.TransactItems {
			for kind, a := range item {
				action, ok := actions[kind]
				if !ok {
					return nil, fmt.Errorf("unknown %s action %q", op, kind)
				}
				k := a.Key
				if kind == "Put" {
					k = a.Item
				}
				add(action, a, k)
			}
		}
	case "BatchWriteItem", "BatchGetItem":
		for name, raw := range in.RequestItems {
			var reqs []struct {
				PutRequest    struct{ Item map[string]map[string]any }
				DeleteRequest struct{ Key map[string]map[string]any }
			}
			var get struct{ Keys []map[string]map[string]any }
			k := keyed{TableName: name}
			add(op, k, nil)
			if op == "BatchWriteItem" {
				if err := json.Unmarshal(raw, &reqs); err != nil {
					return nil, fmt.Errorf("unreadable %s request: %w", op, err)
				}
				for _, r := range reqs {
					add(op, k, r.PutRequest.Item)
					add(op, k, r.DeleteRequest.Key)
				}
			} else {
				if err := json.Unmarshal(raw, &get); err != nil {
					return nil, fmt.Errorf("unreadable %s request: %w", op, err)
				}
				for _, key := range get.Keys {
					add(op, k, key)
				}
			}
		}
	case "PutItem":
		add(op, in.keyed, in.Item)
	default:
		add(op, in.keyed, in.Key)
	}
	needs := make([]Need, 0, len(set))
	for sl, keys := range set {
		n := Need{Action: sl.action, Table: sl.table, Index: sl.index}
		for k := range keys {
			n.Keys = append(n.Keys, k)
		}
		sort.Strings(n.Keys)
		needs = append(needs, n)
	}
	sort.Slice(needs, func(i, j int) bool {
		if needs[i].Table != needs[j].Table {
			return needs[i].Table < needs[j].Table
		}
		if needs[i].Action != needs[j].Action {
			return needs[i].Action < needs[j].Action
		}
		return needs[i].Index < needs[j].Index
	})
	return needs, nil
}

// equality finds "name = :value" in a key condition expression.
var equality = regexp.MustCompile(`(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)`)

func attrString(v map[string]any) (string, bool) {
	for _, t := range []string{"S", "N", "B"} {
		if s, ok := v[t].(string); ok {
			return s, true
		}
	}
	return "", false
}

// tableName is the name in a table name or ARN
// (arn:aws:dynamodb:region:account:table/Name[/index/...]).
func tableName(s string) string {
	if _, rest, ok := strings.Cut(s, ":table/"); ok {
		name, _, _ := strings.Cut(rest, "/")
		return name
	}
	return s
}
