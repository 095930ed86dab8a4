package memdb

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// keySchema is a table's or an index's key.
type keySchema struct {
	hash, rng string
}

type index struct {
	name string
	key  keySchema
}

// table holds one table's items by partition, each partition sorted by
// its range key.
type table struct {
	name       string
	key        keySchema
	attrTypes  map[string]kind // AttributeDefinitions
	gsis       []index
	ttlAttr    string
	streamView string
	created    time.Time
	parts      map[string]*partition
	count      int
}

type partition struct {
	hash  Value
	rngs  []Value // sorted (one zero Value for a table without a range key)
	items map[string]Item
}

// checkKey validates a request's key against the schema and returns its
// partition and range strings.
func (t *table) checkKey(key Item) error {
	want := 1
	if t.key.rng != "" {
		want = 2
	}
	if len(key) != want {
		return fmt.Errorf("The provided key element does not match the schema")
	}
	for _, a := range []string{t.key.hash, t.key.rng} {
		if a == "" {
			continue
		}
		v, ok := key[a]
		if !ok || v.k != t.attrTypes[a] {
			return fmt.Errorf("The provided key element does not match the schema")
		}
		if (v.k == kindS || v.k == kindB) && v.s == "" {
			return fmt.Errorf("One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: %s", a)
		}
	}
	return nil
}

// keyOf returns the key attributes of item.
func (t *table) keyOf(it Item) Item {
	k := Item{t.key.hash: it[t.key.hash]}
	if t.key.rng != "" {
		k[t.key.rng] = it[t.key.rng]
	}
	return k
}

// checkItem validates an item to be stored: its key, its index keys and
// its size.
func (t *table) checkItem(it Item) error {
	if err := t.checkKey(t.keyOf(it)); err != nil {
		return fmt.Errorf("One or more parameter values were invalid: Missing the key %s in the item", t.key.hash)
	}
	for _, g := range t.gsis {
		for _, a := range []string{g.key.hash, g.key.rng} {
			if v, ok := it[a]; a != "" && ok && v.k != t.attrTypes[a] {
				return fmt.Errorf("One or more parameter values were invalid: Type mismatch for Index Key %s Expected: %s Actual: %s IndexName: %s",
					a, t.attrTypes[a], v.k, g.name)
			}
		}
	}
	for name, v := range it {
		if v.k == kindNone {
			return fmt.Errorf("memdb: attribute %s has no value", name)
		}
	}
	if n := itemSize(it); n > 400*1024 {
		return fmt.Errorf("Item size has exceeded the maximum allowed size")
	}
	return nil
}

func (t *table) get(key Item) Item {
	p := t.parts[keyString(key[t.key.hash])]
	if p == nil {
		return nil
	}
	return p.items[keyString(key[t.key.rng])]
}

func (t *table) put(it Item) {
	h := it[t.key.hash]
	hs := keyString(h)
	p := t.parts[hs]
	if p == nil {
		p = &partition{hash: h, items: map[string]Item{}}
		t.parts[hs] = p
	}
	r := it[t.key.rng]
	rs := keyString(r)
	if _, ok := p.items[rs]; !ok {
		i := sort.Search(len(p.rngs), func(i int) bool { return compareKey(p.rngs[i], r) >= 0 })
		p.rngs = append(p.rngs, Value{})
		copy(p.rngs[i+1:], p.rngs[i:])
		p.rngs[i] = r
		t.count++
	}
	p.items[rs] = it
}

func (t *table) delete(key Item) {
	hs := keyString(key[t.key.hash])
	p := t.parts[hs]
	if p == nil {
		return
	}
	r := key[t.key.rng]
	rs := keyString(r)
	if _, ok := p.items[rs]; !ok {
		return
	}
	delete(p.items, rs)
	i := sort.Search(len(p.rngs), func(i int) bool { return compareKey(p.rngs[i], r) >= 0 })
	p.rngs = append(p.rngs[:i], p.rngs[i+1:]...)
	t.count--
	if len(p.items) == 0 {
		delete(t.parts, hs)
	}
}

// compareKey orders key values of one attribute (all of one type).
func compareKey(a, b Value) int {
	if n, ok := compare(a, b); ok {
		return n
	}
	return strings.Compare(keyString(a), keyString(b))
}

// sortedHashes returns the partitions in a stable order for Scan.
func (t *table) sortedHashes() []string {
	hs := make([]string, 0, len(t.parts))
	for h := range t.parts {
		hs = append(hs, h)
	}
	sort.Strings(hs)
	return hs
}

// scanItems returns every item in scan order.
func (t *table) scanItems() []Item {
	out := make([]Item, 0, t.count)
	for _, h := range t.sortedHashes() {
		p := t.parts[h]
		for _, r := range p.rngs {
			out = append(out, p.items[keyString(r)])
		}
	}
	return out
}

// after reports whether item comes after the exclusive start key in scan
// order.
func (t *table) scanAfter(it, start Item) bool {
	a, b := keyString(it[t.key.hash]), keyString(start[t.key.hash])
	if a != b {
		return a > b
	}
	return t.key.rng != "" && compareKey(it[t.key.rng], start[t.key.rng]) > 0
}

// indexItems returns the items of an index partition, sorted by the
// index's range key and then the table's key.
func (t *table) indexItems(g index, hash Value) []Item {
	var out []Item
	for _, h := range t.sortedHashes() {
		p := t.parts[h]
		for _, r := range p.rngs {
			it := p.items[keyString(r)]
			v, ok := it[g.key.hash]
			if !ok || !equal(v, hash) {
				continue
			}
			if g.key.rng != "" {
				if _, ok := it[g.key.rng]; !ok {
					continue
				}
			}
			out = append(out, it)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if g.key.rng != "" {
			if n := compareKey(out[i][g.key.rng], out[j][g.key.rng]); n != 0 {
				return n < 0
			}
		}
		return false // stable: table order
	})
	return out
}

// indexOrder compares an item with a start key in an index's order.
func (t *table) indexOrder(g index, it, start Item) int {
	if g.key.rng != "" {
		if n := compareKey(it[g.key.rng], start[g.key.rng]); n != 0 {
			return n
		}
	}
	if n := strings.Compare(keyString(it[t.key.hash]), keyString(start[t.key.hash])); n != 0 {
		return n
	}
	if t.key.rng != "" {
		return compareKey(it[t.key.rng], start[t.key.rng])
	}
	return 0
}
