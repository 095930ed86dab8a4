package localdb_test

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/waickoff/waickoff/shared/dynamo"
)

// infra/moto/server.py makes a Query on a table's hash key read only that
// partition (stock moto sorts every item of the table on each call). These
// tests hold the patched Query to DynamoDB's semantics on a table of several
// partitions, some of whose keys are prefixes of others: every key
// condition on the range key, both directions, Limit and pagination, a
// FilterExpression with a Limit, Select COUNT, a projection, consistent
// reads, a missing partition (which a Query must not create), and the
// indexes (GSI and LSI, which stay on moto's own path).

// qItem is an item of the query test table, as the test knows it.
type qItem struct {
	pk, sk string
	n      int    // LSI range key: unique in a partition, not in sk order
	g, gs  string // GSI keys: gs unique over the table
}

func (it qItem) attrs() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": dynamo.S(it.pk), "sk": dynamo.S(it.sk), "n": dynamo.N(int64(it.n)),
		"g": dynamo.S(it.g), "gs": dynamo.S(it.gs), "pad": dynamo.S(strings.Repeat("x", 50))}
}

func (it qItem) key() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": dynamo.S(it.pk), "sk": dynamo.S(it.sk)}
}

// queryTable creates a table with hash key pk, range key sk, a GSI gsi1 on
// g/gs and an LSI lsi1 on pk/n (a number), dropped at the end of the test.
func queryTable(t *testing.T, prefix string) string {
	t.Helper()
	ctx := context.Background()
	name := prefix + "-" + randomTag(t)
	all := &types.Projection{ProjectionType: types.ProjectionTypeAll}
	err := createTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("n"), AttributeType: types.ScalarAttributeTypeN},
			{AttributeName: aws.String("g"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("gs"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("gsi1"), Projection: all,
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("g"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("gs"), KeyType: types.KeyTypeRange}}}},
		LocalSecondaryIndexes: []types.LocalSecondaryIndex{{IndexName: aws.String("lsi1"), Projection: all,
			KeySchema: []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("n"), KeyType: types.KeyTypeRange}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = fx.DB.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return name
}

// putAll writes the items, 25 to a BatchWriteItem.
func putAll(t *testing.T, table string, items []map[string]types.AttributeValue) {
	t.Helper()
	ctx := context.Background()
	for len(items) > 0 {
		n := min(25, len(items))
		var reqs []types.WriteRequest
		for _, it := range items[:n] {
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
		}
		items = items[n:]
		for len(reqs) > 0 {
			out, err := fx.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{table: reqs}})
			if err != nil {
				t.Fatal(err)
			}
			reqs = out.UnprocessedItems[table]
		}
	}
}

// queryItems is the test table's content: partition P1 (36 items) and its
// neighbours P, P10, P2 and Q1, with range keys A#.., B#.. and C#...
func queryItems(tag string) []qItem {
	sizes := []struct {
		pk string
		n  int
	}{{"P1", 36}, {"P", 5}, {"P10", 7}, {"P2", 12}, {"Q1", 3}}
	var items []qItem
	for _, p := range sizes {
		for i := 0; i < p.n; i++ {
			items = append(items, qItem{pk: p.pk, sk: fmt.Sprintf("%c#%03d", 'A'+i%3, i*7%100), n: i * 13 % p.n,
				g: fmt.Sprintf("G#%s-%d", tag, i%2), gs: fmt.Sprintf("%s-%03d", p.pk, i)})
		}
	}
	return items
}

// queryPages runs the query to its end, page after page.
func queryPages(t *testing.T, in *dynamodb.QueryInput) []*dynamodb.QueryOutput {
	t.Helper()
	in = func(c dynamodb.QueryInput) *dynamodb.QueryInput { return &c }(*in)
	var pages []*dynamodb.QueryOutput
	for {
		out, err := fx.DB.Query(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, out)
		if out.LastEvaluatedKey == nil {
			return pages
		}
		if len(pages) > 200 {
			t.Fatal("more than 200 pages")
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// idsOf names items by their range key (the table's, or the index's).
func idsOf(items []map[string]types.AttributeValue, attr string) []string {
	ids := []string{}
	for _, it := range items {
		if v, ok := it[attr].(*types.AttributeValueMemberN); ok {
			ids = append(ids, "n="+v.Value)
		} else {
			ids = append(ids, it["pk"].(*types.AttributeValueMemberS).Value+"/"+dynamo.String(it, attr))
		}
	}
	return ids
}

func qIDs(items []qItem, attr string) []string {
	ids := []string{}
	for _, it := range items {
		switch attr {
		case "n":
			ids = append(ids, "n="+strconv.Itoa(it.n))
		case "gs":
			ids = append(ids, it.pk+"/"+it.gs)
		default:
			ids = append(ids, it.pk+"/"+it.sk)
		}
	}
	return ids
}

func sameIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%s:\n  got  %v\n  want %v", what, got, want)
	}
}

// keyCase is a key condition and the items DynamoDB answers it with.
type keyCase struct {
	name   string
	index  string // "" for the table
	rng    string // the range key the results are ordered by
	expr   string
	values map[string]types.AttributeValue
	match  func(qItem) bool
	less   func(a, b qItem) bool
}

// expect is what DynamoDB returns for the case: the matching items in
// range key order, reversed when backward.
func (kc keyCase) expect(items []qItem, forward bool) []qItem {
	var out []qItem
	for _, it := range items {
		if kc.match(it) {
			out = append(out, it)
		}
	}
	sort.Slice(out, func(i, j int) bool { return kc.less(out[i], out[j]) })
	if !forward {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

func (kc keyCase) input(table string, forward bool) *dynamodb.QueryInput {
	in := &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String(kc.expr),
		ExpressionAttributeValues: map[string]types.AttributeValue{}, ScanIndexForward: aws.Bool(forward)}
	if kc.index != "" {
		in.IndexName = aws.String(kc.index)
	}
	for k, v := range kc.values {
		in.ExpressionAttributeValues[k] = v
	}
	return in
}

// tableCases are the key conditions on the table, all in partition P1.
func tableCases(items []qItem) []keyCase {
	var sks []string
	for _, it := range items {
		if it.pk == "P1" {
			sks = append(sks, it.sk)
		}
	}
	sort.Strings(sks)
	a, b := sks[11], sks[27] // existing keys: whether a bound is inclusive shows
	inP1 := func(f func(sk string) bool) func(qItem) bool {
		return func(it qItem) bool { return it.pk == "P1" && f(it.sk) }
	}
	vals := func(kv ...string) map[string]types.AttributeValue {
		m := map[string]types.AttributeValue{":pk": dynamo.S("P1")}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = dynamo.S(kv[i+1])
		}
		return m
	}
	cases := []keyCase{
		{name: "hash only", expr: "pk = :pk", values: vals(), match: inP1(func(string) bool { return true })},
		{name: "=", expr: "pk = :pk AND sk = :a", values: vals(":a", a), match: inP1(func(s string) bool { return s == a })},
		{name: "= missing", expr: "pk = :pk AND sk = :a", values: vals(":a", a+"0"), match: inP1(func(s string) bool { return false })},
		{name: "<", expr: "pk = :pk AND sk < :a", values: vals(":a", a), match: inP1(func(s string) bool { return s < a })},
		{name: "<=", expr: "pk = :pk AND sk <= :a", values: vals(":a", a), match: inP1(func(s string) bool { return s <= a })},
		{name: ">", expr: "pk = :pk AND sk > :a", values: vals(":a", a), match: inP1(func(s string) bool { return s > a })},
		{name: ">=", expr: "pk = :pk AND sk >= :a", values: vals(":a", a), match: inP1(func(s string) bool { return s >= a })},
		{name: "BETWEEN", expr: "pk = :pk AND sk BETWEEN :a AND :b", values: vals(":a", a, ":b", b),
			match: inP1(func(s string) bool { return a <= s && s <= b })},
		{name: "begins_with", expr: "pk = :pk AND begins_with(sk, :p)", values: vals(":p", "B#"),
			match: inP1(func(s string) bool { return strings.HasPrefix(s, "B#") })},
		{name: "begins_with none", expr: "pk = :pk AND begins_with(sk, :p)", values: vals(":p", "D#"),
			match: inP1(func(string) bool { return false })},
	}
	for i := range cases {
		cases[i].rng, cases[i].less = "sk", func(x, y qItem) bool { return x.sk < y.sk }
	}
	return cases
}

// indexCases are key conditions on gsi1 (across partitions) and lsi1.
func indexCases(tag string) []keyCase {
	g0 := fmt.Sprintf("G#%s-0", tag)
	byGS := func(x, y qItem) bool { return x.gs < y.gs }
	byN := func(x, y qItem) bool { return x.n < y.n }
	return []keyCase{
		{name: "gsi1 hash only", index: "gsi1", rng: "gs", less: byGS, expr: "g = :g",
			values: map[string]types.AttributeValue{":g": dynamo.S(g0)},
			match:  func(it qItem) bool { return it.g == g0 }},
		{name: "gsi1 BETWEEN", index: "gsi1", rng: "gs", less: byGS, expr: "g = :g AND gs BETWEEN :a AND :b",
			values: map[string]types.AttributeValue{":g": dynamo.S(g0), ":a": dynamo.S("P1-004"), ":b": dynamo.S("P2-006")},
			match:  func(it qItem) bool { return it.g == g0 && "P1-004" <= it.gs && it.gs <= "P2-006" }},
		{name: "gsi1 begins_with", index: "gsi1", rng: "gs", less: byGS, expr: "g = :g AND begins_with(gs, :p)",
			values: map[string]types.AttributeValue{":g": dynamo.S(g0), ":p": dynamo.S("P1")},
			match:  func(it qItem) bool { return it.g == g0 && strings.HasPrefix(it.gs, "P1") }},
		{name: "lsi1 BETWEEN", index: "lsi1", rng: "n", less: byN, expr: "pk = :pk AND n BETWEEN :a AND :b",
			values: map[string]types.AttributeValue{":pk": dynamo.S("P1"), ":a": dynamo.N(5), ":b": dynamo.N(20)},
			match:  func(it qItem) bool { return it.pk == "P1" && 5 <= it.n && it.n <= 20 }},
		{name: "lsi1 >", index: "lsi1", rng: "n", less: byN, expr: "pk = :pk AND n > :a",
			values: map[string]types.AttributeValue{":pk": dynamo.S("P10"), ":a": dynamo.N(2)},
			match:  func(it qItem) bool { return it.pk == "P10" && it.n > 2 }},
	}
}

// keyOf is the LastEvaluatedKey DynamoDB gives after the item: the table's
// key, and the index's when the query is on an index.
func keyOf(it qItem, index string) string {
	k := it.key()
	switch index {
	case "gsi1":
		k["g"], k["gs"] = dynamo.S(it.g), dynamo.S(it.gs)
	case "lsi1":
		k["n"] = dynamo.N(int64(it.n))
	}
	return render(&types.AttributeValueMemberM{Value: k})
}

// checkCase runs every form of the query for the case and direction.
func checkCase(t *testing.T, table string, kc keyCase, items []qItem, forward bool) {
	ctx := context.Background()
	want := kc.expect(items, forward)
	wantIDs := qIDs(want, kc.rng)
	under := func(x int) func(qItem) bool { return func(it qItem) bool { return it.n < x } }

	// Unpaginated, eventually and strongly consistent (not on a GSI).
	for _, consistent := range []bool{false, true} {
		if consistent && kc.index == "gsi1" {
			continue
		}
		in := kc.input(table, forward)
		in.ConsistentRead = aws.Bool(consistent)
		pages := queryPages(t, in)
		if len(pages) != 1 {
			t.Fatalf("consistent %v: %d pages without a Limit", consistent, len(pages))
		}
		out := pages[0]
		sameIDs(t, fmt.Sprintf("consistent %v", consistent), idsOf(out.Items, kc.rng), wantIDs)
		if int(out.Count) != len(want) || int(out.ScannedCount) != len(want) {
			t.Errorf("consistent %v: Count %d, ScannedCount %d, want %d", consistent, out.Count, out.ScannedCount, len(want))
		}
		for i, it := range out.Items {
			if i < len(want) && render(&types.AttributeValueMemberM{Value: it}) != render(&types.AttributeValueMemberM{Value: want[i].attrs()}) {
				t.Errorf("item %d: %s, want %s", i, render(&types.AttributeValueMemberM{Value: it}),
					render(&types.AttributeValueMemberM{Value: want[i].attrs()}))
			}
		}
	}

	// Limit, with and without a filter: each page evaluates the next Limit
	// items the key condition selects, the filter then drops some of them,
	// and LastEvaluatedKey is the last item evaluated, kept or not.
	for _, c := range []struct {
		limit  int
		filter int // keep n < filter; 0: no filter
	}{{1, 0}, {4, 0}, {5, 18}, {3, 1}} {
		in := kc.input(table, forward)
		in.Limit = aws.Int32(int32(c.limit))
		keep := func(qItem) bool { return true }
		if c.filter > 0 {
			in.FilterExpression = aws.String("n < :x")
			in.ExpressionAttributeValues[":x"] = dynamo.N(int64(c.filter))
			keep = under(c.filter)
		}
		what := fmt.Sprintf("Limit %d filter %d", c.limit, c.filter)
		var got []string
		offset := 0
		pages := queryPages(t, in)
		for i, page := range pages {
			end := min(offset+c.limit, len(want))
			window := want[offset:end]
			var kept []qItem
			for _, it := range window {
				if keep(it) {
					kept = append(kept, it)
				}
			}
			sameIDs(t, fmt.Sprintf("%s page %d", what, i), idsOf(page.Items, kc.rng), qIDs(kept, kc.rng))
			if int(page.ScannedCount) != len(window) || int(page.Count) != len(kept) {
				t.Errorf("%s page %d: Count %d ScannedCount %d, want %d and %d", what, i, page.Count, page.ScannedCount, len(kept), len(window))
			}
			if page.LastEvaluatedKey != nil {
				if len(window) != c.limit {
					t.Errorf("%s page %d: LastEvaluatedKey after %d items", what, i, len(window))
				} else if g, w := render(&types.AttributeValueMemberM{Value: page.LastEvaluatedKey}), keyOf(window[len(window)-1], kc.index); g != w {
					t.Errorf("%s page %d: LastEvaluatedKey %s, want %s", what, i, g, w)
				}
			}
			got = append(got, idsOf(page.Items, kc.rng)...)
			offset = end
		}
		if offset != len(want) {
			t.Errorf("%s: %d pages evaluated %d items, want %d", what, len(pages), offset, len(want))
		}
		// A page may end exactly on the last item: DynamoDB may then
		// answer one more, empty, page; no more than that.
		if full := (len(want) + c.limit - 1) / c.limit; len(pages) != max(full, 1) && len(pages) != full+1 {
			t.Errorf("%s: %d pages for %d items", what, len(pages), len(want))
		}
		var all []qItem
		for _, it := range want {
			if keep(it) {
				all = append(all, it)
			}
		}
		sameIDs(t, what+" (all pages)", got, qIDs(all, kc.rng))
	}

	// Select COUNT, with and without a filter.
	for _, filter := range []int{0, 18} {
		in := kc.input(table, forward)
		in.Select = types.SelectCount
		n := len(want)
		if filter > 0 {
			in.FilterExpression = aws.String("n < :x")
			in.ExpressionAttributeValues[":x"] = dynamo.N(int64(filter))
			n = 0
			for _, it := range want {
				if under(filter)(it) {
					n++
				}
			}
		}
		out, err := fx.DB.Query(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if int(out.Count) != n || int(out.ScannedCount) != len(want) || len(out.Items) != 0 {
			t.Errorf("COUNT filter %d: Count %d ScannedCount %d, %d items; want %d, %d, none", filter, out.Count, out.ScannedCount, len(out.Items), n, len(want))
		}
	}

	// A projection: only the named attributes.
	in := kc.input(table, forward)
	in.ProjectionExpression, in.ExpressionAttributeNames = aws.String("#r, #p"), map[string]string{"#r": kc.rng, "#p": "pad"}
	out, err := fx.DB.Query(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range out.Items {
		var names []string
		for k := range it {
			names = append(names, k)
		}
		w := []string{kc.rng, "pad"}
		sort.Strings(names)
		sort.Strings(w)
		if strings.Join(names, ",") != strings.Join(w, ",") {
			t.Errorf("projection: item %d has %v, want %v", i, names, w)
		}
	}
	if len(out.Items) != len(want) {
		t.Errorf("projection: %d items, want %d", len(out.Items), len(want))
	}
}

func TestQueryFollowsDynamoDB(t *testing.T) {
	tag := randomTag(t)
	table := queryTable(t, "Query")
	items := queryItems(tag)
	var attrs []map[string]types.AttributeValue
	for _, it := range items {
		attrs = append(attrs, it.attrs())
	}
	putAll(t, table, attrs)

	for _, kc := range append(tableCases(items), indexCases(tag)...) {
		for _, forward := range []bool{true, false} {
			dir := "forward"
			if !forward {
				dir = "backward"
			}
			t.Run(kc.name+" "+dir, func(t *testing.T) { checkCase(t, table, kc, items, forward) })
		}
	}
}

// scanCount is the number of items a consistent Scan finds in the table.
func scanCount(t *testing.T, table string) int {
	t.Helper()
	n := 0
	p := dynamodb.NewScanPaginator(fx.DB, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Items)
	}
	return n
}

// A Query on a partition that does not exist finds nothing and creates
// nothing. moto keeps a table's items in a defaultdict: reading a missing
// partition with [] would create it, and in a table with only a hash key
// the next Scan would list the empty partition as an item.
func TestQueryOnMissingPartition(t *testing.T) {
	ctx := context.Background()
	rangeTable := queryTable(t, "QueryMissing")
	putAll(t, rangeTable, []map[string]types.AttributeValue{qItem{pk: "P1", sk: "A#001", g: "G", gs: "1"}.attrs()})

	hashOnly := "QueryHashOnly-" + randomTag(t)
	err := createTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(hashOnly),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeN}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = fx.DB.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(hashOnly)})
	})
	var ids []map[string]types.AttributeValue
	for i := 1; i <= 9; i++ {
		ids = append(ids, map[string]types.AttributeValue{"id": dynamo.N(int64(i)), "v": dynamo.N(int64(10 * i))})
	}
	putAll(t, hashOnly, ids)

	query := func(table, expr string, values map[string]types.AttributeValue, filter string) *dynamodb.QueryOutput {
		t.Helper()
		in := &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String(expr), ExpressionAttributeValues: values}
		if filter != "" {
			in.FilterExpression = aws.String(filter)
		}
		out, err := fx.DB.Query(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	num := func(s string) types.AttributeValue { return &types.AttributeValueMemberN{Value: s} }

	// The hash-only table answers on its key; 7.0 is the number 7.
	for _, k := range []string{"7", "7.0"} {
		out := query(hashOnly, "id = :k", map[string]types.AttributeValue{":k": num(k)}, "")
		if len(out.Items) != 1 || dynamo.Int(out.Items[0], "v") != 70 {
			t.Errorf("id = %s: %v", k, out.Items)
		}
	}
	if out := query(hashOnly, "id = :k", map[string]types.AttributeValue{":k": num("7"), ":v": num("70")}, "v <> :v"); out.Count != 0 || out.ScannedCount != 1 {
		t.Errorf("id = 7 filtered out: Count %d ScannedCount %d, want 0 and 1", out.Count, out.ScannedCount)
	}

	before := map[string]int{rangeTable: scanCount(t, rangeTable), hashOnly: scanCount(t, hashOnly)}
	if before[rangeTable] != 1 || before[hashOnly] != 9 {
		t.Fatalf("seeding went wrong: %v", before)
	}
	for i := 0; i < 3; i++ {
		for _, c := range []struct {
			table, expr string
			values      map[string]types.AttributeValue
		}{
			{hashOnly, "id = :k", map[string]types.AttributeValue{":k": num("12")}},
			{hashOnly, "id = :k", map[string]types.AttributeValue{":k": num(fmt.Sprint(100 + i))}},
			{rangeTable, "pk = :k", map[string]types.AttributeValue{":k": dynamo.S("P2")}},
			{rangeTable, "pk = :k", map[string]types.AttributeValue{":k": dynamo.S("P")}},
			{rangeTable, "pk = :k AND begins_with(sk, :p)", map[string]types.AttributeValue{":k": dynamo.S("P10"), ":p": dynamo.S("A")}},
		} {
			if out := query(c.table, c.expr, c.values, ""); out.Count != 0 || len(out.Items) != 0 || out.ScannedCount != 0 || out.LastEvaluatedKey != nil {
				t.Errorf("%s %v: Count %d ScannedCount %d items %v LastEvaluatedKey %v", c.expr, c.values, out.Count, out.ScannedCount, out.Items, out.LastEvaluatedKey)
			}
		}
	}
	for table, n := range before {
		if got := scanCount(t, table); got != n {
			t.Errorf("%s: a Scan finds %d items after queries on missing partitions, %d before", table, got, n)
		}
		out, err := fx.DB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			t.Fatal(err)
		}
		if got := aws.ToInt64(out.Table.ItemCount); got != int64(n) {
			t.Errorf("%s: ItemCount %d after queries on missing partitions, want %d", table, got, n)
		}
	}
}

// A Query on the table costs the size of its partition, not of the table.
// Only the results are asserted; the timings are logged (go test -v -run
// TestQueryCostIndependentOfTableSize ./infra/localdb), with those of the
// same query on gsi1, which moto still answers by reading every item.
func TestQueryCostIndependentOfTableSize(t *testing.T) {
	ctx := context.Background()
	table := queryTable(t, "QuerySize")
	const perPartition, queries = 20, 50
	filled := 0
	fill := func(n int) {
		var items []map[string]types.AttributeValue
		for ; filled < n; filled++ {
			p := filled / perPartition
			items = append(items, qItem{pk: fmt.Sprintf("T#%04d", p), sk: fmt.Sprintf("S#%04d", filled), n: filled,
				g: fmt.Sprintf("G#%04d", p), gs: fmt.Sprintf("%06d", filled)}.attrs())
		}
		putAll(t, table, items)
	}
	run := func(in *dynamodb.QueryInput) time.Duration {
		start := time.Now()
		for i := 0; i < queries; i++ {
			out, err := fx.DB.Query(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if out.Count != perPartition {
				t.Fatalf("%d items, want %d", out.Count, perPartition)
			}
		}
		return time.Since(start) / queries
	}
	onTable := &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("pk = :k"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": dynamo.S("T#0001")}}
	onGSI := &dynamodb.QueryInput{TableName: aws.String(table), IndexName: aws.String("gsi1"), KeyConditionExpression: aws.String("g = :k"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": dynamo.S("G#0001")}}

	fill(100)
	smallTable, smallGSI := run(onTable), run(onGSI)
	fill(5000)
	largeTable, largeGSI := run(onTable), run(onGSI)
	t.Logf("Query of a %d-item partition, each: table %v at %d items, %v at %d (ratio %.2f); gsi1 (stock moto) %v and %v (ratio %.2f)",
		perPartition, smallTable, 100, largeTable, filled, float64(largeTable)/float64(smallTable),
		smallGSI, largeGSI, float64(largeGSI)/float64(smallGSI))
}
