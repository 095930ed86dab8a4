// Package config reads and validates the service configuration from the
// environment, in one place.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/waickoff/waickoff/shared/payload"
)

// Stages the service knows.
const (
	StageLocal = "local"
	StageDev   = "dev"
	StageProd  = "prod"
)

// Payments modes.
const (
	PaymentsPlaceholder = "placeholder"
	PaymentsDisabled    = "disabled"
)

// Tables names the four DynamoDB tables.
type Tables struct {
	APIKeys  string
	Sessions string
	Usage    string
	Quotas   string
}

// Tier is a bulk discount: buying at least MinSessions sessions takes
// DiscountPct percent off the unit price.
type Tier struct {
	MinSessions int `json:"min_sessions"`
	DiscountPct int `json:"discount_pct"`
}

// Config is the validated service configuration.
type Config struct {
	Port  int
	Stage string
	// MasterKeySecret names the Secrets Manager secret holding the
	// operator key; only the authorizer is given it (template.yaml).
	MasterKeySecret           string
	AllowMasterKey            bool
	MasterRateLimitPerMinute  int
	SessionTTL                time.Duration
	SessionTokenLimit         int64
	DefaultRateLimitPerMinute int
	PaymentsMode              string
	MaxBodyBytes              int64
	DynamoDBEndpoint          string
	Region                    string
	Tables                    Tables
	SessionPriceCents         int64
	Tiers                     []Tier
	Version                   string
	// LogLevel is the lowest level the JSON logs keep.
	LogLevel slog.Level
}

// MasterKeyEnabled reports whether the master key may be used at all: a
// secret names it, and the stage is not prod unless AllowMasterKey.
func (c Config) MasterKeyEnabled() bool {
	if c.MasterKeySecret == "" {
		return false
	}
	return c.Stage != StageProd || c.AllowMasterKey
}

// Version is the service version reported by the health endpoint; the
// build may override it with -ldflags "-X .../config.version=...".
var version = "0.1.0"

// FromEnv reads the configuration through getenv (os.Getenv in main) and
// validates every value. It returns an error naming each bad variable.
func FromEnv(getenv func(string) string) (Config, error) {
	var errs []error
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	intVar := func(name string, def, min, max int64) int64 {
		raw := get(name, strconv.FormatInt(def, 10))
		v, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || v < min || v > max {
			errs = append(errs, fmt.Errorf("%s: want an integer in [%d, %d], got %q", name, min, max, raw))
			return def
		}
		return v
	}
	c := Config{Version: version}
	c.Port = int(intVar("PORT", 3000, 0, 65535))
	c.Stage = get("STAGE", StageLocal)
	switch c.Stage {
	case StageLocal, StageDev, StageProd:
	default:
		errs = append(errs, fmt.Errorf("STAGE: want local, dev or prod, got %q", c.Stage))
	}
	c.MasterKeySecret = get("MASTER_KEY_SECRET", "")
	switch raw := get("ALLOW_MASTER_KEY", "false"); raw {
	case "true", "1":
		c.AllowMasterKey = true
	case "false", "0":
	default:
		errs = append(errs, fmt.Errorf("ALLOW_MASTER_KEY: want true or false, got %q", raw))
	}
	ttl, err := time.ParseDuration(get("SESSION_TTL", "24h"))
	if err != nil || ttl <= 0 {
		errs = append(errs, fmt.Errorf("SESSION_TTL: want a positive Go duration, got %q", getenv("SESSION_TTL")))
		ttl = 24 * time.Hour
	}
	c.SessionTTL = ttl
	c.SessionTokenLimit = intVar("SESSION_TOKEN_LIMIT", 100000, 1, 1<<40)
	c.DefaultRateLimitPerMinute = int(intVar("DEFAULT_RATE_LIMIT_PER_MINUTE", 60, 1, MaxRateLimitPerMinute))
	c.MasterRateLimitPerMinute = int(intVar("MASTER_RATE_LIMIT_PER_MINUTE", 60, 1, MaxRateLimitPerMinute))
	defPayments := PaymentsPlaceholder
	if c.Stage == StageProd {
		defPayments = PaymentsDisabled
	}
	c.PaymentsMode = get("PAYMENTS_MODE", defPayments)
	if c.PaymentsMode != PaymentsPlaceholder && c.PaymentsMode != PaymentsDisabled {
		errs = append(errs, fmt.Errorf("PAYMENTS_MODE: want placeholder or disabled, got %q", c.PaymentsMode))
	}
	// Counted as Lambda's event carries the body; at most what always
	// fits Lambda's invoke limit with the event around it.
	c.MaxBodyBytes = intVar("MAX_BODY_BYTES", payload.MaxBody, 1024, payload.MaxBody)
	c.DynamoDBEndpoint = get("DYNAMODB_ENDPOINT", "")
	c.Region = get("AWS_REGION", get("AWS_DEFAULT_REGION", "us-east-1"))
	// Table names come from the template (!Ref in Lambda, the local
	// gateway sets them from the same template); there is no default.
	table := func(name string) string {
		v := get(name, "")
		if v == "" {
			errs = append(errs, fmt.Errorf("%s: a table name is required", name))
		}
		return v
	}
	c.Tables = Tables{
		APIKeys:  table("API_KEYS_TABLE"),
		Sessions: table("SESSIONS_TABLE"),
		Usage:    table("USAGE_TABLE"),
		Quotas:   table("QUOTAS_TABLE"),
	}
	c.SessionPriceCents = intVar("SESSION_PRICE_CENTS", 100, 1, 1_000_000)
	tiers, err := ParseTiers(get("BULK_TIERS", "10:10,50:20,100:30"))
	if err != nil {
		errs = append(errs, fmt.Errorf("BULK_TIERS: %w", err))
	}
	c.Tiers = tiers
	if raw := get("LOG_LEVEL", "info"); c.LogLevel.UnmarshalText([]byte(raw)) != nil {
		errs = append(errs, fmt.Errorf("LOG_LEVEL: want debug, info, warn or error, got %q", raw))
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}
	return c, nil
}

// MaxRateLimitPerMinute bounds any key's rate limit: what one DynamoDB
// item can carry (DESIGN.md, "Hot items"). A key's busiest item is its
// usage summary, written in a transaction (2 write units) by every
// request; an item takes about 1,000 write units a second, so 500
// requests a second at most, and 400 (24,000 a minute, 800 units) leaves
// a fifth for the rest.
const MaxRateLimitPerMinute = 24000

// An account's keys are self-service, so the account's own figures bound
// them (DESIGN.md, "Keys per account"): at most MaxKeysPerAccount keys
// not revoked, and the sum of their rate limits at most
// MaxAccountRateLimitPerMinute. Every metered charge of an account writes
// its one active session item in a transaction (2 write units), so an
// account's metered traffic tops out at 500 requests a second whatever
// its keys say; 400 (24,000 a minute, 800 units) leaves the same fifth as
// the key maximum (a key at the maximum takes the whole budget).
const (
	MaxKeysPerAccount            = 20
	MaxAccountRateLimitPerMinute = 24000
)

// ParseTiers reads "min:pct,min:pct" (for example "10:10,50:20,100:30").
// It returns an error unless minimums strictly increase and discounts lie
// in [0, 100) and do not decrease.
func ParseTiers(raw string) ([]Tier, error) {
	var tiers []Tier
	if strings.TrimSpace(raw) == "" || raw == "none" {
		return nil, nil
	}
	for _, part := range strings.Split(raw, ",") {
		minRaw, pctRaw, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			return nil, fmt.Errorf("tier %q: want min:pct", part)
		}
		min, err1 := strconv.Atoi(minRaw)
		pct, err2 := strconv.Atoi(pctRaw)
		if err1 != nil || err2 != nil || min < 1 || pct < 0 || pct >= 100 {
			return nil, fmt.Errorf("tier %q: want a positive minimum and a discount in [0, 100)", part)
		}
		if n := len(tiers); n > 0 && (min <= tiers[n-1].MinSessions || pct < tiers[n-1].DiscountPct) {
			return nil, fmt.Errorf("tier %q: minimums must increase and discounts must not decrease", part)
		}
		tiers = append(tiers, Tier{MinSessions: min, DiscountPct: pct})
	}
	return tiers, nil
}
