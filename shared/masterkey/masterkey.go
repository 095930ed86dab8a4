// Package masterkey reads the operator (master) key from AWS Secrets
// Manager: only the authorizer is told the secret's name (template.yaml,
// MASTER_KEY_SECRET) and only its role may read it. The authorizer reads
// it once, at init; a key that cannot be read or is not in the key format
// stops the authorizer from starting (it fails closed: no request is
// admitted by a function that could not check the master key).
//
// The call is Secrets Manager's GetSecretValue, signed with the SDK's
// SigV4 signer (which the DynamoDB client links anyway): the service
// clients of the SDK cost the authorizer's bootstrap 0.25 MiB (Secrets
// Manager) or 1.2 MiB (SSM), over the size goal tests/lambdasize holds
// it to, for one call. The secret is encrypted at rest with KMS and
// readable only under an IAM grant.
//
// Only shared/app/authorize (the authorizer's wiring) imports this
// package, so no other Lambda links the Secrets Manager client.
package masterkey

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/waickoff/waickoff/shared/apikey"
)

// Getter reads the current value of a secret (Client).
type Getter interface {
	GetSecretValue(ctx context.Context, id string) (string, error)
}

var _ Getter = (*Client)(nil)

// Load reads the current version of the secret name (its SecretString)
// and checks the key's format. Errors never hold the value.
func Load(ctx context.Context, g Getter, name string) (string, error) {
	v, err := g.GetSecretValue(ctx, name)
	if err != nil {
		return "", fmt.Errorf("masterkey: read secret %s: %w", name, err)
	}
	if err := apikey.CheckMaster(v); err != nil {
		return "", fmt.Errorf("masterkey: secret %s: %w", name, err)
	}
	return v, nil
}

// FromEnv reads the secret with a client for the region and the
// credentials in the environment (Lambda sets both for the function's
// role).
func FromEnv(ctx context.Context, name string) (string, error) {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	c, err := NewClient(Options{Region: region}, os.Getenv)
	if err != nil {
		return "", err
	}
	return Load(ctx, c, name)
}

// Options configure the client.
type Options struct {
	Region string
	// Endpoint overrides the service endpoint (the local run's stand-in).
	Endpoint   string
	HTTPClient aws.HTTPClient
}

// Client calls Secrets Manager's GetSecretValue.
type Client struct {
	region, endpoint string
	creds            aws.CredentialsProvider
	http             aws.HTTPClient
	signer           *v4.Signer
}

// NewClient returns a client with the credentials in the environment,
// read through getenv.
func NewClient(o Options, getenv func(string) string) (*Client, error) {
	if o.Region == "" {
		return nil, errors.New("masterkey: a region is required")
	}
	id, secret, token := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SESSION_TOKEN")
	if id == "" || secret == "" {
		if o.Endpoint == "" {
			return nil, errors.New("masterkey: no AWS credentials in the environment")
		}
		id, secret, token = "local", "local", ""
	}
	c := &Client{region: o.Region, endpoint: o.Endpoint, http: o.HTTPClient, signer: v4.NewSigner(),
		creds: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, token))}
	if c.endpoint == "" {
		c.endpoint = "https://secretsmanager." + o.Region + ".amazonaws.com"
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 3 * time.Second}
	}
	return c, nil
}

// attempts bounds the tries of one read (a network error or a 5xx).
const attempts = 3

// GetSecretValue returns the SecretString of the secret's current
// version.
func (c *Client) GetSecretValue(ctx context.Context, id string) (string, error) {
	body, _ := json.Marshal(map[string]string{"SecretId": id})
	var last error
	for i := range attempts {
		if i > 0 {
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(time.Duration(50<<i) * time.Millisecond):
			}
		}
		v, retry, err := c.get(ctx, body)
		if err == nil || !retry {
			return v, err
		}
		last = err
	}
	return "", last
}

func (c *Client) get(ctx context.Context, body []byte) (value string, retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return "", false, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return "", false, fmt.Errorf("credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "secretsmanager", c.region, time.Now()); err != nil {
		return "", false, fmt.Errorf("sign: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", true, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", true, err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(raw, &e)
		return "", resp.StatusCode >= 500, fmt.Errorf("secretsmanager: %d %s: %s", resp.StatusCode, e.Type, e.Message)
	}
	var out struct {
		SecretString *string
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", false, fmt.Errorf("secretsmanager: unreadable answer: %w", err)
	}
	if out.SecretString == nil {
		return "", false, errors.New("secretsmanager: the secret holds no string")
	}
	return *out.SecretString, false, nil
}
