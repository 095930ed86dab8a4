package local

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// answering is an aws.HTTPClient that answers every call itself, naming
// itself in the body.
type answering string

func (a answering) Do(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(string(a)))}, nil
}

// Secrets Manager calls go to the stand-in whatever answers DynamoDB (in
// a benchmark, a store in memory that knows nothing of secrets).
func TestSecretsApart(t *testing.T) {
	c := secretsApart{store: answering("store"), secrets: answering("secrets")}
	for target, want := range map[string]string{
		"secretsmanager.GetSecretValue": "secrets",
		"DynamoDB_20120810.UpdateItem":  "store",
		"":                              "store",
	} {
		r, err := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("X-Amz-Target", target)
		resp, err := c.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := io.ReadAll(resp.Body); string(got) != want {
			t.Errorf("%q went to %s, want %s", target, got, want)
		}
	}
}
