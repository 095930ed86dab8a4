package local_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/waickoff/waickoff/infra/local"
	"github.com/waickoff/waickoff/shared/config"
	"github.com/waickoff/waickoff/shared/samtemplate"
)

func template(t *testing.T) *samtemplate.Template {
	t.Helper()
	tpl, _, err := samtemplate.LoadNearest()
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// resolve resolves the whole template for params exactly as a deploy
// would (every parameter checked against its AllowedValues and pattern),
// with the local tables' names.
func resolve(t *testing.T, tpl *samtemplate.Template, params map[string]string) (*samtemplate.Resolved, map[string]string) {
	t.Helper()
	names := map[string]string{}
	for id := range tpl.Tables {
		names[id] = id + "-prod"
	}
	r, err := tpl.Resolve(local.Stack(names, params))
	if err != nil {
		t.Fatal(err)
	}
	return r, names
}

func grants(sts []samtemplate.Statement, action string) bool {
	for _, st := range sts {
		if st.Effect == "Allow" && slices.Contains(st.Action, action) {
			return true
		}
	}
	return false
}

// A Stage=prod stack deployed with default parameters: every function
// sees payments disabled, its table names, and no master key (none is
// configured); deployed with a master key parameter and AllowMasterKey,
// only the authorizer learns its name and may read it.
func TestProdStackAsEachFunctionSeesIt(t *testing.T) {
	tpl := template(t)
	const param = "waickoff/prod/master-key"
	for _, tc := range []struct {
		name       string
		params     map[string]string
		payments   string
		authorizer bool // the authorizer may read the master key
	}{
		{"prod, defaults", map[string]string{"Stage": "prod"}, "disabled", false},
		{"prod, key named but not allowed", map[string]string{"Stage": "prod", "MasterKeySecret": param}, "disabled", false},
		{"prod, key allowed", map[string]string{"Stage": "prod", "MasterKeySecret": param, "AllowMasterKey": "true"}, "disabled", true},
		{"prod, payments chosen", map[string]string{"Stage": "prod", "PaymentsMode": "placeholder"}, "placeholder", false},
		{"dev, defaults", map[string]string{}, "placeholder", false},
		{"dev, key", map[string]string{"MasterKeySecret": param}, "placeholder", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, names := resolve(t, tpl, tc.params)
			for _, fn := range tpl.FunctionIDs() {
				env, err := r.Environment(fn)
				if err != nil {
					t.Fatal(err)
				}
				cfg, err := config.FromEnv(func(k string) string { return env[k] })
				if err != nil {
					t.Fatalf("%s: configuration %v", fn, err)
				}
				if cfg.PaymentsMode != tc.payments {
					t.Errorf("%s: payments %q, want %q", fn, cfg.PaymentsMode, tc.payments)
				}
				if cfg.Tables.APIKeys != names["ApiKeysTable"] || cfg.Tables.Sessions != names["SessionsTable"] ||
					cfg.Tables.Usage != names["UsageTable"] || cfg.Tables.Quotas != names["QuotasTable"] {
					t.Errorf("%s: tables %+v", fn, cfg.Tables)
				}
				isAuth := fn == tpl.DefaultAuthorizer
				wantKey := isAuth && tc.authorizer
				if cfg.MasterKeyEnabled() != wantKey || (cfg.MasterKeySecret == param) != wantKey {
					t.Errorf("%s: master key enabled %v (parameter %q), want %v", fn, cfg.MasterKeyEnabled(), cfg.MasterKeySecret, wantKey)
				}
				for k, v := range env {
					if strings.Contains(k, "MASTER_API_KEY") || (!wantKey && strings.Contains(v, param)) {
						t.Errorf("%s: %s=%q names the master key", fn, k, v)
					}
				}
				sts, err := r.Policies(fn)
				if err != nil {
					t.Fatal(err)
				}
				if g := grants(sts, "secretsmanager:GetSecretValue"); g != wantKey {
					t.Errorf("%s: secretsmanager:GetSecretValue granted %v, want %v", fn, g, wantKey)
				}
				if g := grants(sts, "kms:Decrypt"); g != wantKey {
					t.Errorf("%s: kms:Decrypt granted %v, want %v", fn, g, wantKey)
				}
			}
		})
	}
}

// The template refuses what no deploy may choose.
func TestStackParametersAreChecked(t *testing.T) {
	tpl := template(t)
	for name, params := range map[string]map[string]string{
		"stage":         {"Stage": "local"},
		"payments":      {"PaymentsMode": "free"},
		"key parameter": {"MasterKeySecret": "has spaces"},
		"unknown":       {"MasterApiKey": "wk_x"},
	} {
		if _, err := tpl.Resolve(local.Stack(nil, params)); err == nil {
			t.Errorf("%s: %v resolved", name, params)
		}
	}
}
