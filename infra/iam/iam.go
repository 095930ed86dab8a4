// Package iam holds the local run to the DynamoDB permissions template.yaml
// grants each function. In AWS every function runs with its own role made
// from its SAM policy templates, and a call the role does not allow fails
// with AccessDeniedException; locally every function shares one store, so
// a missing permission would first show in production. Each function's
// DynamoDB client gets a Client here, which answers a call its policies do
// not allow as DynamoDB would, and records it.
//
// Transactions are checked item by item, as IAM does (Put needs
// dynamodb:PutItem, Update dynamodb:UpdateItem, Delete dynamodb:DeleteItem,
// ConditionCheck dynamodb:ConditionCheckItem); a batch needs its batch
// action on every table it names; an index is covered by its table's
// grant (the templates grant table/<name>/index/* alike).
package iam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/waickoff/waickoff/shared/samtemplate"
)

// templates are the DynamoDB actions of the SAM policy templates
// (samtranslator/policy_templates_data/policy_templates.json).
var templates = map[string][]string{
	"DynamoDBCrudPolicy": {"GetItem", "DeleteItem", "PutItem", "Scan", "Query", "UpdateItem",
		"BatchWriteItem", "BatchGetItem", "DescribeTable", "ConditionCheckItem"},
	"DynamoDBReadPolicy":        {"GetItem", "Scan", "Query", "BatchGetItem", "DescribeTable"},
	"DynamoDBWritePolicy":       {"PutItem", "UpdateItem", "BatchWriteItem"},
	"DynamoDBReconfigurePolicy": {"UpdateTable"},
}

// Client is one function's DynamoDB HTTP client under its policies.
type Client struct {
	next     aws.HTTPClient
	function string
	// allow maps a physical table name to the actions granted on it.
	allow map[string]map[string]bool

	mu      sync.Mutex
	denied  []string // the first maxDenied, described
	ndenied int
	calls   map[string]int64 // by operation, allowed or not
}

// maxDenied bounds the denials a client describes; past it they are only
// counted (a broken template denies every call of a long run).
const maxDenied = 100

// New returns fn's client over next. tables maps the template's table
// logical IDs to the physical names the run uses. It refuses a policy it
// cannot emulate, so that nothing is granted by accident.
func New(fn samtemplate.Function, tables map[string]string, next aws.HTTPClient) (*Client, error) {
	c := &Client{next: next, function: fn.LogicalID, allow: map[string]map[string]bool{}, calls: map[string]int64{}}
	for _, p := range fn.Policies {
		actions, ok := templates[p.Template]
		if !ok {
			return nil, fmt.Errorf("function %s: policy %s is not one the local run can emulate", fn.LogicalID, p.Template)
		}
		name, ok := tables[p.Table]
		if !ok {
			return nil, fmt.Errorf("function %s: policy %s names table %q, which the template does not define", fn.LogicalID, p.Template, p.Table)
		}
		if c.allow[name] == nil {
			c.allow[name] = map[string]bool{}
		}
		for _, a := range actions {
			c.allow[name][a] = true
		}
	}
	return c, nil
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

// Do passes the call on when the function's policies allow every action
// it needs, and otherwise answers AccessDeniedException without sending it.
func (c *Client) Do(r *http.Request) (*http.Response, error) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	if !ok {
		return c.next.Do(r)
	}
	c.mu.Lock()
	c.calls[op]++
	c.mu.Unlock()
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
	needs, err := Needs(op, body)
	if err != nil {
		return c.deny(r, "dynamodb:"+op, err.Error()), nil
	}
	for _, n := range needs {
		if !c.allow[n.Table][n.Action] {
			return c.deny(r, "dynamodb:"+n.Action, "arn:aws:dynamodb:local:000000000000:table/"+n.Table), nil
		}
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

// Need is one action a call needs on one table.
type Need struct {
	Action string // without the "dynamodb:" prefix
	Table  string // physical name
}

// Needs returns the actions a DynamoDB call needs, sorted and without
// repeats. It fails on a body it cannot read.
func Needs(op string, body []byte) ([]Need, error) {
	var in struct {
		TableName     string
		TransactItems []map[string]struct{ TableName string }
		RequestItems  map[string]json.RawMessage
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, fmt.Errorf("unreadable %s request: %w", op, err)
		}
	}
	set := map[Need]bool{}
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
				set[Need{Action: action, Table: tableName(a.TableName)}] = true
			}
		}
	case "BatchWriteItem", "BatchGetItem":
		for name := range in.RequestItems {
			set[Need{Action: op, Table: tableName(name)}] = true
		}
	default:
		set[Need{Action: op, Table: tableName(in.TableName)}] = true
	}
	needs := make([]Need, 0, len(set))
	for n := range set {
		needs = append(needs, n)
	}
	sort.Slice(needs, func(i, j int) bool {
		if needs[i].Table != needs[j].Table {
			return needs[i].Table < needs[j].Table
		}
		return needs[i].Action < needs[j].Action
	})
	return needs, nil
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
