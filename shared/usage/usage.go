// Package usage counts requests, tokens, rate-limited requests and errors
// per account, UTC day, key and endpoint, and per key, in the UsageTable
// (DESIGN.md), and reads them back.
//
// Every keyed request is counted once. The httpapi server calls Record
// after each keyed request; Record skips the master key and successful
// requests to metered endpoints, which the metering transaction counts
// with ChargeItems (together with their tokens). Record writes its
// counters in one transaction with a receipt item REQ#<request_id>#rec
// put only if absent, so an SDK or Lambda retry of the same request counts
// once. Requests refused for want of a session reach the function (the
// authorizer allows them with the refusal in its context and httpapi
// answers 403), so Record counts them too. Requests over the rate limit
// do not: the authorizer denies them and API Gateway answers 429 itself;
// the authorizer tallies them (shared/refusals) and AddRateLimited writes
// each key's tally at most once per interval: requests, errors and
// rate_limited, as one write per refusal used to.
package usage

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/problem"
)

// DB is the DynamoDB calls the store makes.
type DB interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ DB = (*dynamodb.Client)(nil)

// Store reads and writes the usage counters.
type Store struct {
	db      DB
	table   string
	metered map[string]bool
}

var _ httpapi.Recorder = (*Store)(nil)

// New returns a store over the UsageTable named table. metered lists the
// route patterns ("POST /api/v1/indicators/{name}") whose successful
// requests the metering transaction counts instead of Record.
func New(db DB, table string, metered []string) *Store {
	s := &Store{db: db, table: table, metered: map[string]bool{}}
	for _, m := range metered {
		s.metered[m] = true
	}
	return s
}

// Counters are the figures of one slice of traffic.
type Counters struct {
	Requests    int64 `json:"requests"`
	Tokens      int64 `json:"tokens"`
	RateLimited int64 `json:"rate_limited"`
	Errors      int64 `json:"errors"`
}

func (c *Counters) add(o Counters) {
	c.Requests += o.Requests
	c.Tokens += o.Tokens
	c.RateLimited += o.RateLimited
	c.Errors += o.Errors
}

// DayCounters are one UTC day's figures.
type DayCounters struct {
	Day string `json:"day"`
	Counters
}

// EndpointCounters are one endpoint's figures.
type EndpointCounters struct {
	Endpoint string `json:"endpoint"`
	Counters
}

// KeyCounters are one key's figures.
type KeyCounters struct {
	KeyID string `json:"key_id"`
	Counters
}

// Report is usage between two UTC days, in total and by day (oldest
// first), endpoint and key.
type Report struct {
	AccountID string `json:"account_id"`
	From      string `json:"from"`
	To        string `json:"to"`
	Counters
	ByDay      []DayCounters      `json:"by_day"`
	ByEndpoint []EndpointCounters `json:"by_endpoint"`
	ByKey      []KeyCounters      `json:"by_key"`
}

// Summary is a key's lifetime figures.
type Summary struct {
	Requests    int64 `json:"requests"`
	Tokens      int64 `json:"tokens"`
	RateLimited int64 `json:"rate_limited"`
	// LastUsedAt is RFC 3339 UTC, empty when the key was never used.
	LastUsedAt string `json:"last_used_at,omitempty"`
}

// Day is the layout of UTC days in keys and reports.
const Day = "2006-01-02"

// Record counts one keyed request (httpapi.Recorder). It returns the
// store's error; a repeat of a recorded request id is not an error.
func (s *Store) Record(ctx context.Context, c caller.Caller, e httpapi.Event) error {
	if c.IsMaster() || c.KeyID == "" || c.AccountID == "" {
		return nil
	}
	if (s.metered[e.Pattern] || e.Charged) && e.Status >= 200 && e.Status < 300 {
		return nil
	}
	n := Counters{Requests: 1}
	if e.Status >= http.StatusBadRequest {
		n.Errors = 1
	}
	if e.Status == http.StatusTooManyRequests && c.Refusal == string(problem.RateLimited) {
		n.RateLimited = 1
	}
	at := e.At
	if at.IsZero() {
		at = time.Now()
	}
	items := s.counterItems(c.AccountID, c.KeyID, e.Endpoint, n, at)
	if e.RequestID != "" {
		receipt := types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table),
			Item: map[string]types.AttributeValue{
				"pk":  dynamo.S("REQ#" + e.RequestID + "#rec"),
				"sk":  dynamo.S("REQ"),
				"ttl": dynamo.N(at.Add(24 * time.Hour).Unix()),
			},
			ConditionExpression: aws.String("attribute_not_exists(pk)")}}
		items = append([]types.TransactWriteItem{receipt}, items...)
	}
	// The SDK gives the transaction a ClientRequestToken that its own
	// retries reuse; the receipt covers Lambda retries and later repeats.
	err := s.transact(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err != nil {
		if reasons := dynamo.CancellationReasons(err); e.RequestID != "" && dynamo.ReasonIs(reasons, 0, "ConditionalCheckFailed") {
			return nil
		}
		return fmt.Errorf("record usage of key %s: %w", c.KeyID, err)
	}
	return nil
}

// AddRateLimited counts n requests of a key that the authorizer refused
// for the rate limit (refusals.Writer): requests, errors and rate_limited
// of the day/key/endpoint item and the key's summary, in one transaction.
// API Gateway answered them itself, so no function recorded them; the
// authorizer's refusals.Counter calls this at most once per key and
// interval with what it tallied. token is the transaction's
// ClientRequestToken: a write repeated with the same token and figures
// (after an answer was lost) is applied once. It does not move
// last_used_at (a refused request is no use of the key). It returns the
// store's error.
func (s *Store) AddRateLimited(ctx context.Context, accountID, keyID, endpoint string, n int64, at time.Time, token string) error {
	items := s.counterItems(accountID, keyID, endpoint, Counters{Requests: n, RateLimited: n, Errors: n}, at)
	sum := items[1].Update
	sum.UpdateExpression = aws.String("ADD requests :r, tokens :t, rate_limited :l SET account_id = :acc")
	delete(sum.ExpressionAttributeValues, ":at")
	in := &dynamodb.TransactWriteItemsInput{TransactItems: items}
	if token != "" {
		in.ClientRequestToken = aws.String(token)
	}
	if err := s.transact(ctx, in); err != nil {
		return fmt.Errorf("count %d rate-limited requests of key %s: %w", n, keyID, err)
	}
	return nil
}

// attempts bounds the sends of a counter transaction that keeps losing
// to others on the same items (DynamoDB cancels it TransactionConflict)
// or is throttled on a hot item. A count is worth a wait: a burst on one
// key queues its counter writes on the key's items for as long as the
// burst lasts, and 8 sends (about half a second of pauses) lost counts
// under the contention mode; 24 wait about 3 s (dynamo.Pause caps a pause
// at 160 ms). The request's end ends them sooner: Pause returns at once
// and the next send fails with the context's error.
const attempts = 24

// transact sends in, and again after a pause while it is cancelled only
// for conflicts or throttling (a cancelled transaction applied nothing).
// It returns the last error.
func (s *Store) transact(ctx context.Context, in *dynamodb.TransactWriteItemsInput) error {
	for try := 0; ; try++ {
		_, err := s.db.TransactWriteItems(ctx, in)
		if err == nil || try+1 >= attempts || !dynamo.Transient(dynamo.CancellationReasons(err)) {
			return err
		}
		dynamo.Pause(ctx, try)
	}
}

// NameOf returns the usage namer for a route pattern and the request's
// {name} path parameter ("" when the route has none), where no
// *http.Request is at hand (the authorizer): the pattern, "indicators/<name>"
// for POST /api/v1/indicators/{name} when known(name) (nil knows no name,
// and an unknown name keeps the pattern: usage is not counted under names
// a client makes up), "indicators/batch", "analysis/wyckoff". Callers that
// serve indicators pass indicator.Known: usage does not import the
// indicator engine, so that the functions that serve none do not link it.
func NameOf(known func(name string) bool) func(pattern, name string) string {
	return func(pattern, name string) string {
		if a, ok := strings.CutPrefix(pattern, "POST /api/v1/analysis/"); ok {
			return "analysis/" + a
		}
		rest, ok := strings.CutPrefix(pattern, "POST /api/v1/indicators/")
		if !ok {
			return pattern
		}
		if rest == "{name}" {
			if known == nil || !known(name) {
				return pattern
			}
			rest = name
		}
		return "indicators/" + rest
	}
}

// ChargeItems returns the counter updates of one metered request that
// spent tokens, for the metering transaction to include: the account's
// day/key/endpoint item and the key's summary (requests +1, tokens +n,
// last_used_at). requestID is not written: the metering transaction's own
// receipt makes the charge idempotent.
func (s *Store) ChargeItems(accountID, keyID, endpoint, requestID string, tokens int64, at time.Time) []types.TransactWriteItem {
	_ = requestID
	return s.counterItems(accountID, keyID, endpoint, Counters{Requests: 1, Tokens: tokens}, at)
}

func (s *Store) counterItems(accountID, keyID, endpoint string, n Counters, at time.Time) []types.TransactWriteItem {
	day := at.UTC().Format(Day)
	return []types.TransactWriteItem{
		{Update: &types.Update{TableName: aws.String(s.table),
			Key: map[string]types.AttributeValue{
				"pk": dynamo.S("ACCOUNT#" + accountID),
				"sk": dynamo.S("DAY#" + day + "#KEY#" + keyID + "#EP#" + endpoint),
			},
			UpdateExpression: aws.String("ADD requests :r, tokens :t, rate_limited :l, errors :e " +
				"SET #day = :day, key_id = :key, endpoint = :ep"),
			ExpressionAttributeNames: map[string]string{"#day": "day"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":r": dynamo.N(n.Requests), ":t": dynamo.N(n.Tokens), ":l": dynamo.N(n.RateLimited), ":e": dynamo.N(n.Errors),
				":day": dynamo.S(day), ":key": dynamo.S(keyID), ":ep": dynamo.S(endpoint),
			}}},
		{Update: &types.Update{TableName: aws.String(s.table),
			Key: map[string]types.AttributeValue{"pk": dynamo.S("KEY#" + keyID), "sk": dynamo.S("SUMMARY")},
			UpdateExpression: aws.String("ADD requests :r, tokens :t, rate_limited :l " +
				"SET last_used_at = :at, account_id = :acc"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":r": dynamo.N(n.Requests), ":t": dynamo.N(n.Tokens), ":l": dynamo.N(n.RateLimited),
				":at": dynamo.N(at.UnixMilli()), ":acc": dynamo.S(accountID),
			}}},
	}
}

// KeySummary returns the key's lifetime figures (zero for a key never
// used). It returns the store's error.
func (s *Store) KeySummary(ctx context.Context, keyID string) (Summary, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table),
		Key: map[string]types.AttributeValue{"pk": dynamo.S("KEY#" + keyID), "sk": dynamo.S("SUMMARY")}})
	if err != nil {
		return Summary{}, fmt.Errorf("read usage of key %s: %w", keyID, err)
	}
	sum := Summary{Requests: dynamo.Int(out.Item, "requests"), Tokens: dynamo.Int(out.Item, "tokens"),
		RateLimited: dynamo.Int(out.Item, "rate_limited")}
	if ms := dynamo.Int(out.Item, "last_used_at"); ms > 0 {
		sum.LastUsedAt = httpapi.Time(time.UnixMilli(ms))
	}
	return sum, nil
}

// AccountUsage returns the account's usage from the UTC day of from to
// that of to, inclusive. It returns the store's error.
func (s *Store) AccountUsage(ctx context.Context, accountID string, from, to time.Time) (Report, error) {
	return s.report(ctx, accountID, "", from, to)
}

// KeyUsage returns one key's usage from the UTC day of from to that of
// to, inclusive. It returns the store's error.
func (s *Store) KeyUsage(ctx context.Context, accountID, keyID string, from, to time.Time) (Report, error) {
	return s.report(ctx, accountID, keyID, from, to)
}

func (s *Store) report(ctx context.Context, accountID, keyID string, from, to time.Time) (Report, error) {
	rep := Report{AccountID: accountID, From: from.UTC().Format(Day), To: to.UTC().Format(Day),
		ByDay: []DayCounters{}, ByEndpoint: []EndpointCounters{}, ByKey: []KeyCounters{}}
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table),
		// '$' follows '#', so DAY#<to>$ is past every item of day <to>.
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": dynamo.S("ACCOUNT#" + accountID), ":from": dynamo.S("DAY#" + rep.From + "#"), ":to": dynamo.S("DAY#" + rep.To + "$"),
		},
	}
	if keyID != "" {
		in.FilterExpression = aws.String("key_id = :key")
		in.ExpressionAttributeValues[":key"] = dynamo.S(keyID)
	}
	days, eps, keys := map[string]*Counters{}, map[string]*Counters{}, map[string]*Counters{}
	bump := func(m map[string]*Counters, k string, n Counters) {
		if m[k] == nil {
			m[k] = &Counters{}
		}
		m[k].add(n)
	}
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return Report{}, fmt.Errorf("read usage of account %s: %w", accountID, err)
		}
		for _, it := range out.Items {
			n := Counters{Requests: dynamo.Int(it, "requests"), Tokens: dynamo.Int(it, "tokens"),
				RateLimited: dynamo.Int(it, "rate_limited"), Errors: dynamo.Int(it, "errors")}
			rep.add(n)
			bump(days, dynamo.String(it, "day"), n)
			bump(eps, dynamo.String(it, "endpoint"), n)
			bump(keys, dynamo.String(it, "key_id"), n)
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	for _, k := range sortedKeys(days) {
		rep.ByDay = append(rep.ByDay, DayCounters{Day: k, Counters: *days[k]})
	}
	for _, k := range sortedKeys(eps) {
		rep.ByEndpoint = append(rep.ByEndpoint, EndpointCounters{Endpoint: k, Counters: *eps[k]})
	}
	for _, k := range sortedKeys(keys) {
		rep.ByKey = append(rep.ByKey, KeyCounters{KeyID: k, Counters: *keys[k]})
	}
	return rep, nil
}

func sortedKeys(m map[string]*Counters) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Endpoint is the usage name of a request (httpapi.Options.Endpoint): the
// route pattern, or for the metered routes "indicators/batch" and
// "analysis/wyckoff", whether the request was charged or refused. It knows
// no indicator names: POST /api/v1/indicators/{name} keeps its pattern
// (the indicator functions name it with Namer).
func Endpoint(pattern string, r *http.Request) string {
	return NameOf(nil)(pattern, r.PathValue("name"))
}

// Namer returns Endpoint that also names POST /api/v1/indicators/{name}
// "indicators/<name>" when known(name) (see NameOf).
func Namer(known func(name string) bool) func(pattern string, r *http.Request) string {
	name := NameOf(known)
	return func(pattern string, r *http.Request) string { return name(pattern, r.PathValue("name")) }
}
