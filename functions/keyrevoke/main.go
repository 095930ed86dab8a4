// Command keyrevoke is the KeyRevokeFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartHTTP("KeyRevokeFunction", app.KeyRevoke) }
