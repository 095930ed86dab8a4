// Package goclient is the Go client oapi-codegen generates from the
// served OpenAPI document (shared/openapi/openapi.json).
// Nothing here is written by hand but this file: tests/contract checks that
// client.gen.go is what the pinned generator makes of the current
// document, and drives the README's walkthrough with it.
package goclient

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../../../shared/openapi/openapi.json
