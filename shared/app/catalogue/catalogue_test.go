package catalogue_test

import (
	"errors"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/waickoff/waickoff/shared/app"
	"github.com/waickoff/waickoff/shared/app/catalogue"
	"github.com/waickoff/waickoff/shared/config"
	"github.com/waickoff/waickoff/shared/samtemplate"
)

func load(t *testing.T) (*samtemplate.Template, string) {
	t.Helper()
	tpl, root, err := samtemplate.LoadNearest()
	if err != nil {
		t.Fatal(err)
	}
	return tpl, root
}

// refuser counts and refuses every store call.
type refuser struct{ n atomic.Int64 }

func (r *refuser) Do(*http.Request) (*http.Response, error) {
	r.n.Add(1)
	return nil, errors.New("no store call while building a function")
}

// testDeps are deps whose store calls fail and are counted.
func testDeps(t *testing.T, function string) (*app.Deps, *refuser) {
	t.Helper()
	env := map[string]string{"API_KEYS_TABLE": "k", "SESSIONS_TABLE": "s", "USAGE_TABLE": "u", "QUOTAS_TABLE": "q",
		"DYNAMODB_ENDPOINT": "http://127.0.0.1:1"}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	d := app.NewDeps(cfg, function, io.Discard)
	r := &refuser{}
	d.StoreHTTP = r
	return d, r
}

// Every template function is in the catalogue under the right kind, and
// every catalogue entry is in the template.
func TestCatalogueMatchesTemplate(t *testing.T) {
	tpl, _ := load(t)
	cat := catalogue.Functions()
	seen := map[string]bool{}
	for _, id := range tpl.FunctionIDs() {
		f := tpl.Functions[id]
		t.Run(id, func(t *testing.T) {
			switch {
			case len(f.Routes) > 0:
				if cat.HTTP[id] == nil {
					t.Fatalf("%s has Api routes but no HTTP builder", id)
				}
			case id == tpl.DefaultAuthorizer:
				if cat.Authorizer[id] == nil {
					t.Fatalf("%s is the authorizer but has no authorizer builder", id)
				}
			case len(f.Streams) > 0:
				if cat.Stream[id] == nil {
					t.Fatalf("%s has a stream but no stream builder", id)
				}
			case len(f.Schedules) > 0:
				if cat.Schedule[id] == nil {
					t.Fatalf("%s has a schedule but no schedule builder", id)
				}
			default:
				t.Fatalf("%s has no event and is not the authorizer", id)
			}
			if f.BuildMethod != "makefile" || f.CodeURI != "." {
				t.Errorf("%s: BuildMethod %q CodeUri %q, want makefile and .", id, f.BuildMethod, f.CodeURI)
			}
		})
		seen[id] = true
	}
	for _, group := range []map[string]bool{keys(cat.HTTP), keys(cat.Authorizer), keys(cat.Stream), keys(cat.Schedule)} {
		for id := range group {
			if !seen[id] {
				t.Errorf("catalogue has %s, which template.yaml does not define", id)
			}
		}
	}
}

func keys[V any](m map[string]V) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

// Each HTTP function mounts exactly its template routes as ServeMux
// patterns.
func TestHTTPFunctionsMountTemplateRoutes(t *testing.T) {
	tpl, _ := load(t)
	for id, build := range catalogue.Functions().HTTP {
		t.Run(id, func(t *testing.T) {
			d, _ := testDeps(t, id)
			s, err := build(d)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, r := range tpl.Functions[id].Routes {
				want = append(want, r.Pattern())
			}
			got := s.Patterns()
			sort.Strings(want)
			sort.Strings(got)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("mounted %v, template says %v", got, want)
			}
		})
	}
}

// Building a function (what a Lambda does at init) makes no store call:
// its deps refuse and count every one.
func TestNoStoreCallAtInit(t *testing.T) {
	cat := catalogue.Functions()
	build := map[string]func(*app.Deps) error{}
	for id, b := range cat.HTTP {
		build[id] = func(d *app.Deps) error { _, err := b(d); return err }
	}
	for id, b := range cat.Authorizer {
		build[id] = func(d *app.Deps) error { _, err := b(d); return err }
	}
	for id, b := range cat.Stream {
		build[id] = func(d *app.Deps) error { _, err := b(d); return err }
	}
	for id, b := range cat.Schedule {
		build[id] = func(d *app.Deps) error { _, err := b(d); return err }
	}
	for id, b := range build {
		t.Run(id, func(t *testing.T) {
			d, calls := testDeps(t, id)
			if err := b(d); err != nil {
				t.Fatalf("build: %v", err)
			}
			if n := calls.n.Load(); n != 0 {
				t.Fatalf("building %s made %d store calls", id, n)
			}
		})
	}
}

var (
	startRE = regexp.MustCompile(`app\.Start(HTTP|Authorizer|Stream|Schedule)\("(\w+)", (.+)\) }`)
	entryRE = regexp.MustCompile(`(?m)^\s+"(\w+)":\s+(.+),$`)
)

// functions/<dir>/main.go starts the catalogue's builder for its logical
// ID and imports package app, its own domain's wiring and, when it
// reaches the store, package store: nothing else. The Makefile's
// build-<ID> target builds that directory.
func TestMainsAndMakefileAgree(t *testing.T) {
	tpl, root := load(t)
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join(root, "shared", "app", "catalogue", "catalogue.go"))
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]string{}
	for _, m := range entryRE.FindAllStringSubmatch(string(src), -1) {
		entries[m[1]] = m[2]
	}
	if len(entries) != len(tpl.Functions) {
		t.Errorf("catalogue.go lists %d functions one a line, the template %d", len(entries), len(tpl.Functions))
	}
	dirs, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	const module = "github.com/waickoff/waickoff/shared/app"
	byID := map[string]string{}
	for _, d := range dirs {
		path := filepath.Join(root, "functions", d.Name(), "main.go")
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("functions/%s: %v", d.Name(), err)
		}
		m := startRE.FindStringSubmatch(string(src))
		if m == nil {
			t.Fatalf("functions/%s/main.go does not call app.StartX(\"<ID>\", <builder>) on one line", d.Name())
		}
		id, builder := m[2], m[3]
		if prev, dup := byID[id]; dup {
			t.Fatalf("%s is started by functions/%s and functions/%s", id, prev, d.Name())
		}
		byID[id] = d.Name()
		if entries[id] != builder {
			t.Errorf("functions/%s starts %s for %s, the catalogue has %q", d.Name(), builder, id, entries[id])
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, src, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		domain := regexp.MustCompile(`^(?:store\.Open\()?(\w+)\.\w+\)?$`).FindStringSubmatch(builder)
		if domain == nil {
			t.Fatalf("functions/%s: builder %s is not <domain>.<Builder> or store.Open(<domain>.<Builder>)", d.Name(), builder)
		}
		want := []string{module, module + "/" + domain[1]}
		if strings.HasPrefix(builder, "store.Open(") {
			want = append(want, module+"/store")
		}
		var got []string
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			got = append(got, p)
		}
		sort.Strings(want)
		sort.Strings(got)
		if !reflect.DeepEqual(got, want) || domain[1] == "catalogue" || domain[1] == "store" {
			t.Errorf("functions/%s imports %v, want its own domain's wiring only: %v", d.Name(), got, want)
		}
		target := regexp.MustCompile(`(?m)^build-` + id + `:\n\t\$\(call lambda,` + regexp.QuoteMeta(d.Name()) + `\)$`)
		if !target.Match(makefile) {
			t.Errorf("Makefile lacks build-%s building ./functions/%s", id, d.Name())
		}
	}
	for _, id := range tpl.FunctionIDs() {
		if _, ok := byID[id]; !ok {
			t.Errorf("template function %s has no functions/<dir>/main.go", id)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^build-\w+Function:`).FindAll(makefile, -1)); n != len(tpl.Functions) {
		t.Errorf("Makefile has %d build targets, template has %d functions", n, len(tpl.Functions))
	}
}
