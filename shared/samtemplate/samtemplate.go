// Package samtemplate reads the parts of template.yaml (AWS SAM) that the
// local gateway and the tests need: routes, functions, tables, schedules
// and the functions' environment. It is the only reader of the template,
// so no route or table is written twice.
package samtemplate

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Template is the decoded template.
type Template struct {
	Functions map[string]Function
	Tables    map[string]Table
	// Environment is the Globals environment: name to a Value.
	Environment map[string]Value
	// Parameters are the template parameters with their defaults.
	Parameters map[string]string
	// DefaultAuthorizer is the logical ID of the API's default authorizer
	// function ("" when none).
	DefaultAuthorizer string
	// ReauthorizeEvery is the authorizer cache TTL in seconds.
	ReauthorizeEvery int
	// GatewayResponses maps a response type (UNAUTHORIZED, ...) to its
	// status and body.
	GatewayResponses map[string]GatewayResponse

	// The raw pieces Resolve evaluates (resolve.go).
	globalEnv  map[string]yaml.Node
	conditions map[string]yaml.Node
	paramSpecs map[string]ParameterSpec
	resources  map[string]string // logical ID -> resource type
}

// Value is an environment value: a literal, or a !Ref to a resource or
// parameter.
type Value struct {
	Literal string
	Ref     string
}

// Function is one AWS::Serverless::Function.
type Function struct {
	LogicalID string
	// Timeout is the function's timeout (its own, else the Globals one).
	Timeout     time.Duration
	BuildMethod string
	CodeURI     string
	Routes      []Route
	Streams     []Stream
	Schedules   []Schedule
	// Policies are the function's Policies, in template order.
	Policies []Policy

	// env is the function's own Environment.Variables and policies its
	// Policies nodes (resolve.go, policy.go).
	env      map[string]yaml.Node
	policies []yaml.Node
}

// Policy is one entry of a function's Policies: a SAM policy template
// (DynamoDBCrudPolicy, ...) with the logical ID of the table its TableName
// refers to (a !Ref), a managed policy's name with no table, or an inline
// policy document (Template "Statement", also under a !If).
type Policy struct {
	Template string
	Table    string
}

// Route is an Api event.
type Route struct {
	Function string
	// Timeout is the function's timeout.
	Timeout time.Duration
	Method  string
	Path    string
	// Public is true when the route opts out of the authorizer.
	Public bool
}

// Pattern is the route as a net/http ServeMux pattern.
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// Stream is a DynamoDB stream event.
type Stream struct {
	Table                string
	FilterPatterns       []string
	ReportBatchFailures  bool
	BisectOnFunctionErr  bool
	MaximumRetryAttempts int
	BatchSize            int
	// OnFailure is the logical ID of the resource the records that run
	// out of retries go to (DestinationConfig.OnFailure.Destination, a
	// !GetAtt <id>.Arn), OnFailureType its Type (SQS, ...); empty when
	// such records are dropped.
	OnFailure, OnFailureType string
}

// Schedule is a Schedule event, e.g. "rate(1 hour)".
type Schedule struct {
	Name       string
	Expression string
}

// Table is an AWS::DynamoDB::Table.
type Table struct {
	LogicalID    string
	Attributes   map[string]string // name -> S, N or B
	HashKey      string
	RangeKey     string
	GSIs         []Index
	TTLAttribute string
	StreamView   string
	BillingMode  string
	PITR         bool
	SSE          bool
}

// Index is a global secondary index.
type Index struct {
	Name     string
	HashKey  string
	RangeKey string
}

// Load reads and decodes the template at path.
func Load(path string) (*Template, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return t, nil
}

// LoadNearest loads the template.yaml found from the working directory
// upward (tests and the local run use it) and returns it with the
// directory holding it, the repository root.
func LoadNearest() (*Template, string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, "", fmt.Errorf("working directory: %w", err)
	}
	p, err := Find(wd)
	if err != nil {
		return nil, "", err
	}
	t, err := Load(p)
	if err != nil {
		return nil, "", err
	}
	return t, filepath.Dir(p), nil
}

// Find walks up from dir to the directory holding template.yaml and
// returns the template's path.
func Find(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "template.yaml")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no template.yaml above %s", dir)
		}
	}
}

type rawTemplate struct {
	Parameters map[string]struct {
		Type           string    `yaml:"Type"`
		Default        yaml.Node `yaml:"Default"`
		AllowedValues  []string  `yaml:"AllowedValues"`
		AllowedPattern string    `yaml:"AllowedPattern"`
		NoEcho         bool      `yaml:"NoEcho"`
	} `yaml:"Parameters"`
	Conditions map[string]yaml.Node `yaml:"Conditions"`
	Globals    struct {
		Function struct {
			Timeout     int `yaml:"Timeout"`
			Environment struct {
				Variables map[string]yaml.Node `yaml:"Variables"`
			} `yaml:"Environment"`
		} `yaml:"Function"`
	} `yaml:"Globals"`
	Resources map[string]struct {
		Type       string    `yaml:"Type"`
		Metadata   yaml.Node `yaml:"Metadata"`
		Properties yaml.Node `yaml:"Properties"`
	} `yaml:"Resources"`
}

type rawFunction struct {
	Environment struct {
		Variables map[string]yaml.Node `yaml:"Variables"`
	} `yaml:"Environment"`
	CodeURI  string      `yaml:"CodeUri"`
	Timeout  int         `yaml:"Timeout"`
	Policies []yaml.Node `yaml:"Policies"`
	Events   map[string]struct {
		Type       string    `yaml:"Type"`
		Properties yaml.Node `yaml:"Properties"`
	} `yaml:"Events"`
}

type rawAPIEvent struct {
	Path   string `yaml:"Path"`
	Method string `yaml:"Method"`
	Auth   struct {
		Authorizer string `yaml:"Authorizer"`
	} `yaml:"Auth"`
}

type rawStreamEvent struct {
	Stream                     yaml.Node `yaml:"Stream"`
	BatchSize                  int       `yaml:"BatchSize"`
	MaximumRetryAttempts       int       `yaml:"MaximumRetryAttempts"`
	BisectBatchOnFunctionError bool      `yaml:"BisectBatchOnFunctionError"`
	FunctionResponseTypes      []string  `yaml:"FunctionResponseTypes"`
	FilterCriteria             struct {
		Filters []struct {
			Pattern string `yaml:"Pattern"`
		} `yaml:"Filters"`
	} `yaml:"FilterCriteria"`
	DestinationConfig struct {
		OnFailure struct {
			Destination yaml.Node `yaml:"Destination"`
			Type        string    `yaml:"Type"`
		} `yaml:"OnFailure"`
	} `yaml:"DestinationConfig"`
}

type rawAPI struct {
	Auth struct {
		DefaultAuthorizer string `yaml:"DefaultAuthorizer"`
		Authorizers       map[string]struct {
			FunctionArn yaml.Node `yaml:"FunctionArn"`
			Identity    struct {
				ReauthorizeEvery int `yaml:"ReauthorizeEvery"`
			} `yaml:"Identity"`
		} `yaml:"Authorizers"`
	} `yaml:"Auth"`
	GatewayResponses map[string]struct {
		StatusCode         int `yaml:"StatusCode"`
		ResponseParameters struct {
			Headers map[string]string `yaml:"Headers"`
		} `yaml:"ResponseParameters"`
		ResponseTemplates map[string]string `yaml:"ResponseTemplates"`
	} `yaml:"GatewayResponses"`
}

// GatewayResponse is one of API Gateway's own answers.
type GatewayResponse struct {
	Status int
	Body   string
	// Headers holds the static headers ('quoted' literals in the template).
	Headers map[string]string
	// Mapped holds the headers mapped from a context variable
	// ("context.requestId", "context.authorizer.retry_after"), by header.
	Mapped map[string]string
}

type rawTable struct {
	BillingMode                      string `yaml:"BillingMode"`
	PointInTimeRecoverySpecification struct {
		PointInTimeRecoveryEnabled bool `yaml:"PointInTimeRecoveryEnabled"`
	} `yaml:"PointInTimeRecoverySpecification"`
	SSESpecification struct {
		SSEEnabled bool `yaml:"SSEEnabled"`
	} `yaml:"SSESpecification"`
	AttributeDefinitions []struct {
		AttributeName string `yaml:"AttributeName"`
		AttributeType string `yaml:"AttributeType"`
	} `yaml:"AttributeDefinitions"`
	KeySchema              []keyElem `yaml:"KeySchema"`
	GlobalSecondaryIndexes []struct {
		IndexName string    `yaml:"IndexName"`
		KeySchema []keyElem `yaml:"KeySchema"`
	} `yaml:"GlobalSecondaryIndexes"`
	TimeToLiveSpecification struct {
		AttributeName string `yaml:"AttributeName"`
		Enabled       bool   `yaml:"Enabled"`
	} `yaml:"TimeToLiveSpecification"`
	StreamSpecification struct {
		StreamViewType string `yaml:"StreamViewType"`
	} `yaml:"StreamSpecification"`
}

type keyElem struct {
	AttributeName string `yaml:"AttributeName"`
	KeyType       string `yaml:"KeyType"`
}

func keys(ks []keyElem) (hash, rng string) {
	for _, k := range ks {
		switch k.KeyType {
		case "HASH":
			hash = k.AttributeName
		case "RANGE":
			rng = k.AttributeName
		}
	}
	return hash, rng
}

// Parse decodes template bytes.
func Parse(raw []byte) (*Template, error) {
	var rt rawTemplate
	if err := yaml.Unmarshal(raw, &rt); err != nil {
		return nil, fmt.Errorf("decode yaml: %w", err)
	}
	t := &Template{
		Functions:        map[string]Function{},
		Tables:           map[string]Table{},
		Environment:      map[string]Value{},
		Parameters:       map[string]string{},
		GatewayResponses: map[string]GatewayResponse{},
		globalEnv:        rt.Globals.Function.Environment.Variables,
		conditions:       rt.Conditions,
		paramSpecs:       map[string]ParameterSpec{},
		resources:        map[string]string{},
	}
	for name, p := range rt.Parameters {
		t.Parameters[name] = p.Default.Value
		t.paramSpecs[name] = ParameterSpec{Type: p.Type, Default: p.Default.Value, HasDefault: !p.Default.IsZero(),
			AllowedValues: p.AllowedValues, AllowedPattern: p.AllowedPattern, NoEcho: p.NoEcho}
	}
	for name, n := range rt.Globals.Function.Environment.Variables {
		t.Environment[name] = nodeValue(n)
	}
	for id, res := range rt.Resources {
		t.resources[id] = res.Type
		switch res.Type {
		case "AWS::Serverless::Function":
			f, err := parseFunction(id, res.Metadata, res.Properties)
			if err != nil {
				return nil, err
			}
			if f.Timeout == 0 {
				f.Timeout = time.Duration(rt.Globals.Function.Timeout) * time.Second
			}
			t.Functions[id] = f
		case "AWS::DynamoDB::Table":
			var rtab rawTable
			if err := res.Properties.Decode(&rtab); err != nil {
				return nil, fmt.Errorf("table %s: %w", id, err)
			}
			tab := Table{LogicalID: id, Attributes: map[string]string{}, BillingMode: rtab.BillingMode,
				PITR: rtab.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled,
				SSE:  rtab.SSESpecification.SSEEnabled, StreamView: rtab.StreamSpecification.StreamViewType}
			for _, a := range rtab.AttributeDefinitions {
				tab.Attributes[a.AttributeName] = a.AttributeType
			}
			tab.HashKey, tab.RangeKey = keys(rtab.KeySchema)
			for _, g := range rtab.GlobalSecondaryIndexes {
				h, r := keys(g.KeySchema)
				tab.GSIs = append(tab.GSIs, Index{Name: g.IndexName, HashKey: h, RangeKey: r})
			}
			if rtab.TimeToLiveSpecification.Enabled {
				tab.TTLAttribute = rtab.TimeToLiveSpecification.AttributeName
			}
			t.Tables[id] = tab
		case "AWS::Serverless::Api":
			var api rawAPI
			if err := res.Properties.Decode(&api); err != nil {
				return nil, fmt.Errorf("api %s: %w", id, err)
			}
			if name := api.Auth.DefaultAuthorizer; name != "" {
				a, ok := api.Auth.Authorizers[name]
				if !ok {
					return nil, fmt.Errorf("api %s: default authorizer %s is not defined", id, name)
				}
				fn := a.FunctionArn.Value
				fn, _, _ = strings.Cut(fn, ".")
				t.DefaultAuthorizer = fn
				t.ReauthorizeEvery = a.Identity.ReauthorizeEvery
			}
			for typ, gr := range api.GatewayResponses {
				g := GatewayResponse{Status: gr.StatusCode, Body: gr.ResponseTemplates["application/json"], Headers: map[string]string{},
					Mapped: map[string]string{}}
				for h, v := range gr.ResponseParameters.Headers {
					if strings.HasPrefix(v, "'") && strings.HasSuffix(v, "'") && len(v) >= 2 {
						g.Headers[h] = v[1 : len(v)-1]
					} else {
						g.Mapped[h] = v
					}
				}
				t.GatewayResponses[typ] = g
			}
		}
	}
	return t, nil
}

func nodeValue(n yaml.Node) Value {
	if n.Tag == "!Ref" {
		return Value{Ref: n.Value}
	}
	return Value{Literal: n.Value}
}

func parseFunction(id string, meta, props yaml.Node) (Function, error) {
	f := Function{LogicalID: id}
	var m struct {
		BuildMethod string `yaml:"BuildMethod"`
	}
	if !meta.IsZero() {
		if err := meta.Decode(&m); err != nil {
			return f, fmt.Errorf("function %s metadata: %w", id, err)
		}
	}
	f.BuildMethod = m.BuildMethod
	var rf rawFunction
	if err := props.Decode(&rf); err != nil {
		return f, fmt.Errorf("function %s: %w", id, err)
	}
	f.CodeURI = rf.CodeURI
	f.env = rf.Environment.Variables
	f.Timeout = time.Duration(rf.Timeout) * time.Second
	f.policies = rf.Policies
	for _, p := range rf.Policies {
		pol, err := parsePolicy(p)
		if err != nil {
			return f, fmt.Errorf("function %s policies: %w", id, err)
		}
		f.Policies = append(f.Policies, pol)
	}
	names := make([]string, 0, len(rf.Events))
	for name := range rf.Events {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		ev := rf.Events[name]
		switch ev.Type {
		case "Api":
			var a rawAPIEvent
			if err := ev.Properties.Decode(&a); err != nil {
				return f, fmt.Errorf("function %s event %s: %w", id, name, err)
			}
			f.Routes = append(f.Routes, Route{Function: id, Method: strings.ToUpper(a.Method), Path: a.Path,
				Public: a.Auth.Authorizer == "NONE"})
		case "DynamoDB":
			var s rawStreamEvent
			if err := ev.Properties.Decode(&s); err != nil {
				return f, fmt.Errorf("function %s event %s: %w", id, name, err)
			}
			st := Stream{BatchSize: s.BatchSize, MaximumRetryAttempts: s.MaximumRetryAttempts,
				BisectOnFunctionErr: s.BisectBatchOnFunctionError}
			st.Table, _, _ = strings.Cut(s.Stream.Value, ".")
			if of := s.DestinationConfig.OnFailure; of.Destination.Tag == "!GetAtt" {
				st.OnFailure, _, _ = strings.Cut(of.Destination.Value, ".")
				st.OnFailureType = of.Type
			}
			for _, rt := range s.FunctionResponseTypes {
				if rt == "ReportBatchItemFailures" {
					st.ReportBatchFailures = true
				}
			}
			for _, flt := range s.FilterCriteria.Filters {
				st.FilterPatterns = append(st.FilterPatterns, flt.Pattern)
			}
			f.Streams = append(f.Streams, st)
		case "Schedule":
			var s struct {
				Schedule string `yaml:"Schedule"`
			}
			if err := ev.Properties.Decode(&s); err != nil {
				return f, fmt.Errorf("function %s event %s: %w", id, name, err)
			}
			f.Schedules = append(f.Schedules, Schedule{Name: name, Expression: s.Schedule})
		}
	}
	return f, nil
}

// parsePolicy reads `- ManagedPolicyName` or
// `- SomePolicyTemplate: {TableName: !Ref Table}`.
func parsePolicy(n yaml.Node) (Policy, error) {
	if name, _, ok := intrinsic(&n); ok && name == "Fn::If" {
		return Policy{Template: "Statement"}, nil
	}
	switch {
	case n.Kind == yaml.MappingNode && len(n.Content) >= 2 && n.Content[0].Value == "Statement":
		return Policy{Template: "Statement"}, nil
	case n.Kind == yaml.ScalarNode:
		return Policy{Template: n.Value}, nil
	case n.Kind == yaml.MappingNode && len(n.Content) == 2:
		p := Policy{Template: n.Content[0].Value}
		var args struct {
			TableName yaml.Node `yaml:"TableName"`
		}
		if err := n.Content[1].Decode(&args); err != nil {
			return p, fmt.Errorf("%s: %w", p.Template, err)
		}
		if t := args.TableName; !t.IsZero() {
			if t.Tag != "!Ref" {
				return p, fmt.Errorf("%s: TableName must be a !Ref to a table of the template", p.Template)
			}
			p.Table = t.Value
		}
		return p, nil
	}
	return Policy{}, fmt.Errorf("line %d: a policy is a name or a one-key mapping", n.Line)
}

// ResourceType returns the Type of the resource logicalID ("" when the
// template has none).
func (t *Template) ResourceType(logicalID string) string { return t.resources[logicalID] }

// Routes returns every Api route of the template, sorted by path and method.
func (t *Template) Routes() []Route {
	var rs []Route
	for _, f := range t.Functions {
		rs = append(rs, f.Routes...)
	}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].Path != rs[j].Path {
			return rs[i].Path < rs[j].Path
		}
		return rs[i].Method < rs[j].Method
	})
	return rs
}

// FunctionIDs returns the logical IDs of every function, sorted.
func (t *Template) FunctionIDs() []string {
	ids := make([]string, 0, len(t.Functions))
	for id := range t.Functions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
