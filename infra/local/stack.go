package local

import (
	"fmt"
	"strings"

	"github.com/waickoff/waickoff/infra/gateway"
	"github.com/waickoff/waickoff/shared/samtemplate"
)

// MasterKeySecret is the name under which the local run keeps the master
// key in its Secrets Manager stand-in (infra/secretstore).
const MasterKeySecret = "waickoff/local/master-key"

// Stack is what CloudFormation would know deploying the template with
// params: the emulated region and account, each table's physical name
// (names, by logical ID) and ARN, and each other resource's logical ID.
func Stack(names map[string]string, params map[string]string) samtemplate.Stack {
	s := samtemplate.Stack{Parameters: params, Region: gateway.Region, AccountID: gateway.AccountID, Partition: "aws"}
	s.Ref = func(id, typ string) (string, bool) {
		if typ == "AWS::DynamoDB::Table" {
			n, ok := names[id]
			return n, ok
		}
		return "", false
	}
	s.GetAtt = func(id, typ, attr string) (string, bool) {
		if typ != "AWS::DynamoDB::Table" {
			return "", false
		}
		arn := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", s.Region, s.AccountID, names[id])
		switch attr {
		case "Arn":
			return arn, true
		case "StreamArn":
			return arn + "/stream/local", true
		}
		return "", false
	}
	return s
}

// Parameters are the template parameters a local run's configuration
// chooses: each variable the template sets from one parameter (STAGE for
// Stage, PAYMENTS_MODE for PaymentsMode, ...) chooses that parameter
// when getenv gives it a value; the others keep their defaults. The
// master key's secret is the stand-in's when master is true.
func Parameters(tpl *samtemplate.Template, getenv func(string) string, master bool) map[string]string {
	params := map[string]string{}
	for v, p := range tpl.VariableParameters() {
		if val := strings.TrimSpace(getenv(v)); val != "" {
			params[p] = val
		}
	}
	if _, ok := params["Stage"]; !ok {
		params["Stage"] = "local"
	}
	delete(params, "MasterKeySecret")
	if master {
		params["MasterKeySecret"] = MasterKeySecret
	}
	return params
}

// Environments resolves every function's environment for the stack, as
// Lambda would see it.
func Environments(tpl *samtemplate.Template, s samtemplate.Stack) (*samtemplate.Resolved, map[string]map[string]string, error) {
	s.Unchecked = []string{"Stage"}
	r, err := tpl.Resolve(s)
	if err != nil {
		return nil, nil, fmt.Errorf("resolve template.yaml: %w", err)
	}
	out := map[string]map[string]string{}
	for _, id := range append(tpl.FunctionIDs(), "") {
		env, err := r.Environment(id)
		if err != nil {
			return nil, nil, err
		}
		out[id] = env
	}
	return r, out, nil
}

// functionGetenv is a function's view of its environment: the template's
// variables as resolved for it (a template variable it is not given is
// unset, whatever the shell says), then the local run's own settings
// (local), then the shell's variables the template does not set
// (MAX_BODY_BYTES, BULK_TIERS, ...: in AWS they take their defaults).
// MASTER_API_KEY is never passed on: it is the operator's input to the
// local run, which keeps it in the Secrets Manager stand-in.
func functionGetenv(env map[string]string, templateVars map[string]bool, local map[string]string, getenv func(string) string) func(string) string {
	return func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		if templateVars[k] || k == "MASTER_API_KEY" {
			return ""
		}
		if v, ok := local[k]; ok {
			return v
		}
		return getenv(k)
	}
}
