// Package openapi holds the API's OpenAPI 3 document and serves it as
// JSON. openapi.yaml is the source; `go test ./shared/openapi -update`
// renders it as openapi.json (indented, for people and tools) and as
// openapi.json.gz (compact and compressed: what the binaries embed, so
// that no function links a YAML decoder and the document costs the
// OpenAPI function 16 KB, not 140). TestGolden fails when either differs
// from openapi.yaml.
package openapi

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"net/http"

	"github.com/waickoff/waickoff/shared/httpapi"
)

//go:embed openapi.json.gz
var compressed []byte

// JSON returns the document as compact JSON, or an error when the
// embedded rendering does not decompress.
func JSON() ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(compressed))
	if err != nil {
		return nil, fmt.Errorf("open openapi.json.gz: %w", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("decompress openapi.json.gz: %w", err)
	}
	return b, nil
}

// Handler serves the document.
func Handler(doc []byte) httpapi.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.WriteHeader(http.StatusOK)
		_, err := w.Write(doc)
		return err
	}
}
