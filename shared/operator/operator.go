// Package operator computes the business figures the operator tracks:
// session creation rate, session value, duration and tokens, feature
// usage, rate-limit hits and weekly retention, from the tables
// themselves. It answers a page of accounts at a time, so the cost of one
// request is bounded whatever the number of accounts: sums, not
// averages, so that pages add up.
package operator

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/dynamo"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/problem"
)

// Route is the template's path of the operator figures.
const Route = "GET /api/v1/operator/metrics"

// MaxDays bounds the range of one request.
const MaxDays = 366

// DB is the part of the DynamoDB client the figures read with.
type DB interface {
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Tables names the tables read.
type Tables struct{ Quotas, Sessions, Usage string }

// Metrics computes the figures.
type Metrics struct {
	DB     DB
	Tables Tables
	Now    func() time.Time
}

// Endpoint is one endpoint's traffic.
type Endpoint struct {
	Endpoint    string `json:"endpoint"`
	Requests    int64  `json:"requests"`
	Tokens      int64  `json:"tokens"`
	RateLimited int64  `json:"rate_limited"`
}

// Day is the sessions started on one UTC day.
type Day struct {
	Day      string `json:"day"`
	Sessions int64  `json:"sessions"`
}

// Week is one ISO week's retention: accounts active that week, those of
// them also active the week before, and how many were active the week
// before.
type Week struct {
	Week           string `json:"week"`
	Active         int64  `json:"active"`
	Retained       int64  `json:"retained"`
	PreviousActive int64  `json:"previous_active"`
}

// Report is one page of accounts' figures between From and To.
type Report struct {
	From                 string     `json:"from"`
	To                   string     `json:"to"`
	Accounts             int64      `json:"accounts"`
	ActiveAccounts       int64      `json:"active_accounts"`
	SessionsStarted      int64      `json:"sessions_started"`
	SessionsEnded        int64      `json:"sessions_ended"`
	SessionDurationTotal int64      `json:"session_duration_seconds_total"`
	TokensTotal          int64      `json:"tokens_total"`
	SessionsPurchased    int64      `json:"sessions_purchased"`
	RevenueCents         int64      `json:"revenue_cents"`
	Requests             int64      `json:"requests"`
	RateLimited          int64      `json:"rate_limited"`
	SessionsByDay        []Day      `json:"sessions_by_day"`
	ByEndpoint           []Endpoint `json:"by_endpoint"`
	Retention            []Week     `json:"retention"`
	NextToken            string     `json:"next_token,omitempty"`
}

const day = "2006-01-02"

// Handler is GET /api/v1/operator/metrics: master key only; every other
// key gets 404, as if the route did not exist.
func (m *Metrics) Handler() httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		c, ok := httpapi.CallerOf(r)
		if !ok || !c.IsMaster() {
			return problem.New(problem.NotFound, "no such route")
		}
		page, err := httpapi.ParsePage(r)
		if err != nil {
			return err
		}
		from, to, err := m.dates(r)
		if err != nil {
			return err
		}
		var start map[string]types.AttributeValue
		if page.Token != nil {
			var k struct{ ID string }
			if json.Unmarshal(page.Token, &k) != nil || !strings.HasPrefix(k.ID, "acc_") {
				return problem.Invalid("next_token", "next_token is not one this endpoint gave")
			}
			start = map[string]types.AttributeValue{"pk": dynamo.S("ACCOUNT#" + k.ID), "sk": dynamo.S("ACCOUNT"),
				"gsi1pk": dynamo.S("ACCOUNT"), "gsi1sk": dynamo.S(k.ID)}
		}
		rep, err := m.Page(r.Context(), from, to, page.Limit, start)
		if err != nil {
			return fmt.Errorf("operator metrics: %w", err)
		}
		return httpapi.WriteJSON(w, http.StatusOK, rep)
	}
}

func (m *Metrics) dates(r *http.Request) (time.Time, time.Time, error) {
	from, to, err := httpapi.Days(r.URL.Query())
	if err != nil {
		return from, to, err
	}
	today := m.Now().UTC().Truncate(24 * time.Hour)
	if to.IsZero() {
		to = today
	}
	if from.IsZero() {
		from = to.AddDate(0, 0, -29)
	}
	if err := httpapi.DaysInOrder(from, to); err != nil {
		return from, to, err
	}
	if to.Sub(from) > MaxDays*24*time.Hour {
		return from, to, problem.Invalid("from", "the range may span at most %d days", MaxDays)
	}
	return from, to, nil
}

// Page computes the figures of at most limit accounts (listed from gsi1
// after start) for the UTC days from..to. Each account costs three
// queries (sessions, purchases, usage) bounded by the range.
func (m *Metrics) Page(ctx context.Context, from, to time.Time, limit int, start map[string]types.AttributeValue) (Report, error) {
	rep := Report{From: from.Format(day), To: to.Format(day), SessionsByDay: []Day{}, ByEndpoint: []Endpoint{}, Retention: []Week{}}
	out, err := m.DB.Query(ctx, &dynamodb.QueryInput{TableName: &m.Tables.Quotas, IndexName: aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gsi1pk = :acc"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":acc": dynamo.S("ACCOUNT")},
		ProjectionExpression:      aws.String("gsi1sk"), Limit: aws.Int32(int32(limit)), ExclusiveStartKey: start})
	if err != nil {
		return rep, fmt.Errorf("list accounts: %w", err)
	}
	days := map[string]int64{}
	eps := map[string]*Endpoint{}
	weeks := map[string]map[string]bool{} // week -> accounts active
	var last string
	for _, it := range out.Items {
		id := dynamo.String(it, "gsi1sk")
		if id == "" {
			continue
		}
		last = id
		rep.Accounts++
		active, err := m.account(ctx, id, from, to, &rep, days, eps)
		if err != nil {
			return rep, fmt.Errorf("account %s: %w", id, err)
		}
		if len(active) > 0 {
			rep.ActiveAccounts++
		}
		for w := range active {
			if weeks[w] == nil {
				weeks[w] = map[string]bool{}
			}
			weeks[w][id] = true
		}
	}
	if len(out.LastEvaluatedKey) > 0 && last != "" {
		b, _ := json.Marshal(struct{ ID string }{last})
		rep.NextToken = httpapi.EncodeToken(b)
	}
	for d, n := range days {
		rep.SessionsByDay = append(rep.SessionsByDay, Day{d, n})
	}
	sort.Slice(rep.SessionsByDay, func(i, j int) bool { return rep.SessionsByDay[i].Day < rep.SessionsByDay[j].Day })
	for _, e := range eps {
		rep.ByEndpoint = append(rep.ByEndpoint, *e)
	}
	sort.Slice(rep.ByEndpoint, func(i, j int) bool {
		a, b := rep.ByEndpoint[i], rep.ByEndpoint[j]
		return a.Requests > b.Requests || (a.Requests == b.Requests && a.Endpoint < b.Endpoint)
	})
	rep.Retention = retention(weeks, from, to)
	return rep, nil
}

// account adds one account's figures to rep and returns the ISO weeks in
// which it made requests.
func (m *Metrics) account(ctx context.Context, id string, from, to time.Time, rep *Report, days map[string]int64, eps map[string]*Endpoint) (map[string]bool, error) {
	end := to.Add(24 * time.Hour)
	pk := dynamo.S("ACCOUNT#" + id)
	// Session ids sort by start time (ses_ + 12 hex digits of Unix ms).
	err := m.query(ctx, m.Tables.Sessions, "pk = :pk AND sk BETWEEN :a AND :b", map[string]types.AttributeValue{":pk": pk,
		":a": dynamo.S(fmt.Sprintf("SESSION#ses_%012x", from.UnixMilli())), ":b": dynamo.S(fmt.Sprintf("SESSION#ses_%012x", end.UnixMilli()))},
		func(it map[string]types.AttributeValue) {
			started := dynamo.Int(it, "started_at")
			if started < from.UnixMilli() || started >= end.UnixMilli() {
				return
			}
			rep.SessionsStarted++
			rep.TokensTotal += dynamo.Int(it, "tokens_used")
			days[time.UnixMilli(started).UTC().Format(day)]++
			if ended := dynamo.Int(it, "ended_at"); ended > 0 && dynamo.String(it, "status") == "ended" {
				rep.SessionsEnded++
				rep.SessionDurationTotal += (ended - started) / 1000
			}
		})
	if err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	err = m.query(ctx, m.Tables.Quotas, "pk = :pk AND begins_with(sk, :p)", map[string]types.AttributeValue{":pk": pk, ":p": dynamo.S("PURCHASE#")},
		func(it map[string]types.AttributeValue) {
			at := dynamo.Int(it, "created_at")
			if at < from.UnixMilli() || at >= end.UnixMilli() {
				return
			}
			rep.SessionsPurchased += dynamo.Int(it, "sessions")
			rep.RevenueCents += dynamo.Int(it, "total_price_cents")
		})
	if err != nil {
		return nil, fmt.Errorf("purchases: %w", err)
	}
	// A week earlier than from, so the first week's retention is known.
	active := map[string]bool{}
	err = m.query(ctx, m.Tables.Usage, "pk = :pk AND sk BETWEEN :a AND :b", map[string]types.AttributeValue{":pk": pk,
		":a": dynamo.S("DAY#" + from.AddDate(0, 0, -7).Format(day) + "#"), ":b": dynamo.S("DAY#" + to.Format(day) + "$")},
		func(it map[string]types.AttributeValue) {
			d, err := time.Parse(day, dynamo.String(it, "day"))
			if err != nil {
				return
			}
			req := dynamo.Int(it, "requests")
			if req > 0 {
				active[isoWeek(d)] = true
			}
			if d.Before(from) {
				return
			}
			ep := dynamo.String(it, "endpoint")
			e := eps[ep]
			if e == nil {
				e = &Endpoint{Endpoint: ep}
				eps[ep] = e
			}
			e.Requests += req
			e.Tokens += dynamo.Int(it, "tokens")
			e.RateLimited += dynamo.Int(it, "rate_limited")
			rep.Requests += req
			rep.RateLimited += dynamo.Int(it, "rate_limited")
		})
	if err != nil {
		return nil, fmt.Errorf("usage: %w", err)
	}
	return active, nil
}

func (m *Metrics) query(ctx context.Context, table, cond string, values map[string]types.AttributeValue, each func(map[string]types.AttributeValue)) error {
	in := &dynamodb.QueryInput{TableName: &table, KeyConditionExpression: &cond, ExpressionAttributeValues: values}
	for {
		out, err := m.DB.Query(ctx, in)
		if err != nil {
			return err
		}
		for _, it := range out.Items {
			each(it)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func isoWeek(t time.Time) string {
	y, w := t.ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// retention lists each ISO week from..to: the accounts active in it, how
// many of them were active the week before, and the week before's count.
func retention(weeks map[string]map[string]bool, from, to time.Time) []Week {
	var out []Week
	seen := map[string]bool{}
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		w := isoWeek(d)
		if seen[w] {
			continue
		}
		seen[w] = true
		prev := weeks[isoWeek(d.AddDate(0, 0, -7))]
		wk := Week{Week: w, Active: int64(len(weeks[w])), PreviousActive: int64(len(prev))}
		for id := range weeks[w] {
			if prev[id] {
				wk.Retained++
			}
		}
		out = append(out, wk)
	}
	if out == nil {
		out = []Week{}
	}
	return out
}

var _ DB = (*dynamodb.Client)(nil)
