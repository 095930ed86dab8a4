package dynamo

import (
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// S is a string attribute value.
func S(s string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: s} }

// N is a number attribute value.
func N(v int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

// Bool is a boolean attribute value.
func Bool(b bool) *types.AttributeValueMemberBOOL { return &types.AttributeValueMemberBOOL{Value: b} }

// Key is the pk/sk key every table of the service uses.
func Key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": S(pk), "sk": S(sk)}
}

// String returns item[name] as a string, or "" when it is absent or not
// a string.
func String(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// Int returns item[name] as an integer (a fraction is truncated), or 0
// when it is absent or not a number.
func Int(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			f, _ := strconv.ParseFloat(v.Value, 64)
			return int64(f)
		}
		return n
	}
	return 0
}

// BoolOf returns item[name] as a boolean, or false when it is absent or
// not a boolean.
func BoolOf(item map[string]types.AttributeValue, name string) bool {
	if v, ok := item[name].(*types.AttributeValueMemberBOOL); ok {
		return v.Value
	}
	return false
}
