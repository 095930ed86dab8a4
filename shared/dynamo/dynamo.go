// Package dynamo builds the DynamoDB client: the one place that knows
// DYNAMODB_ENDPOINT, and small helpers around the SDK's error types.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
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

// NewClient returns a DynamoDB client. With an endpoint it uses static
// dummy credentials, since local servers do not check them.
func NewClient(ctx context.Context, o Options) (*dynamodb.Client, error) {
	loaders := []func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(o.Region)}
	if o.Endpoint != "" {
		loaders = append(loaders, awsconfig.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider("local", "local", "")))
	}
	attempts := o.MaxAttempts
	if attempts == 0 {
		attempts = 3
	}
	loaders = append(loaders, awsconfig.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = attempts
			so.MaxBackoff = 200 * time.Millisecond
		})
	}))
	cfg, err := awsconfig.LoadDefaultConfig(ctx, loaders...)
	if err != nil {
		return nil, fmt.Errorf("load AWS config: %w", err)
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient()
	}
	return dynamodb.NewFromConfig(cfg, func(opts *dynamodb.Options) {
		opts.HTTPClient = hc
		if o.Endpoint != "" {
			opts.BaseEndpoint = aws.String(o.Endpoint)
		}
	}), nil
}

func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 256
	return &http.Client{Transport: t, Timeout: 5 * time.Second}
}

// Counter is an aws.HTTPClient that counts the round trips it makes.
type Counter struct {
	Next aws.HTTPClient
	n    atomic.Int64
}

// Do sends req and counts it.
func (c *Counter) Do(req *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.Next.Do(req)
}

// Count is the number of round trips so far.
func (c *Counter) Count() int64 { return c.n.Load() }

// NewCounter wraps the default HTTP client in a Counter.
func NewCounter() *Counter { return &Counter{Next: defaultHTTPClient()} }

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

// ReasonIs reports whether the i-th cancellation reason has the code.
func ReasonIs(reasons []types.CancellationReason, i int, code string) bool {
	return i < len(reasons) && aws.ToString(reasons[i].Code) == code
}
