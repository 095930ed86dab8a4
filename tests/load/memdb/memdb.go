// Package memdb answers DynamoDB JSON-protocol requests from memory at
// the SDK's HTTP client (an aws.HTTPClient), so that a benchmark can run
// the whole API once against the real DynamoDB-protocol server and once
// without any database, and see its own share of each request.
//
// It is for the load benchmark only: never the store of `make run` or of
// a test of the project's behaviour (those run against moto). It answers
// the operations the project calls (CreateTable, DescribeTable,
// UpdateTimeToLive, DescribeTimeToLive, ListTables, GetItem, PutItem,
// UpdateItem, DeleteItem, Query, Scan, TransactWriteItems) with
// DynamoDB's semantics for the expressions the project writes, serialised
// by one lock (so every conditional write is exact, as in DynamoDB's
// per-item serialisation), and refuses anything else with an error naming
// what it does not implement. Its differential test runs the same calls
// against moto and compares the answers.
package memdb

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Endpoint is a DynamoDB endpoint for clients that use a DB as their HTTP
// client. Nothing listens there: the DB answers every request itself.
const Endpoint = "http://memdb.invalid"

// DB is an in-memory DynamoDB; its Do method is an aws.HTTPClient.
type DB struct {
	mu     sync.Mutex
	tables map[string]*table
	conds  map[string]*parsedCond
	upds   map[string]*parsedUpdate
	projs  map[string]*parsedProjection
	tokens map[string]txToken
	// tokenLog is the tokens in the order they were stored (so by time):
	// pruning pops expired ones off its head instead of walking the map.
	tokenLog  []loggedToken
	tokenHead int
	now       func() time.Time
	seq       atomic.Int64
	calls     atomic.Int64
}

type txToken struct {
	sum [32]byte
	at  time.Time
}

type loggedToken struct {
	token string
	at    time.Time
}

// New returns an empty DB.
func New() *DB {
	return &DB{tables: map[string]*table{}, conds: map[string]*parsedCond{}, upds: map[string]*parsedUpdate{},
		projs: map[string]*parsedProjection{}, tokens: map[string]txToken{}, now: time.Now}
}

// Calls is the number of requests the DB has answered.
func (db *DB) Calls() int64 { return db.calls.Load() }

// apiError is a DynamoDB error response.
type apiError struct {
	status int
	typ    string
	msg    string
	extra  []byte // more members of the error body, starting with ','
}

func (e *apiError) Error() string { return e.typ + ": " + e.msg }

const errPrefix = "com.amazonaws.dynamodb.v20120810#"

func validation(format string, args ...any) *apiError {
	return &apiError{status: 400, typ: errPrefix + "ValidationException", msg: fmt.Sprintf(format, args...)}
}

func notFound() *apiError {
	return &apiError{status: 400, typ: errPrefix + "ResourceNotFoundException", msg: "Requested resource not found"}
}

func asValidation(err error) *apiError {
	if err == nil {
		return nil
	}
	if ae, ok := err.(*apiError); ok {
		return ae
	}
	return validation("%s", err.Error())
}

// Do answers one DynamoDB request.
func (db *DB) Do(req *http.Request) (*http.Response, error) {
	db.calls.Add(1)
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	target := req.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "DynamoDB_20120810.")
	var out []byte
	var aerr *apiError
	if !ok {
		aerr = &apiError{status: 400, typ: "com.amazon.coral.service#UnknownOperationException", msg: "no X-Amz-Target"}
	} else {
		out, aerr = db.call(op, body)
	}
	status := 200
	if aerr != nil {
		status = aerr.status
		b := []byte(`{"__type":`)
		b = appendString(b, aerr.typ)
		b = append(b, `,"message":`...)
		b = appendString(b, aerr.msg)
		b = append(b, aerr.extra...)
		out = append(b, '}')
	}
	h := http.Header{}
	h.Set("Content-Type", "application/x-amz-json-1.0")
	h.Set("X-Amzn-Requestid", "memdb-"+strconv.FormatInt(db.seq.Add(1), 10))
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(out)), 10))
	h.Set("Content-Length", strconv.Itoa(len(out)))
	return &http.Response{
		Status: fmt.Sprintf("%d %s", status, http.StatusText(status)), StatusCode: status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(out)), ContentLength: int64(len(out)), Request: req,
	}, nil
}

func (db *DB) call(op string, body []byte) ([]byte, *apiError) {
	var f func([]byte) ([]byte, *apiError)
	switch op {
	case "CreateTable":
		f = db.createTable
	case "DescribeTable":
		f = db.describeTable
	case "ListTables":
		f = db.listTables
	case "UpdateTimeToLive":
		f = db.updateTTL
	case "DescribeTimeToLive":
		f = db.describeTTL
	case "GetItem":
		f = db.getItem
	case "PutItem":
		f = db.putItem
	case "UpdateItem":
		f = db.updateItem
	case "DeleteItem":
		f = db.deleteItem
	case "Query":
		f = db.query
	case "Scan":
		f = db.scan
	case "TransactWriteItems":
		f = db.transactWrite
	default:
		return nil, &apiError{status: 400, typ: "com.amazon.coral.service#UnknownOperationException",
			msg: "memdb does not implement " + op}
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	return f(body)
}

func decode(body []byte, v any) *apiError {
	if err := json.Unmarshal(body, v); err != nil {
		return &apiError{status: 400, typ: "com.amazon.coral.service#SerializationException", msg: err.Error()}
	}
	return nil
}

// Expression inputs shared by the item operations.
type exprInput struct {
	ConditionExpression       string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues map[string]Value
	// Legacy parameters memdb refuses.
	Expected         json.RawMessage
	ConditionalOp    json.RawMessage `json:"ConditionalOperator"`
	AttributesToGet  json.RawMessage
	AttributeUpdates json.RawMessage
	KeyConditions    json.RawMessage
	QueryFilter      json.RawMessage
	ScanFilter       json.RawMessage
	TotalSegments    json.RawMessage
}

func (e *exprInput) legacy() *apiError {
	for name, raw := range map[string]json.RawMessage{"Expected": e.Expected, "ConditionalOperator": e.ConditionalOp,
		"AttributesToGet": e.AttributesToGet, "AttributeUpdates": e.AttributeUpdates, "KeyConditions": e.KeyConditions,
		"QueryFilter": e.QueryFilter, "ScanFilter": e.ScanFilter, "TotalSegments": e.TotalSegments} {
		if len(raw) > 0 && string(raw) != "null" {
			return validation("memdb does not implement the %s parameter", name)
		}
	}
	return nil
}

func (db *DB) cond(src string) (*parsedCond, error) {
	if p, ok := db.conds[src]; ok {
		return p, nil
	}
	p, err := parseCond(src)
	if err != nil {
		return nil, err
	}
	db.conds[src] = p
	return p, nil
}

func (db *DB) update(src string) (*parsedUpdate, error) {
	if p, ok := db.upds[src]; ok {
		return p, nil
	}
	p, err := parseUpdate(src)
	if err != nil {
		return nil, err
	}
	db.upds[src] = p
	return p, nil
}

func (db *DB) projection(src string) (*parsedProjection, error) {
	if p, ok := db.projs[src]; ok {
		return p, nil
	}
	p, err := parseProjection(src)
	if err != nil {
		return nil, err
	}
	db.projs[src] = p
	return p, nil
}

// prepared is one write checked against the store, ready to apply.
type prepared struct {
	t       *table
	key     Item
	old     Item // nil: no item
	new     Item // nil: delete (or no change for a condition check)
	check   bool // a ConditionCheck: writes nothing
	failed  bool // the condition did not hold
	retOld  bool // ReturnValuesOnConditionCheckFailure ALL_OLD
	touched []string
}

// writeSpec is an item write from any operation.
type writeSpec struct {
	verb   string // Put, Update, Delete, ConditionCheck
	table  string
	key    Item
	item   Item
	update string
	exprInput
	roccf string
}

func (db *DB) table(name string) (*table, *apiError) {
	if name == "" {
		return nil, validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	}
	t := db.tables[name]
	if t == nil {
		return nil, notFound()
	}
	return t, nil
}

// prepare validates a write and evaluates its condition; the returned
// error is a validation error of the request.
func (db *DB) prepare(w writeSpec) (*prepared, *apiError) {
	if e := w.legacy(); e != nil {
		return nil, e
	}
	t, e := db.table(w.table)
	if e != nil {
		return nil, e
	}
	p := &prepared{t: t, check: w.verb == "ConditionCheck", retOld: w.roccf == "ALL_OLD"}
	switch w.roccf {
	case "", "NONE", "ALL_OLD":
	default:
		return nil, validation("ReturnValuesOnConditionCheckFailure %q is not valid", w.roccf)
	}
	if w.verb == "Put" {
		if err := t.checkItem(w.item); err != nil {
			return nil, asValidation(err)
		}
		p.key = t.keyOf(w.item)
	} else {
		if err := t.checkKey(w.key); err != nil {
			return nil, asValidation(err)
		}
		p.key = w.key
	}
	sc := newScope(w.ExpressionAttributeNames, w.ExpressionAttributeValues)
	var c *parsedCond
	if w.ConditionExpression != "" {
		var err error
		if c, err = db.cond(w.ConditionExpression); err != nil {
			return nil, validation("Invalid ConditionExpression: %s", err.Error())
		}
		if err := sc.use(c.refs); err != nil {
			return nil, asValidation(err)
		}
	} else if w.verb == "ConditionCheck" {
		return nil, validation("The ConditionExpression of a ConditionCheck is required")
	}
	var u *parsedUpdate
	if w.verb == "Update" {
		if w.update == "" {
			return nil, validation("memdb requires an UpdateExpression")
		}
		var err error
		if u, err = db.update(w.update); err != nil {
			return nil, validation("Invalid UpdateExpression: %s", err.Error())
		}
		if err := sc.use(u.refs); err != nil {
			return nil, asValidation(err)
		}
		if err := checkActions(t, sc, u.acts); err != nil {
			return nil, asValidation(err)
		}
	}
	if err := sc.unused(); err != nil {
		return nil, asValidation(err)
	}

	p.old = t.get(p.key)
	if c != nil {
		ok, err := sc.test(c.c, p.old)
		if err != nil {
			return nil, validation("Invalid ConditionExpression: %s", err.Error())
		}
		if !ok {
			p.failed = true
			return p, nil
		}
	}
	switch w.verb {
	case "Put":
		p.new = w.item
	case "Update":
		nw, touched, err := applyUpdate(t, sc, u.acts, p.key, p.old)
		if err != nil {
			return nil, asValidation(err)
		}
		if err := t.checkItem(nw); err != nil {
			return nil, asValidation(err)
		}
		p.new, p.touched = nw, touched
	}
	return p, nil
}

// checkActions refuses updates to key attributes and overlapping paths.
func checkActions(t *table, sc *scope, acts []action) error {
	seen := map[string]bool{}
	for _, a := range acts {
		name := sc.name(a.path)
		if name == t.key.hash || name == t.key.rng {
			return fmt.Errorf("One or more parameter values were invalid: Cannot update attribute %s. This attribute is part of the key", name)
		}
		if seen[name] {
			return fmt.Errorf("Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [%s], path two: [%s]", name, name)
		}
		seen[name] = true
	}
	return nil
}

// applyUpdate returns the item after the actions, every right-hand side
// evaluated on the item as it was (DynamoDB's semantics), and the names it
// touched.
func applyUpdate(t *table, sc *scope, acts []action, key, old Item) (Item, []string, error) {
	base := old
	if base == nil {
		base = key
	}
	nw := make(Item, len(base)+len(acts))
	for k, v := range base {
		nw[k] = v
	}
	touched := make([]string, 0, len(acts))
	for _, a := range acts {
		name := sc.name(a.path)
		touched = append(touched, name)
		switch a.verb {
		case "SET":
			v, err := sc.eval(a.val, base)
			if err != nil {
				return nil, nil, err
			}
			if v.k == kindNone {
				return nil, nil, fmt.Errorf("The provided expression refers to an attribute that does not exist in the item")
			}
			nw[name] = v
		case "REMOVE":
			delete(nw, name)
		case "ADD":
			v := sc.values[a.val.ref]
			cur, has := base[name]
			switch {
			case v.k == kindN && (!has || cur.k == kindN):
				if !has {
					nw[name] = v
				} else {
					nw[name] = Value{k: kindN, s: addNumbers(cur.s, v.s, 1)}
				}
			case v.isSet() && (!has || cur.k == v.k):
				if !has {
					nw[name] = v
				} else {
					nw[name] = Value{k: v.k, set: union(cur, v)}
				}
			case !v.isSet() && v.k != kindN:
				return nil, nil, fmt.Errorf("Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: %s", v.k)
			default:
				return nil, nil, fmt.Errorf("An operand in the update expression has an incorrect data type")
			}
		case "DELETE":
			v := sc.values[a.val.ref]
			if !v.isSet() {
				return nil, nil, fmt.Errorf("Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: %s", v.k)
			}
			cur, has := base[name]
			if !has {
				continue
			}
			if cur.k != v.k {
				return nil, nil, fmt.Errorf("An operand in the update expression has an incorrect data type")
			}
			rest := minus(cur, v)
			if len(rest) == 0 {
				delete(nw, name)
			} else {
				nw[name] = Value{k: cur.k, set: rest}
			}
		}
	}
	return nw, touched, nil
}

func union(a, b Value) []string {
	out := append([]string{}, a.set...)
	in := make(map[string]bool, len(a.set))
	for _, e := range a.set {
		in[e] = true
	}
	for _, e := range b.set {
		if !in[e] {
			in[e] = true
			out = append(out, e)
		}
	}
	return out
}

func minus(a, b Value) []string {
	drop := make(map[string]bool, len(b.set))
	for _, e := range b.set {
		drop[e] = true
	}
	var out []string
	for _, e := range a.set {
		if !drop[e] {
			out = append(out, e)
		}
	}
	return out
}

func (p *prepared) apply() {
	switch {
	case p.check:
	case p.new == nil:
		p.t.delete(p.key)
	default:
		p.t.put(p.new)
	}
}

// conditionFailed is the ConditionalCheckFailedException of a single
// write.
func conditionFailed(p *prepared) *apiError {
	e := &apiError{status: 400, typ: errPrefix + "ConditionalCheckFailedException", msg: "The conditional request failed"}
	if p.retOld && p.old != nil {
		e.extra = appendItem([]byte(`,"Item":`), p.old)
	}
	return e
}

// returnValues renders the Attributes member for ReturnValues.
func returnValues(b []byte, rv string, p *prepared) ([]byte, *apiError) {
	var it Item
	switch rv {
	case "", "NONE":
		return b, nil
	case "ALL_OLD":
		it = p.old
	case "ALL_NEW":
		it = p.new
	case "UPDATED_OLD", "UPDATED_NEW":
		src := p.old
		if rv == "UPDATED_NEW" {
			src = p.new
		}
		it = Item{}
		for _, n := range p.touched {
			if v, ok := src[n]; ok {
				it[n] = v
			}
		}
	default:
		return nil, validation("ReturnValues %q is not valid", rv)
	}
	if len(it) == 0 {
		return b, nil
	}
	b = append(b, `"Attributes":`...)
	return appendItem(b, it), nil
}

func (db *DB) getItem(body []byte) ([]byte, *apiError) {
	var in struct {
		TableName                string
		Key                      Item
		ProjectionExpression     string
		ExpressionAttributeNames map[string]string
		ConsistentRead           bool
		exprInput
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if e := in.legacy(); e != nil {
		return nil, e
	}
	t, e := db.table(in.TableName)
	if e != nil {
		return nil, e
	}
	if err := t.checkKey(in.Key); err != nil {
		return nil, asValidation(err)
	}
	proj, e := db.projectionOf(in.ProjectionExpression, in.ExpressionAttributeNames, nil)
	if e != nil {
		return nil, e
	}
	it := t.get(in.Key)
	if it == nil {
		return []byte("{}"), nil
	}
	b := append([]byte(nil), `{"Item":`...)
	return append(appendItem(b, project(it, proj)), '}'), nil
}

// projectionOf parses a projection and checks the placeholders of the
// whole read (filter and key condition refs included).
func (db *DB) projectionOf(src string, names map[string]string, more *scope) ([]string, *apiError) {
	sc := more
	if sc == nil {
		sc = newScope(names, nil)
	}
	var paths []string
	if src != "" {
		p, err := db.projection(src)
		if err != nil {
			return nil, validation("Invalid ProjectionExpression: %s", err.Error())
		}
		if err := sc.use(p.refs); err != nil {
			return nil, asValidation(err)
		}
		for _, r := range p.paths {
			paths = append(paths, sc.name(r))
		}
	}
	if more == nil {
		if err := sc.unused(); err != nil {
			return nil, asValidation(err)
		}
	}
	return paths, nil
}

func project(it Item, paths []string) Item {
	if paths == nil {
		return it
	}
	out := make(Item, len(paths))
	for _, p := range paths {
		if v, ok := it[p]; ok {
			out[p] = v
		}
	}
	return out
}

func (db *DB) putItem(body []byte) ([]byte, *apiError) {
	var in struct {
		TableName                           string
		Item                                Item
		ReturnValues                        string
		ReturnValuesOnConditionCheckFailure string
		exprInput
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if in.ReturnValues != "" && in.ReturnValues != "NONE" && in.ReturnValues != "ALL_OLD" {
		return nil, validation("ReturnValues can only be ALL_OLD or NONE")
	}
	p, e := db.prepare(writeSpec{verb: "Put", table: in.TableName, item: in.Item, exprInput: in.exprInput,
		roccf: in.ReturnValuesOnConditionCheckFailure})
	if e != nil {
		return nil, e
	}
	if p.failed {
		return nil, conditionFailed(p)
	}
	p.apply()
	b, e := returnValues([]byte("{"), in.ReturnValues, p)
	if e != nil {
		return nil, e
	}
	return append(b, '}'), nil
}

func (db *DB) updateItem(body []byte) ([]byte, *apiError) {
	var in struct {
		TableName                           string
		Key                                 Item
		UpdateExpression                    string
		ReturnValues                        string
		ReturnValuesOnConditionCheckFailure string
		exprInput
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	p, e := db.prepare(writeSpec{verb: "Update", table: in.TableName, key: in.Key, update: in.UpdateExpression,
		exprInput: in.exprInput, roccf: in.ReturnValuesOnConditionCheckFailure})
	if e != nil {
		return nil, e
	}
	if p.failed {
		return nil, conditionFailed(p)
	}
	b, e := returnValues([]byte("{"), in.ReturnValues, p)
	if e != nil {
		return nil, e
	}
	p.apply()
	return append(b, '}'), nil
}

func (db *DB) deleteItem(body []byte) ([]byte, *apiError) {
	var in struct {
		TableName                           string
		Key                                 Item
		ReturnValues                        string
		ReturnValuesOnConditionCheckFailure string
		exprInput
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if in.ReturnValues != "" && in.ReturnValues != "NONE" && in.ReturnValues != "ALL_OLD" {
		return nil, validation("ReturnValues can only be ALL_OLD or NONE")
	}
	p, e := db.prepare(writeSpec{verb: "Delete", table: in.TableName, key: in.Key, exprInput: in.exprInput,
		roccf: in.ReturnValuesOnConditionCheckFailure})
	if e != nil {
		return nil, e
	}
	if p.failed {
		return nil, conditionFailed(p)
	}
	p.apply()
	b, e := returnValues([]byte("{"), in.ReturnValues, p)
	if e != nil {
		return nil, e
	}
	return append(b, '}'), nil
}

// readInput is what Query and Scan share.
type readInput struct {
	TableName              string
	IndexName              string
	KeyConditionExpression string
	FilterExpression       string
	ProjectionExpression   string
	ScanIndexForward       *bool
	Limit                  int
	ExclusiveStartKey      Item
	Select                 string
	ConsistentRead         bool
	exprInput
}

func (db *DB) query(body []byte) ([]byte, *apiError) {
	var in readInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	return db.read(&in, true)
}

func (db *DB) scan(body []byte) ([]byte, *apiError) {
	var in readInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if in.KeyConditionExpression != "" {
		return nil, validation("Scan does not take a KeyConditionExpression")
	}
	return db.read(&in, false)
}

func (db *DB) read(in *readInput, isQuery bool) ([]byte, *apiError) {
	if e := in.legacy(); e != nil {
		return nil, e
	}
	if in.ConditionExpression != "" {
		return nil, validation("ConditionExpression is not a parameter of Query or Scan")
	}
	t, e := db.table(in.TableName)
	if e != nil {
		return nil, e
	}
	if in.Limit < 0 {
		return nil, validation("Limit must be at least 1")
	}
	var idx *index
	if in.IndexName != "" {
		for i := range t.gsis {
			if t.gsis[i].name == in.IndexName {
				idx = &t.gsis[i]
			}
		}
		if idx == nil {
			return nil, validation("The table does not have the specified index: %s", in.IndexName)
		}
		if in.ConsistentRead {
			return nil, validation("Consistent reads are not supported on global secondary indexes")
		}
	}
	ks := t.key
	if idx != nil {
		ks = idx.key
	}
	sc := newScope(in.ExpressionAttributeNames, in.ExpressionAttributeValues)
	var keyCond, filter *parsedCond
	var hash Value
	if isQuery {
		if in.KeyConditionExpression == "" {
			return nil, validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
		}
		var err error
		if keyCond, err = db.cond(in.KeyConditionExpression); err != nil {
			return nil, validation("Invalid KeyConditionExpression: %s", err.Error())
		}
		if err := sc.use(keyCond.refs); err != nil {
			return nil, asValidation(err)
		}
		h, err := keyHash(sc, keyCond.c, ks)
		if err != nil {
			return nil, validation("Query condition missed key schema element: %s", err.Error())
		}
		hash = h
	}
	if in.FilterExpression != "" {
		var err error
		if filter, err = db.cond(in.FilterExpression); err != nil {
			return nil, validation("Invalid FilterExpression: %s", err.Error())
		}
		if err := sc.use(filter.refs); err != nil {
			return nil, asValidation(err)
		}
		for _, n := range condNames(sc, filter.c) {
			if n == ks.hash || n == ks.rng {
				if isQuery {
					return nil, validation("Filter Expression can only contain non-primary key attributes: Primary key attribute: %s", n)
				}
			}
		}
	}
	proj, e := db.projectionOf(in.ProjectionExpression, in.ExpressionAttributeNames, sc)
	if e != nil {
		return nil, e
	}
	if err := sc.unused(); err != nil {
		return nil, asValidation(err)
	}
	if in.Select != "" && in.Select != "ALL_ATTRIBUTES" && in.Select != "COUNT" && in.Select != "SPECIFIC_ATTRIBUTES" {
		return nil, validation("memdb does not implement Select %s", in.Select)
	}

	// The candidate items, in the order the read returns them.
	var items []Item
	switch {
	case isQuery && idx == nil:
		if p := t.parts[keyString(hash)]; p != nil {
			items = make([]Item, 0, len(p.rngs))
			for _, r := range p.rngs {
				items = append(items, p.items[keyString(r)])
			}
		}
	case isQuery:
		items = t.indexItems(*idx, hash)
	case idx != nil:
		return nil, validation("memdb does not implement Scan on an index")
	default:
		items = t.scanItems()
	}
	if keyCond != nil {
		// The key condition selects a range: items outside it are not read.
		kept := items[:0:0]
		for _, it := range items {
			ok, err := sc.test(keyCond.c, it)
			if err != nil {
				return nil, validation("Invalid KeyConditionExpression: %s", err.Error())
			}
			if ok {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	forward := in.ScanIndexForward == nil || *in.ScanIndexForward
	if !forward {
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	}
	if len(in.ExclusiveStartKey) > 0 {
		start := in.ExclusiveStartKey
		kept := items[:0:0]
		for _, it := range items {
			var after bool
			switch {
			case idx != nil:
				n := t.indexOrder(*idx, it, start)
				after = (forward && n > 0) || (!forward && n < 0)
			case isQuery:
				n := compareKey(it[t.key.rng], start[t.key.rng])
				after = t.key.rng != "" && ((forward && n > 0) || (!forward && n < 0))
			default:
				after = t.scanAfter(it, start)
			}
			if after {
				kept = append(kept, it)
			}
		}
		items = kept
	}
	var out []Item
	scanned := 0
	var last Item
	for _, it := range items {
		if in.Limit > 0 && scanned == in.Limit {
			break
		}
		scanned++
		last = it
		if filter != nil {
			ok, err := sc.test(filter.c, it)
			if err != nil {
				return nil, validation("Invalid FilterExpression: %s", err.Error())
			}
			if !ok {
				continue
			}
		}
		out = append(out, it)
	}
	b := []byte(`{"Count":`)
	b = strconv.AppendInt(b, int64(len(out)), 10)
	b = append(b, `,"ScannedCount":`...)
	b = strconv.AppendInt(b, int64(scanned), 10)
	if in.Select != "COUNT" {
		b = append(b, `,"Items":[`...)
		for i, it := range out {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendItem(b, project(it, proj))
		}
		b = append(b, ']')
	}
	if in.Limit > 0 && scanned == in.Limit && scanned < len(items) {
		lek := t.keyOf(last)
		if idx != nil {
			lek[idx.key.hash] = last[idx.key.hash]
			if idx.key.rng != "" {
				lek[idx.key.rng] = last[idx.key.rng]
			}
		}
		b = append(b, `,"LastEvaluatedKey":`...)
		b = appendItem(b, lek)
	}
	return append(b, '}'), nil
}

// keyHash finds the partition key's value in a key condition: hash = :v,
// alone or ANDed with one condition on the range key.
func keyHash(sc *scope, c *cond, ks keySchema) (Value, error) {
	isHashEq := func(c *cond) (Value, bool) {
		if c.k != cCmp || c.op != "=" || c.args[0].k != opPath || c.args[1].k != opValue {
			return Value{}, false
		}
		if sc.name(c.args[0].ref) != ks.hash {
			return Value{}, false
		}
		return sc.values[c.args[1].ref], true
	}
	rangeOnly := func(c *cond) bool {
		names := condNames(sc, c)
		if c.k != cCmp && c.k != cBetween && !(c.k == cFunc && c.op == "begins_with") {
			return false
		}
		if c.k == cCmp && c.op == "<>" {
			return false
		}
		return len(names) == 1 && names[0] == ks.rng && ks.rng != ""
	}
	if v, ok := isHashEq(c); ok {
		return v, nil
	}
	if c.k == cAnd {
		if v, ok := isHashEq(c.kids[0]); ok && rangeOnly(c.kids[1]) {
			return v, nil
		}
		if v, ok := isHashEq(c.kids[1]); ok && rangeOnly(c.kids[0]) {
			return v, nil
		}
	}
	return Value{}, fmt.Errorf("%s", ks.hash)
}

// condNames lists the attribute names a condition reads.
func condNames(sc *scope, c *cond) []string {
	var out []string
	var walk func(c *cond)
	var op func(o *operand)
	op = func(o *operand) {
		if o.k == opPath {
			out = append(out, sc.name(o.ref))
		}
		for _, a := range o.args {
			op(a)
		}
	}
	walk = func(c *cond) {
		for _, k := range c.kids {
			walk(k)
		}
		for _, a := range c.args {
			op(a)
		}
	}
	walk(c)
	return out
}

func (db *DB) transactWrite(body []byte) ([]byte, *apiError) {
	type txItem struct {
		TableName                           string
		Key                                 Item
		Item                                Item
		UpdateExpression                    string
		ReturnValuesOnConditionCheckFailure string
		exprInput
	}
	var in struct {
		TransactItems []struct {
			ConditionCheck *txItem
			Put            *txItem
			Delete         *txItem
			Update         *txItem
		}
		ClientRequestToken string
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if n := len(in.TransactItems); n == 0 || n > 100 {
		return nil, validation("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100 and greater than or equal to 1")
	}
	var sum [32]byte
	if in.ClientRequestToken != "" {
		// The same request may be serialised with its maps in another
		// order: compare a canonical form.
		var canon any
		_ = json.Unmarshal(body, &canon)
		if m, ok := canon.(map[string]any); ok {
			delete(m, "ClientRequestToken")
		}
		b, _ := json.Marshal(canon)
		sum = sha256.Sum256(b)
		db.pruneTokens()
		if tok, ok := db.tokens[in.ClientRequestToken]; ok {
			if tok.sum != sum {
				return nil, &apiError{status: 400, typ: errPrefix + "IdempotentParameterMismatchException",
					msg: "The request uses the same client token as a previous, but non-identical request."}
			}
			return []byte("{}"), nil
		}
	}
	preps := make([]*prepared, len(in.TransactItems))
	targets := map[string]bool{}
	for i, ti := range in.TransactItems {
		var w writeSpec
		var it *txItem
		n := 0
		for verb, x := range map[string]*txItem{"ConditionCheck": ti.ConditionCheck, "Put": ti.Put, "Delete": ti.Delete, "Update": ti.Update} {
			if x != nil {
				w.verb, it = verb, x
				n++
			}
		}
		if n != 1 {
			return nil, validation("TransactItems can only contain one of Check, Put, Update or Delete")
		}
		w.table, w.key, w.item, w.update, w.exprInput, w.roccf = it.TableName, it.Key, it.Item, it.UpdateExpression,
			it.exprInput, it.ReturnValuesOnConditionCheckFailure
		p, e := db.prepare(w)
		if e != nil {
			return nil, e
		}
		target := p.t.name + "\x00" + keyString(p.key[p.t.key.hash]) + "\x00" + keyString(p.key[p.t.key.rng])
		if targets[target] {
			return nil, validation("Transaction request cannot include multiple operations on one item")
		}
		targets[target] = true
		preps[i] = p
	}
	failed := false
	for _, p := range preps {
		failed = failed || p.failed
	}
	if failed {
		var codes []string
		extra := []byte(`,"CancellationReasons":[`)
		for i, p := range preps {
			if i > 0 {
				extra = append(extra, ',')
			}
			if !p.failed {
				codes = append(codes, "None")
				extra = append(extra, `{"Code":"None"}`...)
				continue
			}
			codes = append(codes, "ConditionalCheckFailed")
			extra = append(extra, `{"Code":"ConditionalCheckFailed","Message":"The conditional request failed"`...)
			if p.retOld && p.old != nil {
				extra = appendItem(append(extra, `,"Item":`...), p.old)
			}
			extra = append(extra, '}')
		}
		extra = append(extra, ']')
		return nil, &apiError{status: 400, typ: errPrefix + "TransactionCanceledException",
			msg:   "Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]",
			extra: extra}
	}
	for _, p := range preps {
		p.apply()
	}
	if in.ClientRequestToken != "" {
		at := db.now()
		db.tokens[in.ClientRequestToken] = txToken{sum: sum, at: at}
		db.tokenLog = append(db.tokenLog, loggedToken{token: in.ClientRequestToken, at: at})
	}
	return []byte("{}"), nil
}

// tokenLife is how long DynamoDB remembers a transaction's client token.
const tokenLife = 10 * time.Minute

// pruneTokens forgets the tokens older than tokenLife once there are
// 1<<16 of them. The tokens are stored in time order (db.now under db.mu),
// so the expired ones are a prefix of tokenLog: each is popped once, and a
// transaction costs O(1) amortised however many tokens are remembered.
// (Walking the whole map instead cost every transaction O(tokens) once
// there were 1<<16 of them all younger than tokenLife: after about a
// minute of the soak, a 65k-entry walk under db.mu per transaction.)
func (db *DB) pruneTokens() {
	if len(db.tokens) < 1<<16 {
		return
	}
	cut := db.now().Add(-tokenLife)
	for db.tokenHead < len(db.tokenLog) {
		e := db.tokenLog[db.tokenHead]
		if !e.at.Before(cut) {
			break
		}
		if v, ok := db.tokens[e.token]; ok && v.at.Equal(e.at) {
			delete(db.tokens, e.token)
		}
		db.tokenLog[db.tokenHead] = loggedToken{}
		db.tokenHead++
	}
	// Reclaim the popped head once it is most of the log.
	if db.tokenHead > 1024 && db.tokenHead*2 > len(db.tokenLog) {
		db.tokenLog = append(db.tokenLog[:0:0], db.tokenLog[db.tokenHead:]...)
		db.tokenHead = 0
	}
}

type attrDef struct {
	AttributeName string
	AttributeType string
}

type keyElem struct {
	AttributeName string
	KeyType       string
}

type gsiDef struct {
	IndexName  string
	KeySchema  []keyElem
	Projection json.RawMessage
}

func schemaOf(ks []keyElem) (keySchema, error) {
	var s keySchema
	for _, k := range ks {
		switch k.KeyType {
		case "HASH":
			s.hash = k.AttributeName
		case "RANGE":
			s.rng = k.AttributeName
		default:
			return s, fmt.Errorf("bad KeyType %q", k.KeyType)
		}
	}
	if s.hash == "" {
		return s, fmt.Errorf("a HASH key is required")
	}
	return s, nil
}

func (db *DB) createTable(body []byte) ([]byte, *apiError) {
	var in struct {
		TableName              string
		AttributeDefinitions   []attrDef
		KeySchema              []keyElem
		GlobalSecondaryIndexes []gsiDef
		LocalSecondaryIndexes  json.RawMessage
		StreamSpecification    *struct {
			StreamEnabled  bool
			StreamViewType string
		}
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	if len(in.LocalSecondaryIndexes) > 0 && string(in.LocalSecondaryIndexes) != "null" {
		return nil, validation("memdb does not implement local secondary indexes")
	}
	if db.tables[in.TableName] != nil {
		return nil, &apiError{status: 400, typ: errPrefix + "ResourceInUseException", msg: "Table already exists: " + in.TableName}
	}
	t := &table{name: in.TableName, attrTypes: map[string]kind{}, parts: map[string]*partition{}, created: db.now()}
	for _, a := range in.AttributeDefinitions {
		k := map[string]kind{"S": kindS, "N": kindN, "B": kindB}[a.AttributeType]
		if k == kindNone {
			return nil, validation("bad AttributeType %q", a.AttributeType)
		}
		t.attrTypes[a.AttributeName] = k
	}
	var err error
	if t.key, err = schemaOf(in.KeySchema); err != nil {
		return nil, validation("%s", err.Error())
	}
	for _, g := range in.GlobalSecondaryIndexes {
		ks, err := schemaOf(g.KeySchema)
		if err != nil {
			return nil, validation("%s", err.Error())
		}
		t.gsis = append(t.gsis, index{name: g.IndexName, key: ks})
	}
	for _, a := range []string{t.key.hash, t.key.rng} {
		if a != "" && t.attrTypes[a] == kindNone {
			return nil, validation("One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [%s]", a)
		}
	}
	if in.StreamSpecification != nil && in.StreamSpecification.StreamEnabled {
		t.streamView = in.StreamSpecification.StreamViewType
	}
	db.tables[t.name] = t
	return append(appendDescription([]byte(`{"TableDescription":`), t), '}'), nil
}

func appendKeySchema(b []byte, ks keySchema) []byte {
	b = append(b, `[{"AttributeName":`...)
	b = appendString(b, ks.hash)
	b = append(b, `,"KeyType":"HASH"}`...)
	if ks.rng != "" {
		b = append(b, `,{"AttributeName":`...)
		b = appendString(b, ks.rng)
		b = append(b, `,"KeyType":"RANGE"}`...)
	}
	return append(b, ']')
}

func appendDescription(b []byte, t *table) []byte {
	b = append(b, `{"TableName":`...)
	b = appendString(b, t.name)
	b = append(b, `,"TableArn":`...)
	b = appendString(b, "arn:aws:dynamodb:us-east-1:123456789012:table/"+t.name)
	b = append(b, `,"TableStatus":"ACTIVE","CreationDateTime":`...)
	b = strconv.AppendInt(b, t.created.Unix(), 10)
	b = append(b, `,"ItemCount":`...)
	b = strconv.AppendInt(b, int64(t.count), 10)
	b = append(b, `,"TableSizeBytes":0,"BillingModeSummary":{"BillingMode":"PAY_PER_REQUEST"},"KeySchema":`...)
	b = appendKeySchema(b, t.key)
	b = append(b, `,"AttributeDefinitions":[`...)
	names := make([]string, 0, len(t.attrTypes))
	for n := range t.attrTypes {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"AttributeName":`...)
		b = appendString(b, n)
		b = append(b, `,"AttributeType":"`...)
		b = append(b, t.attrTypes[n].String()...)
		b = append(b, `"}`...)
	}
	b = append(b, ']')
	if len(t.gsis) > 0 {
		b = append(b, `,"GlobalSecondaryIndexes":[`...)
		for i, g := range t.gsis {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"IndexName":`...)
			b = appendString(b, g.name)
			b = append(b, `,"IndexStatus":"ACTIVE","Projection":{"ProjectionType":"ALL"},"KeySchema":`...)
			b = appendKeySchema(b, g.key)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if t.streamView != "" {
		b = append(b, `,"StreamSpecification":{"StreamEnabled":true,"StreamViewType":`...)
		b = appendString(b, t.streamView)
		b = append(b, `},"LatestStreamArn":`...)
		b = appendString(b, "arn:aws:dynamodb:us-east-1:123456789012:table/"+t.name+"/stream/memdb")
	}
	return append(b, '}')
}

func (db *DB) describeTable(body []byte) ([]byte, *apiError) {
	var in struct{ TableName string }
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	t, e := db.table(in.TableName)
	if e != nil {
		return nil, e
	}
	return append(appendDescription([]byte(`{"Table":`), t), '}'), nil
}

func (db *DB) listTables(body []byte) ([]byte, *apiError) {
	names := make([]string, 0, len(db.tables))
	for n := range db.tables {
		names = append(names, n)
	}
	sort.Strings(names)
	b := []byte(`{"TableNames":[`)
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, n)
	}
	return append(b, "]}"...), nil
}

func (db *DB) updateTTL(body []byte) ([]byte, *apiError) {
	var in struct {
		TableName               string
		TimeToLiveSpecification struct {
			AttributeName string
			Enabled       bool
		}
	}
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	t, e := db.table(in.TableName)
	if e != nil {
		return nil, e
	}
	spec := in.TimeToLiveSpecification
	switch {
	case spec.Enabled && t.ttlAttr != "":
		return nil, validation("TimeToLive is already enabled")
	case !spec.Enabled && t.ttlAttr == "":
		return nil, validation("TimeToLive is already disabled")
	case spec.Enabled:
		t.ttlAttr = spec.AttributeName
	default:
		t.ttlAttr = ""
	}
	b := []byte(`{"TimeToLiveSpecification":{"AttributeName":`)
	b = appendString(b, spec.AttributeName)
	b = append(b, `,"Enabled":`...)
	b = strconv.AppendBool(b, spec.Enabled)
	return append(b, "}}"...), nil
}

func (db *DB) describeTTL(body []byte) ([]byte, *apiError) {
	var in struct{ TableName string }
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	t, e := db.table(in.TableName)
	if e != nil {
		return nil, e
	}
	if t.ttlAttr == "" {
		return []byte(`{"TimeToLiveDescription":{"TimeToLiveStatus":"DISABLED"}}`), nil
	}
	b := []byte(`{"TimeToLiveDescription":{"TimeToLiveStatus":"ENABLED","AttributeName":`)
	b = appendString(b, t.ttlAttr)
	return append(b, "}}"...), nil
}
