package samtemplate

import (
	"fmt"
	"sort"
)

// Statement is one IAM policy statement of a function's role, with every
// intrinsic function resolved.
type Statement struct {
	Effect   string
	Action   []string
	Resource []string
	// Condition maps an operator (StringEquals, ForAllValues:StringLike,
	// ...) to condition keys and their values.
	Condition map[string]map[string][]string
}

// samPolicies are the statements of the SAM policy templates the template
// uses (samtranslator/policy_templates_data/policy_templates.json), each
// over the table its TableName names and the table's indexes.
var samPolicies = map[string][]string{
	"DynamoDBCrudPolicy": {"dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Scan", "dynamodb:Query",
		"dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem", "dynamodb:DescribeTable", "dynamodb:ConditionCheckItem"},
	"DynamoDBReadPolicy":  {"dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:DescribeTable"},
	"DynamoDBWritePolicy": {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"},
}

// TableARN is the ARN of a table.
func (r *Resolved) TableARN(name string) string {
	return fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", r.s.Partition, r.s.Region, r.s.AccountID, name)
}

// Policies returns the statements of a function's role: its SAM policy
// templates expanded and its inline statements resolved (a !If whose
// branch is AWS::NoValue gives none). It fails on a policy it cannot
// expand, so that nothing is granted or refused by accident.
func (r *Resolved) Policies(function string) ([]Statement, error) {
	f, ok := r.t.Functions[function]
	if !ok {
		return nil, fmt.Errorf("no function %s in the template", function)
	}
	var out []Statement
	for i := range f.policies {
		v, err := r.eval(&f.policies[i])
		if err != nil {
			return nil, fmt.Errorf("%s: policy %d: %w", function, i+1, err)
		}
		sts, err := r.policyStatements(v)
		if err != nil {
			return nil, fmt.Errorf("%s: policy %d: %w", function, i+1, err)
		}
		out = append(out, sts...)
	}
	return out, nil
}

func (r *Resolved) policyStatements(v any) ([]Statement, error) {
	switch v := v.(type) {
	case noValue:
		return nil, nil
	case string:
		return nil, fmt.Errorf("managed policy %s cannot be expanded locally", v)
	case map[string]any:
		if raw, ok := v["Statement"]; ok {
			list, ok := raw.([]any)
			if !ok {
				list = []any{raw}
			}
			var out []Statement
			for _, s := range list {
				st, err := statement(s)
				if err != nil {
					return nil, err
				}
				out = append(out, st)
			}
			return out, nil
		}
		if len(v) != 1 {
			return nil, fmt.Errorf("a policy template is a one-key mapping")
		}
		for name, args := range v {
			actions, ok := samPolicies[name]
			if !ok {
				return nil, fmt.Errorf("policy template %s cannot be expanded locally", name)
			}
			a, _ := args.(map[string]any)
			table, _ := a["TableName"].(string)
			if table == "" {
				return nil, fmt.Errorf("%s: no TableName", name)
			}
			arn := r.TableARN(table)
			return []Statement{{Effect: "Allow", Action: append([]string(nil), actions...), Resource: []string{arn, arn + "/index/*"}}}, nil
		}
	}
	return nil, fmt.Errorf("unreadable policy %T", v)
}

func strs(v any) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("want strings, got %T", x)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a string or a list, got %T", v)
}

func statement(v any) (Statement, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Statement{}, fmt.Errorf("a statement is a mapping, got %T", v)
	}
	st := Statement{}
	st.Effect, _ = m["Effect"].(string)
	if st.Effect != "Allow" && st.Effect != "Deny" {
		return st, fmt.Errorf("statement effect %q", st.Effect)
	}
	var err error
	if st.Action, err = strs(m["Action"]); err != nil || len(st.Action) == 0 {
		return st, fmt.Errorf("statement actions: %v", err)
	}
	if st.Resource, err = strs(m["Resource"]); err != nil || len(st.Resource) == 0 {
		return st, fmt.Errorf("statement resources: %v", err)
	}
	for k := range m {
		switch k {
		case "Effect", "Action", "Resource", "Condition", "Sid":
		default:
			return st, fmt.Errorf("statement key %s cannot be emulated", k)
		}
	}
	if c, ok := m["Condition"]; ok {
		cm, ok := c.(map[string]any)
		if !ok {
			return st, fmt.Errorf("statement condition is %T", c)
		}
		st.Condition = map[string]map[string][]string{}
		ops := make([]string, 0, len(cm))
		for op := range cm {
			ops = append(ops, op)
		}
		sort.Strings(ops)
		for _, op := range ops {
			keys, ok := cm[op].(map[string]any)
			if !ok {
				return st, fmt.Errorf("condition %s is %T", op, cm[op])
			}
			st.Condition[op] = map[string][]string{}
			for k, vals := range keys {
				if st.Condition[op][k], err = strs(vals); err != nil {
					return st, fmt.Errorf("condition %s %s: %w", op, k, err)
				}
			}
		}
	}
	return st, nil
}
