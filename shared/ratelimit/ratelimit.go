// Package ratelimit enforces exact per-item rate limits in DynamoDB with
// the generic cell rate algorithm (GCRA), in the same conditional
// UpdateItem that checks the item itself (items keyed by pk and sk).
//
// # Algorithm
//
// A limit of N requests a minute has the emission interval
// T = ceil(60e6/N) microseconds and a burst tolerance of (N-1)T. GCRA keeps
// one time per item, the theoretical arrival time TAT. A request at time t
// is admitted iff max(TAT, t) - t <= (N-1)T, and then TAT becomes
// max(TAT, t) + T. From a standing start (TAT <= t) exactly N requests at
// the same instant pass: the k-th leaves TAT = t + kT and the (N+1)-th would
// need t + NT - t <= (N-1)T. Over a long run no more than one request per T
// passes, and T >= 60s/N, so no more than N a minute; a drained limit is
// whole again after N*T (60 s, or a few microseconds more where 60e6/N is
// not whole). A fixed window lets 2N through around its boundary; GCRA
// never does.
//
// DynamoDB update expressions can add and subtract but not take a maximum
// or multiply, so the item stores the constants and the next state
// precomputed (all in microseconds since the Unix epoch):
//
//	rl_limit     N
//	rl_period    T
//	rl_period2   2T
//	rl_idle_gate 2T - NT
//	rl_tat       TAT
//	rl_next      TAT + T          (TAT after one more admission when busy)
//	rl_gate      TAT + T - NT     (a busy request is admitted iff rl_gate <= t)
//
// and a request tries exactly one of two conditional updates:
//
//	idle (rl_tat missing or rl_tat <= :now):
//	    SET rl_tat = :now + rl_period, rl_next = :now + rl_period2,
//	        rl_gate = :now + rl_idle_gate
//	busy (rl_tat > :now AND rl_gate <= :now):
//	    SET rl_tat = rl_next, rl_next = rl_next + rl_period,
//	        rl_gate = rl_gate + rl_period
//
// Both conditions also carry the caller's Guard (for API keys: the key
// exists, is not revoked and has not expired), so checking the key and
// taking a token is one round trip. The busy update is relative, so any
// number of concurrent busy requests from any number of instances apply in
// some order with DynamoDB's per-item serialisation and none is lost or
// admitted twice: the condition is evaluated against the item as it is
// when the write applies. When neither condition holds the request is
// limited; it writes nothing, so refused requests never count.
//
// Which case to try is a guess: the last TAT this process saw for the
// item, or idle for an item it has not seen. A failed condition returns the
// item as it was (ReturnValuesOnConditionCheckFailure ALL_OLD), from which
// Take decides without another read: missing item, guard false, limited,
// or the other case, which it then tries. In the common path that is one
// round trip.
//
// # Retries that must not count twice
//
// The SDK retries a call whose answer was lost (a timeout, a reset
// connection, a 500), and DynamoDB may already have applied the first
// attempt. Every take therefore carries a short request marker (12
// characters derived from the API Gateway request id) and is conditional
// on the marker being absent from the item's marker ring: RingSize scalar
// attributes rl_m0..rl_m15 holding the markers of the item's last
// admissions, newest first. An admission shifts the ring by one in the
// same update (SET rl_m15 = rl_m14, ..., rl_m1 = rl_m0, rl_m0 = :marker;
// DynamoDB evaluates every operand against the item as it was). A retried
// attempt whose first attempt was applied fails the condition; the
// returned item holds the marker, and Take reports the request as
// admitted (Duplicate) without taking a second token.
//
// The ring keeps the item's size fixed (about 300 bytes of markers, so a
// take stays one write unit however busy the key is). Its guarantee is by
// count, not time: a retry is recognised while fewer than RingSize other
// admissions of the same item happened between the applied attempt and
// the retry. Every attempt of one take falls within the authorizer's 3 s
// store budget, so that always holds for keys limited to fewer than 320
// requests a minute, and for a reset connection (retried within 200 ms,
// shared/dynamo) up to ~4,800 a minute; past that a retry after a lost
// answer may take a second token. That errs on the safe side: it can
// cost the client one token, never admit an extra request.
// (Markers kept by time would make the item grow with the key's traffic:
// at 100 requests a second, 10 s of markers are 12 KB and 12 write units
// per take, and past ~1,000 write units a second DynamoDB throttles the
// item, i.e. the key, below the limit it bought.)
//
// Refund gives a token back (a request admitted here but refused later,
// e.g. for want of a session) by subtracting T from rl_tat, rl_next and
// rl_gate, conditional on a refund marker ("!" + marker) being absent
// from the ring, which it pushes: a retried refund gives back once, with
// the same count bound.
//
// # Clocks read in one order, writes applied in another
//
// Concurrent requests read their clocks in one order and reach the item
// in another: the N-th request of a burst from a standing start can reach
// the item after an admission whose clock was read later than its own, and
// at its own clock the gate is a moment ahead. With a Clock, a take
// refused that way reads the clock again and, when the gate is past by
// then, tries again as of that instant: GCRA may judge a request at any
// instant between its arrival and its answer, and never admits more than
// the limit at whichever instant it uses.
//
// # Refusing without a call
//
// A process that saw an item limited (the failed condition's item, whose
// rl_gate is ahead of now) refuses the item's next requests itself until
// now reaches that rl_gate, with no store call: a key flooded past its
// limit then costs no write per refused request. Takes only move rl_gate
// forward, so the store would refuse them too; only a refund (a request
// refused later for want of a session) moves it back, by T, and a refund
// made by another process is not seen here: each such refund may keep one
// request refused here that the store would have admitted, until the gate
// seen passes (at most the Retry-After that was given). Refunds made by
// this process, and any admission it sees, drop what it saw. The limit is
// never exceeded: nothing is admitted without the store.
package ratelimit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/dynamo"
)

// Attribute names on the limited item.
const (
	AttrLimit    = "rl_limit"
	AttrPeriod   = "rl_period"
	AttrPeriod2  = "rl_period2"
	AttrIdleGate = "rl_idle_gate"
	AttrTAT      = "rl_tat"
	AttrNext     = "rl_next"
	AttrGate     = "rl_gate"
)

// RingSize is how many markers an item keeps (see the package comment).
const RingSize = 16

// ring holds the marker attributes, newest first; ringShift pushes
// :marker onto the ring (oldest first, so that the result is the same
// whether a server evaluates the actions at once, as DynamoDB does, or in
// order); ringHas is true when :marker is on it. Attribute names need no
// placeholders: rl_mN is not a reserved word.
var ring, ringShift, ringHas = func() ([RingSize]string, string, string) {
	var r [RingSize]string
	for i := range r {
		r[i] = "rl_m" + strconv.Itoa(i)
	}
	shift := ""
	for i := RingSize - 1; i > 0; i-- {
		shift += r[i] + " = if_not_exists(" + r[i-1] + ", :none), "
	}
	shift += r[0] + " = :marker"
	has := ":marker IN (" + strings.Join(r[:], ", ") + ")"
	return r, shift, has
}()

// Params are a limit's constants.
type Params struct {
	Limit  int   // N requests a minute
	Period int64 // T, microseconds
}

// ParamsFor returns the constants of a limit of n requests a minute
// (n >= 1).
func ParamsFor(n int) Params {
	if n < 1 {
		n = 1
	}
	const minute = int64(60_000_000)
	return Params{Limit: n, Period: (minute + int64(n) - 1) / int64(n)}
}

// Attributes are the constants to store on the item when it is created.
func (p Params) Attributes() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrLimit:    num(int64(p.Limit)),
		AttrPeriod:   num(p.Period),
		AttrPeriod2:  num(2 * p.Period),
		AttrIdleGate: num(2*p.Period - int64(p.Limit)*p.Period),
	}
}

// Guard is a condition the item must meet for a token to be taken, both
// as a condition expression and as the same test in Go (applied to the
// item a failed condition returns; required with Expr). Names and values
// must start with #g and :g.
type Guard struct {
	Expr   string
	Names  map[string]string
	Values map[string]types.AttributeValue
	Holds  func(item map[string]types.AttributeValue) bool
}

// DB is the DynamoDB call the limiter makes.
type DB interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Outcome is what a take decided.
type Outcome int

// Outcomes.
const (
	// Admitted: a token was taken (or had been, by an earlier attempt of
	// the same request).
	Admitted Outcome = iota + 1
	// Limited: the item is over its limit; nothing was written.
	Limited
	// Missing: no such item.
	Missing
	// Refused: the guard does not hold.
	Refused
)

func (o Outcome) String() string {
	switch o {
	case Admitted:
		return "admitted"
	case Limited:
		return "limited"
	case Missing:
		return "missing"
	case Refused:
		return "refused"
	}
	return "unknown"
}

// Result is a take's decision with the limit's figures.
type Result struct {
	Outcome Outcome
	// Item is the item after the take (admitted) or as the failed
	// condition saw it; nil when Missing.
	Item map[string]types.AttributeValue
	// Limit, Remaining and Reset are the RateLimit-* header values:
	// requests a minute, requests that would pass now, and seconds until
	// the limit is back to a full burst.
	Limit     int
	Remaining int
	Reset     int
	// RetryAfter is the seconds to wait before the next request can pass
	// (Limited only, >= 1).
	RetryAfter int
	// Duplicate reports that an earlier attempt of this request had
	// already taken the token.
	Duplicate bool
	// Calls is the number of UpdateItem calls the take made.
	Calls int

	key    map[string]types.AttributeValue
	marker string
	now    int64
}

// Limiter takes tokens on items of one table.
type Limiter struct {
	db    DB
	table string
	// Clock, when set, is read again when a take is refused: a gate that
	// is already past at that later instant means the take's clock was
	// read before an admission the store applied first (concurrent
	// requests read their clocks in one order and reach the item in
	// another), and the take is tried again as of the later instant, as
	// GCRA may judge a request at any instant between its arrival and its
	// answer. Nil judges every take at the now it was given.
	Clock func() time.Time

	mu      sync.Mutex
	guess   map[string]int64                           // last TAT seen per item, to pick the case
	limited map[string]map[string]types.AttributeValue // the item as last seen limited
}

// New returns a limiter over table.
func New(db DB, table string) *Limiter {
	return &Limiter{db: db, table: table, guess: map[string]int64{}, limited: map[string]map[string]types.AttributeValue{}}
}

// maxGuesses bounds the guess cache; it is cleared when full.
const maxGuesses = 8192

// maxCalls bounds one take's conditional updates. Each failed condition
// means the item changed case, so more than a few is a sign of a clock
// gone wild, not of contention.
const maxCalls = 6

// ErrContended is returned when a take could not settle within maxCalls.
var ErrContended = errors.New("ratelimit: item changed case on every attempt")

// Marker returns the request marker of a request id: 12 URL-safe
// characters (72 bits) of its SHA-256, or random ones when id is empty.
func Marker(requestID string) string {
	var b [9]byte
	if requestID == "" {
		_, _ = rand.Read(b[:])
	} else {
		sum := sha256.Sum256([]byte(requestID))
		copy(b[:], sum[:])
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Take checks the item at key against the guard and takes a token at now
// for the request (requestID identifies it across SDK retries). It returns
// an error only when the store could not decide (unreachable, throttled,
// malformed item); the caller must then refuse the request.
func (l *Limiter) Take(ctx context.Context, key map[string]types.AttributeValue, g Guard, requestID string, now time.Time) (Result, error) {
	nowUS := now.UnixMicro()
	res := Result{key: key, marker: Marker(requestID), now: nowUS}
	id := itemID(key)
	if item, ok := l.stillLimited(id, nowUS); ok && (g.Holds == nil || g.Holds(item)) {
		// This process saw the item limited with a gate still ahead:
		// the gate has only moved up since (but for refunds; see the
		// package comment), so the store would refuse too.
		res.Outcome, res.Item = Limited, item
		if err := res.figures(nowUS); err != nil {
			return res, err
		}
		gate, _ := intAttr(item, AttrGate)
		res.RetryAfter = ceilSeconds(gate - nowUS)
		return res, nil
	}
	busy := l.guessBusy(id, nowUS)
	for res.Calls < maxCalls {
		res.Calls++
		in := l.takeInput(key, g, res.marker, nowUS, busy)
		out, err := l.db.UpdateItem(ctx, in)
		if err == nil {
			res.Outcome, res.Item = Admitted, out.Attributes
			if err := res.figures(nowUS); err != nil {
				return res, err
			}
			l.remember(id, res.Item)
			return res, nil
		}
		var (
			ccf *types.ConditionalCheckFailedException
			tce *types.TransactionConflictException
		)
		if errors.As(err, &tce) {
			// A transaction on the item is in flight (a key being
			// created, rotated or revoked): nothing was written, and
			// the conflict passes when it commits.
			dynamo.Pause(ctx, res.Calls)
			continue
		}
		if !errors.As(err, &ccf) {
			return res, fmt.Errorf("take a rate-limit token: %w", err)
		}
		item := ccf.Item
		res.Item = item
		switch {
		case len(item) == 0:
			res.Outcome = Missing
			return res, nil
		case g.Holds != nil && !g.Holds(item):
			res.Outcome = Refused
			return res, nil
		case onRing(item, res.marker):
			res.Outcome, res.Duplicate = Admitted, true
			if err := res.figures(nowUS); err != nil {
				return res, err
			}
			return res, nil
		}
		tat, hasTAT := intAttr(item, AttrTAT)
		gate, _ := intAttr(item, AttrGate)
		switch {
		case !hasTAT || tat <= nowUS:
			busy = false
		case gate <= nowUS:
			busy = true
		case l.Clock != nil && gate <= l.Clock().UnixMicro():
			// Limited at the clock read, not now: try again as of now.
			nowUS = max(nowUS, l.Clock().UnixMicro())
			res.now = nowUS
			busy = tat > nowUS
		default:
			res.Outcome = Limited
			if err := res.figures(nowUS); err != nil {
				return res, err
			}
			res.RetryAfter = ceilSeconds(gate - nowUS)
			l.remember(id, item)
			l.mu.Lock()
			l.limited[id] = item
			l.mu.Unlock()
			return res, nil
		}
	}
	return res, ErrContended
}

// Refund gives back the token r took. It returns r with figures after the
// refund; a refund already applied (a retried call) changes nothing. It
// returns an error when the store could not be reached.
func (l *Limiter) Refund(ctx context.Context, r Result) (Result, error) {
	if r.Outcome != Admitted {
		return r, nil
	}
	in := &dynamodb.UpdateItemInput{
		TableName:           aws.String(l.table),
		Key:                 r.key,
		UpdateExpression:    aws.String("SET #tat = #tat - #period, #next = #next - #period, #gate = #gate - #period, " + ringShift),
		ConditionExpression: aws.String("attribute_exists(#tat) AND NOT (" + ringHas + ")"),
		ExpressionAttributeNames: map[string]string{"#tat": AttrTAT, "#next": AttrNext, "#gate": AttrGate,
			"#period": AttrPeriod},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":marker": &types.AttributeValueMemberS{Value: "!" + r.marker},
			":none":   noMarker,
		},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	out, err := l.db.UpdateItem(ctx, in)
	r.Calls++
	var item map[string]types.AttributeValue
	switch {
	case err == nil:
		item = out.Attributes
	default:
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return r, fmt.Errorf("refund a rate-limit token: %w", err)
		}
		item = ccf.Item
	}
	if len(item) > 0 {
		r.Item = item
		_ = r.figures(r.now)
		l.remember(itemID(r.key), item)
	}
	return r, nil
}

// stillLimited returns the item as this process last saw it limited, if
// its gate is still ahead of now.
func (l *Limiter) stillLimited(id string, now int64) (map[string]types.AttributeValue, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	item, ok := l.limited[id]
	if !ok {
		return nil, false
	}
	if gate, _ := intAttr(item, AttrGate); gate <= now {
		delete(l.limited, id)
		return nil, false
	}
	return item, true
}

func (l *Limiter) takeInput(key map[string]types.AttributeValue, g Guard, marker string, now int64, busy bool) *dynamodb.UpdateItemInput {
	names := map[string]string{"#tat": AttrTAT, "#next": AttrNext, "#gate": AttrGate, "#period": AttrPeriod}
	values := map[string]types.AttributeValue{
		":now":    num(now),
		":marker": &types.AttributeValueMemberS{Value: marker},
		":none":   noMarker,
	}
	var update, when string
	if busy {
		update = "SET #tat = #next, #next = #next + #period, #gate = #gate + #period"
		when = "#tat > :now AND #gate <= :now"
	} else {
		names["#period2"], names["#idle"] = AttrPeriod2, AttrIdleGate
		update = "SET #tat = :now + #period, #next = :now + #period2, #gate = :now + #idle"
		when = "(attribute_not_exists(#tat) OR #tat <= :now)"
	}
	update += ", " + ringShift
	// The partition key proves the item exists.
	names["#pk"] = "pk"
	cond := "attribute_exists(#pk)"
	if g.Expr != "" {
		cond += " AND (" + g.Expr + ")"
		for k, v := range g.Names {
			names[k] = v
		}
		for k, v := range g.Values {
			values[k] = v
		}
	}
	cond += " AND NOT (" + ringHas + ") AND " + when
	return &dynamodb.UpdateItemInput{
		TableName:                           aws.String(l.table),
		Key:                                 key,
		UpdateExpression:                    aws.String(update),
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

// figures fills Limit, Remaining and Reset from the item's state.
func (r *Result) figures(now int64) error {
	n, ok1 := intAttr(r.Item, AttrLimit)
	t, ok2 := intAttr(r.Item, AttrPeriod)
	if !ok1 || !ok2 || n < 1 || t < 1 {
		return errors.New("ratelimit: item has no limit parameters")
	}
	r.Limit = int(n)
	tat, ok := intAttr(r.Item, AttrTAT)
	if !ok || tat < now {
		tat = now
	}
	remaining := (now + n*t - tat) / t
	r.Remaining = int(min(max(remaining, 0), n))
	r.Reset = ceilSeconds(tat - now)
	return nil
}

func (l *Limiter) guessBusy(id string, now int64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	tat, ok := l.guess[id]
	return ok && tat > now
}

func (l *Limiter) remember(id string, item map[string]types.AttributeValue) {
	tat, ok := intAttr(item, AttrTAT)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.guess) >= maxGuesses {
		clear(l.guess)
	}
	if len(l.limited) >= maxGuesses {
		clear(l.limited)
	}
	l.guess[id] = tat
	// A newer state (an admission, a refund) replaces what was seen
	// limited; a limited take stores it again after this.
	delete(l.limited, id)
}

func itemID(key map[string]types.AttributeValue) string {
	var id string
	for _, k := range []string{"pk", "sk"} {
		if s, ok := key[k].(*types.AttributeValueMemberS); ok {
			id += s.Value + "\x00"
		}
	}
	return id
}

// noMarker fills ring slots an item has not used yet.
var noMarker = &types.AttributeValueMemberS{Value: "-"}

// onRing reports whether marker is on the item's marker ring.
func onRing(item map[string]types.AttributeValue, marker string) bool {
	for _, name := range ring {
		if s, ok := item[name].(*types.AttributeValueMemberS); ok && s.Value == marker {
			return true
		}
	}
	return false
}

func intAttr(item map[string]types.AttributeValue, name string) (int64, bool) {
	n, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	return v, err == nil
}

// ceilSeconds rounds microseconds up to whole seconds, at least 1 when
// positive and 0 otherwise.
func ceilSeconds(us int64) int {
	if us <= 0 {
		return 0
	}
	return int((us + 999_999) / 1_000_000)
}

func num(v int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}
