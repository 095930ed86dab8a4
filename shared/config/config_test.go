package config_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/waickoff/waickoff/shared/config"
)

func env(over map[string]string) func(string) string {
	base := map[string]string{"API_KEYS_TABLE": "k", "SESSIONS_TABLE": "s", "USAGE_TABLE": "u", "QUOTAS_TABLE": "q"}
	for k, v := range over {
		base[k] = v
	}
	return func(k string) string { return base[k] }
}

func TestDefaults(t *testing.T) {
	c, err := config.FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 3000 || c.Stage != "local" || c.SessionTTL != 24*time.Hour || c.SessionTokenLimit != 100000 ||
		c.DefaultRateLimitPerMinute != 60 || c.PaymentsMode != "placeholder" || c.MaxBodyBytes != 5242880 ||
		c.SessionPriceCents != 100 || len(c.Tiers) != 3 || c.MasterKeyEnabled() || c.LogLevel != slog.LevelInfo {
		t.Fatalf("defaults %+v", c)
	}
}

func TestProdDefaultsAndMasterKey(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		payments   string
		masterKeys bool
	}{
		{"prod refuses master", map[string]string{"STAGE": "prod", "MASTER_KEY_SECRET": "m"}, "disabled", false},
		{"prod allows when told", map[string]string{"STAGE": "prod", "MASTER_KEY_SECRET": "m", "ALLOW_MASTER_KEY": "true"}, "disabled", true},
		{"dev allows", map[string]string{"STAGE": "dev", "MASTER_KEY_SECRET": "m"}, "placeholder", true},
		{"prod placeholder on request", map[string]string{"STAGE": "prod", "PAYMENTS_MODE": "placeholder"}, "placeholder", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.FromEnv(env(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			if c.PaymentsMode != tc.payments || c.MasterKeyEnabled() != tc.masterKeys {
				t.Fatalf("payments %s master %v", c.PaymentsMode, c.MasterKeyEnabled())
			}
		})
	}
}

func TestRejectsBadValues(t *testing.T) {
	for name, over := range map[string]map[string]string{
		"stage":        {"STAGE": "staging"},
		"ttl":          {"SESSION_TTL": "soon"},
		"negative ttl": {"SESSION_TTL": "-1h"},
		"token limit":  {"SESSION_TOKEN_LIMIT": "0"},
		"rate limit":   {"DEFAULT_RATE_LIMIT_PER_MINUTE": "many"},
		"payments":     {"PAYMENTS_MODE": "stripe"},
		"allow master": {"ALLOW_MASTER_KEY": "yes please"},
		"body":         {"MAX_BODY_BYTES": "10"},
		"body over what Lambda's event can carry": {"MAX_BODY_BYTES": "5242881"},
		"port":           {"PORT": "70000"},
		"tiers":          {"BULK_TIERS": "10:10,5:20"},
		"tier discount":  {"BULK_TIERS": "10:100"},
		"missing tables": {"USAGE_TABLE": ""},
		"log level":      {"LOG_LEVEL": "verbose"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := config.FromEnv(env(over)); err == nil {
				t.Fatalf("accepted %v", over)
			}
		})
	}
}

func TestParseTiers(t *testing.T) {
	tiers, err := config.ParseTiers("5:5, 20:15")
	if err != nil || len(tiers) != 2 || tiers[1] != (config.Tier{MinSessions: 20, DiscountPct: 15}) {
		t.Fatalf("%v %v", tiers, err)
	}
	if tiers, err := config.ParseTiers("none"); err != nil || tiers != nil {
		t.Fatalf("none: %v %v", tiers, err)
	}
}

func TestLogLevel(t *testing.T) {
	for raw, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError} {
		c, err := config.FromEnv(env(map[string]string{"LOG_LEVEL": raw}))
		if err != nil || c.LogLevel != want {
			t.Errorf("LOG_LEVEL=%s: %v %v, want %v", raw, c.LogLevel, err, want)
		}
	}
}
