// Package dynamo builds the DynamoDB client: the one place that knows
// DYNAMODB_ENDPOINT, and small helpers around the SDK's error types.
package dynamo

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Options shape the client.
type Options struct {
	Region string
	// Endpoint overrides the service endpoint (DynamoDB Local, moto);
	// empty means AWS.
	Endpoint string
	// HTTPClient replaces the SDK's HTTP client (tests count round trips
	// with it).
	HTTPClient aws.HTTPClient
	// MaxAttempts bounds the SDK's own retries (default 3). The whole
	// request must fit the Lambda time budget.
	MaxAttempts int
}

// NewClient returns a DynamoDB client. Credentials come from the
// environment, as Lambda provides them (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN); with an endpoint and no
// credentials it uses dummy ones, since local servers do not check them.
// It builds the client without the SDK's config loader, which would link
// SSO, STS and IMDS clients into every function for nothing.
func NewClient(ctx context.Context, o Options) (*dynamodb.Client, error) {
	return NewClientEnv(o, os.Getenv)
}

// NewClientEnv is NewClient reading credentials through getenv.
func NewClientEnv(o Options, getenv func(string) string) (*dynamodb.Client, error) {
	if o.Region == "" {
		return nil, errors.New("dynamo: a region is required")
	}
	id, secret, token := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SESSION_TOKEN")
	if id == "" || secret == "" {
		if o.Endpoint == "" {
			return nil, errors.New("dynamo: no AWS credentials in the environment")
		}
		id, secret, token = "local", "local", ""
	}
	attempts := o.MaxAttempts
	if attempts == 0 {
		attempts = 3
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = DefaultHTTPClient()
	}
	opts := dynamodb.Options{
		Region:      o.Region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, token)),
		HTTPClient:  hc,
		Retryer: retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = attempts
			so.MaxBackoff = 200 * time.Millisecond
		}),
	}
	if o.Endpoint != "" {
		opts.BaseEndpoint = aws.String(o.Endpoint)
	}
	return dynamodb.New(opts), nil
}

// DefaultHTTPClient is the HTTP client NewClient uses when Options.HTTPClient
// is nil: a pooled transport sized for concurrent calls, 5 s a call.
func DefaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 256
	return &http.Client{Transport: t, Timeout: 5 * time.Second}
}

// Counter is an aws.HTTPClient that counts the round trips it makes: the
// calls the code asked for (each operation's first attempt) apart from
// the attempts the SDK's retryer re-sent after a transient failure (a
// reset connection, a throttle), which it counts as Retries. The SDK
// names each attempt in the amz-sdk-request header ("attempt=2; max=3").
type Counter struct {
	Next    aws.HTTPClient
	n       atomic.Int64
	retries atomic.Int64
}

// Do sends req and counts it.
func (c *Counter) Do(req *http.Request) (*http.Response, error) {
	if a := req.Header.Get("amz-sdk-request"); strings.Contains(a, "attempt=") && !strings.HasPrefix(a, "attempt=1;") {
		c.retries.Add(1)
	} else {
		c.n.Add(1)
	}
	return c.Next.Do(req)
}

// Count is the number of round trips so far, retries not included.
func (c *Counter) Count() int64 { return c.n.Load() }

// Retries is the number of attempts the SDK re-sent so far.
func (c *Counter) Retries() int64 { return c.retries.Load() }

// NewCounter wraps the default HTTP client in a Counter.
func NewCounter() *Counter { return &Counter{Next: DefaultHTTPClient()} }

// IsConditionFailed reports whether err is a failed condition check.
func IsConditionFailed(err error) bool {
	var ccf *types.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

// CancellationReasons returns the per-item codes of a cancelled
// transaction ("None", "ConditionalCheckFailed", ...), or nil when err is
// not a cancelled transaction.
func CancellationReasons(err error) []types.CancellationReason {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		return tce.CancellationReasons
	}
	return nil
}

// Transient reports whether a cancelled transaction lost only to passing
// conditions (another transaction on one of its items, or throttling of
// one), so that the same transaction is worth sending again.
func Transient(reasons []types.CancellationReason) bool {
	for _, r := range reasons {
		switch aws.ToString(r.Code) {
		case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded":
			return true
		}
	}
	return false
}

// Pause waits before sending again a transaction that lost to another
// or was throttled (try counts from 0): exponential from 5 ms, capped at
// 160 ms, with jitter so that the losers do not collide again. It
// returns early when ctx ends.
func Pause(ctx context.Context, try int) {
	d := time.Duration(5*(1<<min(try, 5))) * time.Millisecond
	t := time.NewTimer(d/2 + rand.N(d/2))
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// ReasonIs reports whether the i-th cancellation reason has the code.
func ReasonIs(reasons []types.CancellationReason, i int, code string) bool {
	return i < len(reasons) && aws.ToString(reasons[i].Code) == code
}
