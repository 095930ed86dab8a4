package secretstore_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/waickoff/waickoff/infra/iam"
	"github.com/waickoff/waickoff/infra/secretstore"
	"github.com/waickoff/waickoff/shared/masterkey"
	"github.com/waickoff/waickoff/shared/samtemplate"
)

// The master key is read through the SDK's Secrets Manager client from
// the stand-in: in the key format, and only by a role granted
// secretsmanager:GetSecretValue on that secret.
func TestMasterKeyThroughTheSecretsManagerClient(t *testing.T) {
	good := "wk_" + strings.Repeat("k", 43)
	store := secretstore.New("us-east-1", "123456789012")
	store.Put("app/good", good)
	store.Put("app/short", "wk_"+strings.Repeat("k", 39))
	store.Put("app/plus", "wk_"+strings.Repeat("k", 40)+"+")
	srv := httptest.NewServer(store)
	defer srv.Close()

	prefix := "arn:aws:secretsmanager:us-east-1:123456789012:secret:"
	grant := samtemplate.Statement{Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"},
		Resource: []string{prefix + "app/good-??????", prefix + "app/short-??????", prefix + "app/plus-??????", prefix + "app/none-??????"}}
	client := func(sts ...samtemplate.Statement) masterkey.Getter {
		guard, err := iam.New("F", iam.Policy{Statements: sts, SecretARN: store.ARN,
			TableARN: func(n string) string { return n }}, srv.Client())
		if err != nil {
			t.Fatal(err)
		}
		c, err := masterkey.NewClient(masterkey.Options{Region: "us-east-1", Endpoint: srv.URL, HTTPClient: guard}, func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ctx := context.Background()
	got, err := masterkey.Load(ctx, client(grant), "app/good")
	if err != nil || got != good {
		t.Fatalf("Load = %q, %v", got, err)
	}
	if got, err := masterkey.Load(ctx, client(grant), store.ARN("app/good")); err != nil || got != good {
		t.Fatalf("Load by ARN = %q, %v", got, err)
	}
	for _, name := range []string{"app/short", "app/plus", "app/none"} {
		if _, err := masterkey.Load(ctx, client(grant), name); err == nil {
			t.Errorf("%s: loaded", name)
		} else if strings.Contains(err.Error(), "kkkk") {
			t.Errorf("%s: the error shows the value: %v", name, err)
		}
	}
	// A role without the grant (every function but the authorizer) is
	// refused, as IAM refuses it.
	other := samtemplate.Statement{Effect: "Allow", Action: []string{"secretsmanager:GetSecretValue"}, Resource: []string{prefix + "app/other-??????"}}
	for _, c := range []masterkey.Getter{client(), client(other)} {
		if _, err := masterkey.Load(ctx, c, "app/good"); err == nil || !strings.Contains(err.Error(), "AccessDenied") {
			t.Errorf("read without the grant: %v", err)
		}
	}
}
