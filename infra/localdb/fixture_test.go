package localdb_test

import (
	"context"
	"testing"

	"github.com/waickoff/waickoff/infra/localdb"
)

func TestFixture(t *testing.T) {
	f, err := localdb.NewFixture(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t.Log(f.Endpoint, f.Tables, f.Counter.Count())
}
