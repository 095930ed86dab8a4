package app

var keyFunctions = map[string]HTTPBuilder{
	"AccountCreateFunction": AccountCreate,
	"KeyCreateFunction":     KeyCreate,
	"KeyListFunction":       KeyList,
	"KeyGetFunction":        KeyGet,
	"KeyRevokeFunction":     KeyRevoke,
	"KeyRotateFunction":     KeyRotate,
	"KeyUsageFunction":      KeyUsage,
}

// Endpoints not built yet.
var (
	AccountCreate = pending("POST /api/v1/accounts")
	KeyCreate     = pending("POST /api/v1/keys")
	KeyList       = pending("GET /api/v1/keys")
	KeyGet        = pending("GET /api/v1/keys/{key_id}")
	KeyRevoke     = pending("DELETE /api/v1/keys/{key_id}")
	KeyRotate     = pending("POST /api/v1/keys/{key_id}/rotate")
	KeyUsage      = pending("GET /api/v1/keys/{key_id}/usage")
)
