package samtemplate_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/waickoff/waickoff/shared/samtemplate"
)

func load(t *testing.T) *samtemplate.Template {
	t.Helper()
	tpl, _, err := samtemplate.LoadNearest()
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestTemplateShape(t *testing.T) {
	tpl := load(t)
	if tpl.DefaultAuthorizer != "AuthorizerFunction" || tpl.ReauthorizeEvery != 0 {
		t.Errorf("authorizer %q every %d", tpl.DefaultAuthorizer, tpl.ReauthorizeEvery)
	}
	for _, id := range []string{"ApiKeysTable", "SessionsTable", "UsageTable", "QuotasTable"} {
		tab, ok := tpl.Tables[id]
		if !ok || tab.BillingMode != "PAY_PER_REQUEST" || !tab.PITR || !tab.SSE || tab.HashKey != "pk" || tab.RangeKey != "sk" {
			t.Errorf("table %s: %+v", id, tab)
		}
	}
	if s := tpl.Tables["SessionsTable"]; s.StreamView == "" || s.TTLAttribute != "ttl" {
		t.Errorf("sessions table needs a stream and a TTL: %+v", s)
	}
	for env, table := range map[string]string{"API_KEYS_TABLE": "ApiKeysTable", "SESSIONS_TABLE": "SessionsTable", "USAGE_TABLE": "UsageTable", "QUOTAS_TABLE": "QuotasTable"} {
		if got := tpl.Environment[env]; got.Ref != table {
			t.Errorf("%s = %+v, want !Ref %s", env, got, table)
		}
	}
	exp := tpl.Functions["SessionExpiryFunction"]
	if len(exp.Streams) != 1 || exp.Streams[0].Table != "SessionsTable" || !exp.Streams[0].ReportBatchFailures ||
		!exp.Streams[0].BisectOnFunctionErr || len(exp.Streams[0].FilterPatterns) != 1 {
		t.Errorf("stream mapping %+v", exp.Streams)
	}
	if rec := tpl.Functions["QuotaReconcileFunction"]; len(rec.Schedules) != 1 || rec.Schedules[0].Expression != "rate(1 hour)" {
		t.Errorf("schedule %+v", rec.Schedules)
	}
	public := map[string]bool{}
	for _, r := range tpl.Routes() {
		if r.Public {
			public[r.Pattern()] = true
		}
	}
	wantPublic := map[string]bool{"GET /api/v1/health": true, "GET /api/v1/pricing": true, "GET /api/v1/openapi.json": true,
		"GET /api/v1/docs": true, "GET /api/v1/docs/{file}": true,
		"GET /dashboard": true, "GET /dashboard/{file}": true}
	if !reflect.DeepEqual(public, wantPublic) {
		t.Errorf("public routes %v, want %v", public, wantPublic)
	}
	for _, typ := range []string{"UNAUTHORIZED", "ACCESS_DENIED", "AUTHORIZER_FAILURE", "MISSING_AUTHENTICATION_TOKEN", "REQUEST_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "THROTTLED", "DEFAULT_4XX", "DEFAULT_5XX"} {
		gr, ok := tpl.GatewayResponses[typ]
		if !ok || gr.Status == 0 || gr.Body == "" || gr.Headers["Content-Type"] != "application/problem+json" {
			t.Errorf("gateway response %s: %+v", typ, gr)
		}
	}
}

func TestParseKeepsIntrinsicRefs(t *testing.T) {
	src := []byte(`
Globals:
  Function:
    Environment:
      Variables:
        A: !Ref T
        B: plain
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
  F:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        S:
          Type: DynamoDB
          Properties:
            Stream: !GetAtt T.StreamArn
`)
	tpl, err := samtemplate.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	if tpl.Environment["A"].Ref != "T" || tpl.Environment["B"].Literal != "plain" {
		t.Errorf("env %+v", tpl.Environment)
	}
	if s := tpl.Functions["F"].Streams; len(s) != 1 || s[0].Table != "T" {
		t.Errorf("streams %+v", s)
	}
	if _, err := samtemplate.Parse([]byte("Resources: [")); err == nil {
		t.Error("bad YAML accepted")
	}
}

// The stage throttles and logs every request, and ACCESS_DENIED (the
// authorizer's denial of a key over its limit) is the 429 with the
// limit's headers from the authorizer's context.
func TestStageThrottleAndRateLimitResponse(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources struct {
			Api struct {
				Properties struct {
					MethodSettings []struct {
						ResourcePath         string `yaml:"ResourcePath"`
						ThrottlingRateLimit  any    `yaml:"ThrottlingRateLimit"`
						ThrottlingBurstLimit any    `yaml:"ThrottlingBurstLimit"`
					} `yaml:"MethodSettings"`
					AccessLogSetting struct {
						DestinationArn any    `yaml:"DestinationArn"`
						Format         string `yaml:"Format"`
					} `yaml:"AccessLogSetting"`
				} `yaml:"Properties"`
			} `yaml:"Api"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	p := doc.Resources.Api.Properties
	if len(p.MethodSettings) != 1 || p.MethodSettings[0].ResourcePath != "/*" || p.MethodSettings[0].ThrottlingRateLimit == nil ||
		p.MethodSettings[0].ThrottlingBurstLimit == nil {
		t.Errorf("stage throttling %+v", p.MethodSettings)
	}
	for _, v := range []string{"$context.status", "$context.authorizer.key_id", "$context.requestId"} {
		if p.AccessLogSetting.DestinationArn == nil || !strings.Contains(p.AccessLogSetting.Format, v) {
			t.Errorf("access log %+v lacks %s", p.AccessLogSetting, v)
		}
	}
	gr := load(t).GatewayResponses["ACCESS_DENIED"]
	if gr.Status != 429 || !strings.Contains(gr.Body, `"code":"rate_limited"`) || gr.Mapped["Retry-After"] != "context.authorizer.retry_after" ||
		gr.Mapped["RateLimit-Remaining"] != "context.authorizer.rate_remaining" {
		t.Errorf("ACCESS_DENIED %+v", gr)
	}
}

func TestTimeouts(t *testing.T) {
	tpl := load(t)
	if got := tpl.Functions["HealthFunction"].Timeout; got != 10*time.Second {
		t.Errorf("HealthFunction timeout %v, want the Globals 10s", got)
	}
	if got := tpl.Functions["QuotaReconcileFunction"].Timeout; got != 300*time.Second {
		t.Errorf("QuotaReconcileFunction timeout %v, want its own 300s", got)
	}
}

func TestPolicies(t *testing.T) {
	tpl := load(t)
	got := tpl.Functions["AuthorizerFunction"].Policies
	want := []samtemplate.Policy{{Template: "Statement"}, {Template: "Statement"}}
	if len(got) != len(want) || !reflect.DeepEqual(got, want) {
		t.Fatalf("authorizer policies %+v, want %+v", got, want)
	}
	for _, src := range []string{
		"Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n        - DynamoDBCrudPolicy: {TableName: literal-name}\n",
		"Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n        - [a, b]\n",
	} {
		if _, err := samtemplate.Parse([]byte(src)); err == nil {
			t.Errorf("accepted %q", src)
		}
	}
	tpl2, err := samtemplate.Parse([]byte("Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Policies:\n        - AWSLambdaBasicExecutionRole\n"))
	if err != nil || len(tpl2.Functions["F"].Policies) != 1 || tpl2.Functions["F"].Policies[0] != (samtemplate.Policy{Template: "AWSLambdaBasicExecutionRole"}) {
		t.Fatalf("managed policy: %+v %v", tpl2, err)
	}
}

// Nothing the stream drops goes unseen: records that run out of retries
// (bisected down to the failing one, reported one by one) go to an SQS
// queue, and an alarm fires as soon as the queue holds a message.
func TestStreamFailuresGoToAnAlarmedQueue(t *testing.T) {
	tpl := load(t)
	exp := tpl.Functions["SessionExpiryFunction"]
	if len(exp.Streams) != 1 {
		t.Fatalf("stream mappings %+v", exp.Streams)
	}
	st := exp.Streams[0]
	if st.OnFailureType != "SQS" || tpl.ResourceType(st.OnFailure) != "AWS::SQS::Queue" {
		t.Fatalf("on-failure destination %q (%s, a %q), want an SQS queue of the template", st.OnFailure, st.OnFailureType,
			tpl.ResourceType(st.OnFailure))
	}
	if st.MaximumRetryAttempts < 1 || st.MaximumRetryAttempts > 10 || !st.BisectOnFunctionErr || !st.ReportBatchFailures {
		t.Fatalf("retries %d, bisect %v, partial batch failures %v", st.MaximumRetryAttempts, st.BisectOnFunctionErr, st.ReportBatchFailures)
	}
	_, root, err := samtemplate.LoadNearest()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			Type       string    `yaml:"Type"`
			Properties yaml.Node `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var queue struct {
		MessageRetentionPeriod int  `yaml:"MessageRetentionPeriod"`
		SqsManagedSseEnabled   bool `yaml:"SqsManagedSseEnabled"`
	}
	q := doc.Resources[st.OnFailure].Properties
	if err := q.Decode(&queue); err != nil || queue.MessageRetentionPeriod != 14*24*3600 ||
		!queue.SqsManagedSseEnabled {
		t.Errorf("queue %s: %+v %v, want 14 days' retention, encrypted", st.OnFailure, queue, err)
	}
	alarmed := false
	for id, r := range doc.Resources {
		if r.Type != "AWS::CloudWatch::Alarm" {
			continue
		}
		var a struct {
			Namespace          string  `yaml:"Namespace"`
			MetricName         string  `yaml:"MetricName"`
			Statistic          string  `yaml:"Statistic"`
			ComparisonOperator string  `yaml:"ComparisonOperator"`
			Threshold          float64 `yaml:"Threshold"`
			EvaluationPeriods  int     `yaml:"EvaluationPeriods"`
			Dimensions         []struct {
				Name  string    `yaml:"Name"`
				Value yaml.Node `yaml:"Value"`
			} `yaml:"Dimensions"`
		}
		if err := r.Properties.Decode(&a); err != nil {
			t.Fatalf("alarm %s: %v", id, err)
		}
		if a.Namespace != "AWS/SQS" || len(a.Dimensions) != 1 || a.Dimensions[0].Name != "QueueName" ||
			a.Dimensions[0].Value.Tag != "!GetAtt" || a.Dimensions[0].Value.Value != st.OnFailure+".QueueName" {
			continue
		}
		alarmed = a.MetricName == "ApproximateNumberOfMessagesVisible" && a.ComparisonOperator == "GreaterThanThreshold" &&
			a.Threshold == 0 && a.EvaluationPeriods == 1 && a.Statistic == "Maximum"
		if !alarmed {
			t.Errorf("alarm %s on the queue: %+v, want Maximum ApproximateNumberOfMessagesVisible > 0 over one period", id, a)
		}
	}
	if !alarmed {
		t.Errorf("no alarm on %s's ApproximateNumberOfMessagesVisible", st.OnFailure)
	}
}
