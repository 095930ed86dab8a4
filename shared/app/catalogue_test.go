package app_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/waickoff/waickoff/shared/app"
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

func testDeps(t *testing.T) *app.Deps {
	t.Helper()
	env := map[string]string{"API_KEYS_TABLE": "k", "SESSIONS_TABLE": "s", "USAGE_TABLE": "u", "QUOTAS_TABLE": "q",
		"DYNAMODB_ENDPOINT": "http://127.0.0.1:1"}
	cfg, err := config.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	d, err := app.NewDeps(context.Background(), cfg, "test", io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Every template function is in the catalogue under the right kind, and
// every catalogue entry is in the template.
func TestCatalogueMatchesTemplate(t *testing.T) {
	tpl, _ := load(t)
	cat := app.Functions()
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
	cat := app.Functions()
	d := testDeps(t)
	for id, build := range cat.HTTP {
		t.Run(id, func(t *testing.T) {
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

var startRE = regexp.MustCompile(`app\.Start\w+\("(\w+)", app\.(\w+)\)`)

// functions/<dir>/main.go starts the catalogue's builder for its logical
// ID, and the Makefile's build-<ID> target builds that directory.
func TestMainsAndMakefileAgree(t *testing.T) {
	tpl, root := load(t)
	cat := app.Functions()
	makefile, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	dirs, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]string{}
	for _, d := range dirs {
		src, err := os.ReadFile(filepath.Join(root, "functions", d.Name(), "main.go"))
		if err != nil {
			t.Fatalf("functions/%s: %v", d.Name(), err)
		}
		m := startRE.FindStringSubmatch(string(src))
		if m == nil {
			t.Fatalf("functions/%s/main.go does not call app.StartX(\"<ID>\", app.<Builder>)", d.Name())
		}
		id, builder := m[1], m[2]
		if prev, dup := byID[id]; dup {
			t.Fatalf("%s is started by functions/%s and functions/%s", id, prev, d.Name())
		}
		byID[id] = d.Name()
		if got := builderName(cat, id); got != builder {
			t.Errorf("functions/%s starts app.%s for %s, the catalogue has app.%s", d.Name(), builder, id, got)
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

func builderName(cat app.Catalogue, id string) string {
	var fn any
	switch {
	case cat.HTTP[id] != nil:
		fn = cat.HTTP[id]
	case cat.Authorizer[id] != nil:
		fn = cat.Authorizer[id]
	case cat.Stream[id] != nil:
		fn = cat.Stream[id]
	case cat.Schedule[id] != nil:
		fn = cat.Schedule[id]
	default:
		return ""
	}
	name := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
	name = name[strings.LastIndex(name, ".")+1:]
	return strings.TrimSuffix(name, "-fm")
}
