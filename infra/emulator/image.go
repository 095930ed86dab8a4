package emulator

import (
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// ToEventImage converts an SDK item to the stream record's image form.
func ToEventImage(item map[string]types.AttributeValue) map[string]events.DynamoDBAttributeValue {
	out := make(map[string]events.DynamoDBAttributeValue, len(item))
	for k, v := range item {
		out[k] = toEventValue(v)
	}
	return out
}

func toEventValue(v types.AttributeValue) events.DynamoDBAttributeValue {
	switch t := v.(type) {
	case *types.AttributeValueMemberS:
		return events.NewStringAttribute(t.Value)
	case *types.AttributeValueMemberN:
		return events.NewNumberAttribute(t.Value)
	case *types.AttributeValueMemberB:
		return events.NewBinaryAttribute(t.Value)
	case *types.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(t.Value)
	case *types.AttributeValueMemberNULL:
		return events.NewNullAttribute()
	case *types.AttributeValueMemberSS:
		return events.NewStringSetAttribute(t.Value)
	case *types.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(t.Value)
	case *types.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(t.Value)
	case *types.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, len(t.Value))
		for i, e := range t.Value {
			l[i] = toEventValue(e)
		}
		return events.NewListAttribute(l)
	case *types.AttributeValueMemberM:
		return events.NewMapAttribute(ToEventImage(t.Value))
	}
	return events.NewNullAttribute()
}

// MatchesFilters reports whether a record passes an event source
// mapping's filters (any one of them). It supports the pattern forms the
// template uses: objects whose leaves are arrays of exact values.
func MatchesFilters(patterns []string, rec events.DynamoDBEventRecord) (bool, error) {
	if len(patterns) == 0 {
		return true, nil
	}
	raw, err := json.Marshal(rec)
	if err != nil {
		return false, err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return false, err
	}
	for _, p := range patterns {
		var pat map[string]any
		if err := json.Unmarshal([]byte(p), &pat); err != nil {
			return false, fmt.Errorf("filter %q: %w", p, err)
		}
		if matchObject(pat, doc) {
			return true, nil
		}
	}
	return false, nil
}

func matchObject(pat, doc map[string]any) bool {
	for k, pv := range pat {
		dv, ok := doc[k]
		switch want := pv.(type) {
		case map[string]any:
			sub, isObj := dv.(map[string]any)
			if !ok || !isObj || !matchObject(want, sub) {
				return false
			}
		case []any:
			if !ok || !matchAny(want, dv) {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func matchAny(values []any, v any) bool {
	for _, want := range values {
		if fmt.Sprint(want) == fmt.Sprint(v) {
			return true
		}
	}
	return false
}
