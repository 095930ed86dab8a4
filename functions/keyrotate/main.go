// Command keyrotate is the KeyRotateFunction Lambda (template.yaml).
package main

import "github.com/waickoff/waickoff/shared/app"

func main() { app.StartHTTP("KeyRotateFunction", app.KeyRotate) }
