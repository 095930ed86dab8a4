package dynamo

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The sizes follow DynamoDB's item size rules (developer guide, "Item
// sizes and formats").
func TestItemSize(t *testing.T) {
	tests := []struct {
		name string
		item map[string]types.AttributeValue
		want int
	}{
		{"empty", map[string]types.AttributeValue{}, 0},
		{"string counts name and bytes", map[string]types.AttributeValue{"pk": S("héllo")}, 2 + 6},
		{"number: a byte per two digits plus one", map[string]types.AttributeValue{"n": N(12345)}, 1 + 3 + 1},
		{"negative number ignores the sign", map[string]types.AttributeValue{"n": N(-12)}, 1 + 1 + 1},
		{"bool and null are one byte", map[string]types.AttributeValue{
			"b": &types.AttributeValueMemberBOOL{Value: true}, "z": &types.AttributeValueMemberNULL{Value: true}}, 4},
		{"string set sums its members", map[string]types.AttributeValue{
			"ss": &types.AttributeValueMemberSS{Value: []string{"abc", "de"}}}, 2 + 5},
		{"list: 3 bytes plus one per element", map[string]types.AttributeValue{
			"l": &types.AttributeValueMemberL{Value: []types.AttributeValue{S("ab"), N(7)}}}, 1 + 3 + (1 + 2) + (1 + 2)},
		{"map counts its keys", map[string]types.AttributeValue{
			"m": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"k": S("v")}}}, 1 + 3 + 1 + 1 + 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ItemSize(tc.item); got != tc.want {
				t.Fatalf("ItemSize = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestTransient(t *testing.T) {
	reasons := func(codes ...string) []types.CancellationReason {
		var rs []types.CancellationReason
		for _, c := range codes {
			rs = append(rs, types.CancellationReason{Code: &c})
		}
		return rs
	}
	tests := []struct {
		name    string
		reasons []types.CancellationReason
		want    bool
	}{
		{"conflict", reasons("None", "TransactionConflict"), true},
		{"throttled item", reasons("ThrottlingError", "None"), true},
		{"over provisioned throughput", reasons("None", "ProvisionedThroughputExceeded"), true},
		{"condition failed", reasons("ConditionalCheckFailed", "None"), false},
		{"validation", reasons("ValidationError"), false},
		{"none", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Transient(tc.reasons); got != tc.want {
				t.Fatalf("Transient = %v, want %v", got, tc.want)
			}
		})
	}
}
