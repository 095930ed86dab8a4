// Package openapi holds the API's OpenAPI 3 document (openapi.yaml,
// embedded) and serves it as JSON.
package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"gopkg.in/yaml.v3"

	"github.com/waickoff/waickoff/shared/httpapi"
)

//go:embed openapi.yaml
var source []byte

// YAML returns the document as written.
func YAML() []byte { return source }

// JSON returns the document rendered as JSON, or an error when the
// embedded YAML does not decode.
func JSON() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(source, &doc); err != nil {
		return nil, fmt.Errorf("decode openapi.yaml: %w", err)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode openapi document: %w", err)
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
