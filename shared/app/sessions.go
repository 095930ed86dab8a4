package app

var sessionFunctions = map[string]HTTPBuilder{
	"SessionStartFunction":     SessionStart,
	"SessionListFunction":      SessionList,
	"SessionCurrentFunction":   SessionCurrent,
	"SessionGetFunction":       SessionGet,
	"SessionTerminateFunction": SessionTerminate,
	"QuotaGetFunction":         QuotaGet,
	"QuotaAddFunction":         QuotaAdd,
	"UsageFunction":            Usage,
}

// Endpoints not built yet.
var (
	SessionStart     = pending("POST /api/v1/sessions")
	SessionList      = pending("GET /api/v1/sessions")
	SessionCurrent   = pending("GET /api/v1/sessions/current")
	SessionGet       = pending("GET /api/v1/sessions/{session_id}")
	SessionTerminate = pending("POST /api/v1/sessions/{session_id}/terminate")
	QuotaGet         = pending("GET /api/v1/sessions/quota")
	QuotaAdd         = pending("POST /api/v1/sessions/quota/add")
	Usage            = pending("GET /api/v1/usage")
)
