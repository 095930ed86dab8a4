package load

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/apikey"
	"github.com/waickoff/waickoff/shared/config"
	"github.com/waickoff/waickoff/shared/dynamo"
)

// Audit is the exactness check of a run, read from the tables.
type Audit struct {
	Accounts, Sessions, Keys, Receipts int
	// Mismatches lists every figure that does not add up.
	Mismatches []string
	// Limits are the rate-limit checks by key id.
	Limits map[string]LimitCheck
	Burst  BurstCheck
	// LookupItem is the largest key lookup item (the one the authorizer's
	// rate-limit take rewrites on every request) at the end of the run,
	// in DynamoDB's item-size bytes, and its key's admitted rate.
	LookupItem     int
	LookupItemRate float64
}

func (a *Audit) mismatch(format string, args ...any) {
	a.Mismatches = append(a.Mismatches, fmt.Sprintf(format, args...))
}

// reader pages through the tables.
type reader struct {
	db     *dynamodb.Client
	tables config.Tables
}

func (r reader) query(ctx context.Context, in *dynamodb.QueryInput) ([]map[string]types.AttributeValue, error) {
	var out []map[string]types.AttributeValue
	for {
		page, err := r.db.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

func (r reader) prefix(ctx context.Context, table, pk, skPrefix string) ([]map[string]types.AttributeValue, error) {
	in := &dynamodb.QueryInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":p": str(skPrefix)}}
	if skPrefix == "" {
		in.KeyConditionExpression = aws.String("pk = :pk")
		delete(in.ExpressionAttributeValues, ":p")
	}
	return r.query(ctx, in)
}

func (r reader) get(ctx context.Context, table, pk, sk string) (map[string]types.AttributeValue, error) {
	out, err := r.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"pk": str(pk), "sk": str(sk)}})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func getS(it map[string]types.AttributeValue, name string) string {
	if v, ok := it[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// getN reads a whole number; ok is false when the attribute is missing or
// not one.
func getN(it map[string]types.AttributeValue, name string) (int64, bool) {
	v, ok := it[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	return n, err == nil
}

func n0(it map[string]types.AttributeValue, name string) int64 {
	n, _ := getN(it, name)
	return n
}

// AuditRun reads the API's tables directly (db, tables) and checks them
// against each other and against what the clients of res saw:
//
//   - every account: remaining + used = purchased; used = the sessions in
//     the SessionsTable = the sessions started through the API (setup and
//     run); the purchase ledger sums to purchased, which is what was
//     bought (a replayed purchase added nothing); at most one session is
//     active, the one the hub points at, with the hub's token count;
//   - every session: tokens_used and requests = the sum of its charge
//     receipts = the sum of its per-endpoint usage counters = the sum of
//     meta.tokens the clients received (and their count), receipt by
//     receipt (X-Request-Id); no session passed its limit; an ended
//     session was filled exactly (exhausted) or terminated by a client
//     after an answer did not fit;
//   - every key: its usage summary (requests, tokens, 429s) = what its
//     clients sent and received = the sum of its daily usage items; its
//     admissions never exceeded its limit (CheckLimit), and the limited
//     key's opening burst let exactly its limit through (CheckBurst).
//
// It returns an error only when the tables could not be read.
func AuditRun(ctx context.Context, db *dynamodb.Client, tables config.Tables, res *Result) (*Audit, error) {
	a := &Audit{Limits: map[string]LimitCheck{}}
	r := reader{db: db, tables: tables}
	fx := res.Fixture

	// Receipts, by session.
	receipts := map[string]map[string]int64{} // session -> request id -> tokens
	scan := &dynamodb.ScanInput{TableName: aws.String(tables.Usage),
		FilterExpression:          aws.String("begins_with(pk, :req) AND attribute_exists(session_id)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":req": str("REQ#")}}
	for {
		page, err := db.Scan(ctx, scan)
		if err != nil {
			return nil, fmt.Errorf("scan the charge receipts: %w", err)
		}
		for _, it := range page.Items {
			sid := getS(it, "session_id")
			if receipts[sid] == nil {
				receipts[sid] = map[string]int64{}
			}
			receipts[sid][strings.TrimPrefix(getS(it, "pk"), "REQ#")] = n0(it, "tokens")
			a.Receipts++
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		scan.ExclusiveStartKey = page.LastEvaluatedKey
	}

	seenSessions := map[string]bool{}
	for _, acc := range fx.Accounts {
		a.Accounts++
		hub, err := r.get(ctx, tables.Quotas, "ACCOUNT#"+acc.ID, "ACCOUNT")
		if err != nil {
			return nil, fmt.Errorf("read the hub of %s: %w", acc.ID, err)
		}
		purchased, used, remaining := n0(hub, "purchased"), n0(hub, "used"), n0(hub, "remaining")
		if remaining+used != purchased {
			a.mismatch("account %s: remaining %d + used %d != purchased %d", acc.ID, remaining, used, purchased)
		}
		if remaining < 0 {
			a.mismatch("account %s: remaining %d below zero", acc.ID, remaining)
		}
		if purchased != acc.Purchased {
			a.mismatch("account %s: purchased %d, but the client bought %d", acc.ID, purchased, acc.Purchased)
		}
		ledger, err := r.prefix(ctx, tables.Quotas, "ACCOUNT#"+acc.ID, "PURCHASE#")
		if err != nil {
			return nil, fmt.Errorf("read the ledger of %s: %w", acc.ID, err)
		}
		var bought int64
		for _, it := range ledger {
			bought += n0(it, "sessions")
		}
		if bought != purchased {
			a.mismatch("account %s: the ledger's %d purchases sum to %d sessions, purchased is %d", acc.ID, len(ledger), bought, purchased)
		}

		rows, err := r.prefix(ctx, tables.Sessions, "ACCOUNT#"+acc.ID, "SESSION#")
		if err != nil {
			return nil, fmt.Errorf("read the sessions of %s: %w", acc.ID, err)
		}
		started := 1 + int64(len(res.Starts[acc.ID]))
		if int64(len(rows)) != used || int64(len(rows)) != started {
			a.mismatch("account %s: used %d, %d sessions in the table, %d started through the API", acc.ID, used, len(rows), started)
		}
		pointer := getS(hub, "active_session_id")
		var active []string
		for _, it := range rows {
			a.Sessions++
			sid := getS(it, "session_id")
			seenSessions[sid] = true
			a.auditSession(ctx, r, acc, it, receipts[sid], res.Sessions[sid])
			if getS(it, "status") == "active" {
				active = append(active, sid)
			}
		}
		switch {
		case len(active) > 1:
			a.mismatch("account %s: %d sessions active: %v", acc.ID, len(active), active)
		case len(active) == 1 && pointer != active[0]:
			a.mismatch("account %s: session %s is active but the hub points at %q", acc.ID, active[0], pointer)
		case len(active) == 1:
			var ses map[string]types.AttributeValue
			for _, it := range rows {
				if getS(it, "session_id") == pointer {
					ses = it
				}
			}
			if hu, su := n0(hub, "active_tokens_used"), n0(ses, "tokens_used"); hu != su {
				a.mismatch("account %s: the hub counts %d tokens for %s, the session %d", acc.ID, hu, pointer, su)
			}
		case pointer != "":
			a.mismatch("account %s: the hub points at %s, which is not active", acc.ID, pointer)
		}
	}
	for sid, t := range res.Sessions {
		if !seenSessions[sid] {
			a.mismatch("session %s: the clients were charged %d tokens in it, but it is not in the table", sid, t.Tokens)
		}
	}
	for sid, rs := range receipts {
		if !seenSessions[sid] {
			a.mismatch("session %s: %d receipts for a session not in the table", sid, len(rs))
		}
	}

	// Keys.
	byAccountDays := map[string][]map[string]types.AttributeValue{}
	for _, k := range fx.Keys {
		a.Keys++
		kt := res.Keys[k.Index]
		sum, err := r.get(ctx, tables.Usage, "KEY#"+k.ID, "SUMMARY")
		if err != nil {
			return nil, fmt.Errorf("read the usage of %s: %w", k.ID, err)
		}
		if got := n0(sum, "requests"); got != kt.Responses {
			a.mismatch("key %s: usage counts %d requests, the clients had %d answers", k.ID, got, kt.Responses)
		}
		if got := n0(sum, "tokens"); got != kt.Tokens {
			a.mismatch("key %s: usage counts %d tokens, the clients were charged %d", k.ID, got, kt.Tokens)
		}
		if got := n0(sum, "rate_limited"); got != kt.Limited {
			a.mismatch("key %s: usage counts %d rate-limited, the clients got %d 429s", k.ID, got, kt.Limited)
		}
		days, ok := byAccountDays[k.Account.ID]
		if !ok {
			days, err = r.prefix(ctx, tables.Usage, "ACCOUNT#"+k.Account.ID, "DAY#")
			if err != nil {
				return nil, fmt.Errorf("read the daily usage of %s: %w", k.Account.ID, err)
			}
			byAccountDays[k.Account.ID] = days
		}
		var dr, dt, dl int64
		for _, it := range days {
			if getS(it, "key_id") == k.ID {
				dr, dt, dl = dr+n0(it, "requests"), dt+n0(it, "tokens"), dl+n0(it, "rate_limited")
			}
		}
		if dr != n0(sum, "requests") || dt != n0(sum, "tokens") || dl != n0(sum, "rate_limited") {
			a.mismatch("key %s: daily usage %d requests, %d tokens, %d limited; summary %d, %d, %d", k.ID, dr, dt, dl,
				n0(sum, "requests"), n0(sum, "tokens"), n0(sum, "rate_limited"))
		}
		var adm []Interval
		var burst, mine []Record
		for _, rec := range res.Records {
			if int(rec.Key) != k.Index {
				continue
			}
			mine = append(mine, rec)
			if rec.Burst {
				burst = append(burst, rec)
			}
			if rec.Admitted() {
				adm = append(adm, Interval{Send: rec.Start, Recv: rec.Start + rec.Latency})
			}
		}
		if early := EarlyRefusals(mine, k.Limit); early > 0 {
			a.mismatch("key %s (limit %d a minute): %d requests refused with 429 before it could have spent its limit", k.ID, k.Limit, early)
		}
		look, err := r.get(ctx, tables.APIKeys, "HASH#"+apikey.Hash(k.Secret), "HASH")
		if err != nil {
			return nil, fmt.Errorf("read the lookup item of %s: %w", k.ID, err)
		}
		if n := dynamo.ItemSize(look); n > a.LookupItem {
			a.LookupItem, a.LookupItemRate = n, float64(len(adm))/res.Elapsed.Seconds()
		}
		lc := CheckLimit(adm, k.Limit)
		a.Limits[k.ID] = lc
		if lc.Violation != "" {
			a.mismatch("key %s (limit %d a minute): %s", k.ID, k.Limit, lc.Violation)
		}
		if k.Limited {
			a.Burst = CheckBurst(burst, k.Limit)
			if a.Burst.Problem != "" {
				a.mismatch("key %s: %s", k.ID, a.Burst.Problem)
			}
		}
	}
	return a, nil
}

func (a *Audit) auditSession(ctx context.Context, r reader, acc *Account, it map[string]types.AttributeValue,
	receipts map[string]int64, seen *SessionTally) {
	sid := getS(it, "session_id")
	used, requests, limit := n0(it, "tokens_used"), n0(it, "requests"), n0(it, "token_limit")
	var rt int64
	for _, t := range receipts {
		rt += t
	}
	if rt != used || int64(len(receipts)) != requests {
		a.mismatch("session %s: tokens_used %d over %d requests; its receipts: %d tokens over %d", sid, used, requests, rt, len(receipts))
	}
	eps, err := r.prefix(ctx, r.tables.Usage, "SESSION#"+sid, "")
	if err != nil {
		a.mismatch("session %s: read its usage: %v", sid, err)
		return
	}
	var et, er int64
	for _, e := range eps {
		et, er = et+n0(e, "tokens"), er+n0(e, "requests")
	}
	if et != used || er != requests {
		a.mismatch("session %s: tokens_used %d over %d requests; by endpoint %d over %d", sid, used, requests, et, er)
	}
	if seen == nil {
		seen = &SessionTally{}
	}
	if seen.Tokens != used || seen.Requests != requests {
		a.mismatch("session %s: tokens_used %d over %d requests; the clients got meta.tokens %d over %d", sid, used, requests, seen.Tokens, seen.Requests)
	}
	var missing, extra, differ []string
	for id, t := range seen.ByRequest {
		rt, ok := receipts[id]
		switch {
		case !ok:
			missing = append(missing, id)
		case rt != t:
			differ = append(differ, fmt.Sprintf("%s (%d charged, %d told)", id, rt, t))
		}
	}
	for id := range receipts {
		if _, ok := seen.ByRequest[id]; !ok {
			extra = append(extra, id)
		}
	}
	for what, ids := range map[string][]string{"answered but not charged": missing, "charged but never answered": extra, "charged otherwise than told": differ} {
		if len(ids) > 0 {
			sort.Strings(ids)
			a.mismatch("session %s: %d requests %s, e.g. %s", sid, len(ids), what, ids[0])
		}
	}
	if used > limit {
		a.mismatch("session %s: %d tokens used, past its limit of %d", sid, used, limit)
	}
	switch getS(it, "status") {
	case "active":
		if used >= limit {
			a.mismatch("session %s: active with %d of %d tokens used", sid, used, limit)
		}
	case "ended":
		switch reason := getS(it, "end_reason"); {
		case reason == "exhausted" && used != limit:
			a.mismatch("session %s: exhausted with %d of %d tokens used", sid, used, limit)
		case reason != "exhausted" && reason != "terminated":
			a.mismatch("session %s: ended %q during a run that only spends tokens (and ends sessions too full to use)", sid, reason)
		}
	default:
		a.mismatch("session %s: status %q", sid, getS(it, "status"))
	}
}

// String summarises the audit.
func (a *Audit) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "  audit: %d accounts, %d sessions, %d keys, %d charge receipts: %d mismatches\n",
		a.Accounts, a.Sessions, a.Keys, a.Receipts, len(a.Mismatches))
	for i, m := range a.Mismatches {
		if i == 20 {
			fmt.Fprintf(&b, "    ... and %d more\n", len(a.Mismatches)-20)
			break
		}
		fmt.Fprintf(&b, "    MISMATCH %s\n", m)
	}
	if bc := a.Burst; bc.Sent > 0 {
		fmt.Fprintf(&b, "  limited key: burst of %d from a standing start let %d through in %s (limit %d a minute)\n",
			bc.Sent, bc.Admitted, bc.Window.Round(1e6), bc.Limit)
	}
	if a.LookupItem > 0 {
		fmt.Fprintf(&b, "  largest key lookup item: %d bytes (key admitted %.1f/s), %d write units per rate-limit take on DynamoDB\n",
			a.LookupItem, a.LookupItemRate, (a.LookupItem+1023)/1024)
	}
	var worst LimitCheck
	for _, lc := range a.Limits {
		if lc.Limit < 1000 {
			fmt.Fprintf(&b, "  limited key: %d admitted, at most %d certainly admitted in one 60 s window (limit %d; GCRA allows N + floor(w/T) in any window w, so up to 2N-1 in the first minute)\n",
				lc.Admitted, lc.MaxInMinute, lc.Limit)
		} else if lc.MaxInMinute > worst.MaxInMinute {
			worst = lc
		}
	}
	if worst.Limit > 0 {
		fmt.Fprintf(&b, "  load keys: at most %d certainly admitted in one 60 s window (limit %d)\n", worst.MaxInMinute, worst.Limit)
	}
	return b.String()
}
