// Package mcp wires the MCP endpoint (McpFunction): the API's tools over
// the Model Context Protocol, metered by the same session as the HTTP
// endpoints.
package mcp

import (
	"github.com/waickoff/waickoff/shared/app/store"
	"github.com/waickoff/waickoff/shared/caller"
	"github.com/waickoff/waickoff/shared/health"
	"github.com/waickoff/waickoff/shared/httpapi"
	"github.com/waickoff/waickoff/shared/mcpapi"
	"github.com/waickoff/waickoff/shared/quota"
	"github.com/waickoff/waickoff/shared/session"
)

// Server builds POST /api/v1/mcp (READ; metered tool by tool, the
// authorizer handing the route the active session when there is one)
// and its GET and DELETE (405).
func Server(d *store.Deps) (*httpapi.Server, error) {
	sessions := &session.Handlers{Sessions: d.Sessions(), Accounts: d.Quotas(), Now: d.Now}
	quotas := &quota.Handlers{Quotas: d.Quotas(), Prices: d.Prices(), PaymentsMode: d.Config.PaymentsMode, Now: d.Now}
	srv, err := mcpapi.New(mcpapi.Options{Version: d.Config.Version, Meter: d.Meter(),
		Tools: []mcpapi.Tool{
			mcpapi.ComputeIndicator(), mcpapi.Batch(), mcpapi.WyckoffAnalysis(),
			mcpapi.SessionStatus(sessions.Current), mcpapi.Quota(quotas.Get),
			mcpapi.Pricing(health.Pricing(d.Prices(), health.Session{TTL: d.Config.SessionTTL, TokenLimit: d.Config.SessionTokenLimit,
				PaymentsMode: d.Config.PaymentsMode})),
		}})
	if err != nil {
		return nil, err
	}
	s := d.Server()
	s.Handle(mcpapi.Pattern, httpapi.Need(caller.Read), srv.Post)
	s.Handle("GET /api/v1/mcp", httpapi.Need(caller.Read), mcpapi.Reject)
	s.Handle("DELETE /api/v1/mcp", httpapi.Need(caller.Read), mcpapi.Reject)
	return s, nil
}
