// Package openapi holds the API's OpenAPI 3 document and serves it as
// JSON. openapi.yaml is the source; openapi.json, which the binaries
// embed, is its rendering (`go test ./shared/openapi -update` writes it,
// TestGolden fails when the two differ), so that no function links a
// YAML decoder.
package openapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/waickoff/waickoff/shared/httpapi"
)

//go:embed openapi.json
var indented []byte

// JSON returns the document as compact JSON, or an error when the
// embedded rendering is not JSON.
func JSON() ([]byte, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, indented); err != nil {
		return nil, fmt.Errorf("compact openapi.json: %w", err)
	}
	return b.Bytes(), nil
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
